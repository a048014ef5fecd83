import Foundation
import Testing

/// Every malformed input gets a clear message naming the file, the line and
/// the field; the exit code is 1; and nothing is written (status is unchanged).
@Suite struct BadInputTests {
    /// A project with two good items, so "nothing written" is checked against a non-empty state.
    func project() throws -> CLI {
        let cli = CLI()
        try cli.ok(["init", "--labels", "cat,dog"])
        try cli.register()
        try cli.ok(["import", try cli.write("good.jsonl", """
            {"id":"g1","text":"a good cat","vector":[1,2,3],"label":"cat"}
            {"id":"g2","text":"a good dog","vector":[3,2,1],"label":"dog"}
            """), "--as", "seed"])
        return cli
    }

    /// Imports `content` as `name` and checks the failure.
    func expectRejected(_ name: String, _ content: [UInt8], kind: String = "pool", line: Int?, field: String,
                        mentions: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let cli = try project()
        defer { cli.cleanUp() }
        let before = try cli.ok(["status", "--format", "json"])
        let path = try cli.write(name, bytes: content)
        let r = try cli.run(["import", path, "--as", kind])
        #expect(r.status == 1, "exit code", sourceLocation: sourceLocation)
        let location = line.map { "\(path):\($0): \(field):" } ?? "\(path): "
        #expect(r.stderr.contains(location), "stderr should name \(location), got: \(r.stderr)", sourceLocation: sourceLocation)
        if let mentions { #expect(r.stderr.contains(mentions), "stderr: \(r.stderr)", sourceLocation: sourceLocation) }
        #expect(r.stdout.isEmpty, sourceLocation: sourceLocation)
        #expect(try cli.ok(["status", "--format", "json"]) == before, "nothing was written", sourceLocation: sourceLocation)
    }

    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func malformedJSONLine() throws {
        try expectRejected("bad.jsonl", bytes("""
            {"id":"a","text":"fine","vector":[1,2,3]}
            {"id":"b","text":"broken"
            """), line: 2, field: "json")
    }

    @Test func missingID() throws {
        try expectRejected("noid.jsonl", bytes("""
            {"id":"a","text":"one"}
            {"id":"b","text":"two"}
            {"text":"three"}
            """), line: 3, field: "id", mentions: "missing id")
    }

    @Test func missingLabelForSeed() throws {
        try expectRejected("nolabel.jsonl", bytes("""
            {"id":"a","text":"one","label":"cat"}
            {"id":"b","text":"two"}
            """), kind: "seed", line: 2, field: "label", mentions: "missing label")
    }

    @Test func vectorOfTheWrongLength() throws {
        try expectRejected("short.jsonl", bytes("""
            {"id":"a","vector":[1,2,3]}
            {"id":"b","vector":[1,2]}
            """), line: 2, field: "vector", mentions: "2 values")
    }

    @Test func notANumber() throws {
        try expectRejected("nan.jsonl", bytes("""
            {"id":"a","vector":[1,NaN,3]}
            """), line: 1, field: "vector", mentions: "NaN")
    }

    @Test func unknownLabel() throws {
        try expectRejected("unknown.jsonl", bytes("""
            {"id":"a","text":"one","label":"cat"}
            {"id":"b","text":"two","label":"cow"}
            """), kind: "test", line: 2, field: "label", mentions: "\"cow\" is not one of the project's labels (cat, dog)")
    }

    @Test func emptyFile() throws {
        try expectRejected("empty.jsonl", [], line: nil, field: "", mentions: "has no items")
    }

    @Test func invalidUTF8() throws {
        try expectRejected("latin1.jsonl", bytes("{\"id\":\"a\",\"text\":\"ok\"}\n{\"id\":\"b\",\"text\":\"caf") + [0xE9] + bytes("\"}\n"),
                           line: 2, field: "encoding")
    }

    @Test func raggedCSV() throws {
        try expectRejected("ragged.csv", bytes("id,text,source\na,hello,web\nb,world\n"), line: 3, field: "columns")
    }

    @Test func sameIDWithDifferentContent() throws {
        try expectRejected("clash.jsonl", bytes("{\"id\":\"g1\",\"text\":\"not the same\",\"vector\":[1,2,3]}\n"),
                           line: 1, field: "id", mentions: "already exists")
    }

    @Test func initRefusesAnExistingProject() throws {
        let cli = try project()
        defer { cli.cleanUp() }
        let before = try cli.ok(["status", "--format", "json"])
        let r = try cli.run(["init", "--labels", "x,y"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("already exists"))
        #expect(r.stderr.contains("quorum.sqlite"))
        #expect(try cli.ok(["status", "--format", "json"]) == before)
    }

    @Test func badAnswersFileWritesNoAnswer() throws {
        let cli = try project()
        defer { cli.cleanUp() }
        try cli.ok(["import", try cli.write("pool.jsonl", "{\"id\":\"p1\",\"text\":\"x\",\"vector\":[0,0,1]}\n{\"id\":\"p2\",\"text\":\"y\",\"vector\":[1,0,0]}\n")])
        try cli.ok(["round", "start", "--size", "2"])
        let answers = try cli.write("answers.jsonl", "{\"id\":\"p1\",\"label\":\"cat\"}\n{\"id\":\"p2\",\"label\":\"cow\"}\n")
        let r = try cli.run(["label", "--annotator", "ann", "--answers", answers])
        #expect(r.status == 1)
        #expect(r.stderr.contains("\(answers):2: label:"))
        #expect(try cli.json(["round", "status"])["answers"] as? Int == 0, "the good first line was not kept either")
    }

    @Test func usageErrorsExitWithTwo() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        #expect(try cli.run(["init"]).status == 2, "missing --labels")
        #expect(try cli.run(["round", "start", "--size", "0"]).status == 2)
        #expect(try cli.run(["no-such-command"]).status == 2)
        let help = try cli.run(["--help"])
        #expect(help.status == 0)
        for group in ["ANNOTATION LEAD SUBCOMMANDS", "ANNOTATOR SUBCOMMANDS", "ML ENGINEER SUBCOMMANDS"] { #expect(help.stdout.contains(group)) }
    }

    @Test func commandsOutsideAProjectSayHowToStart() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        let r = try cli.run(["status"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("quorum init"))
    }
}
