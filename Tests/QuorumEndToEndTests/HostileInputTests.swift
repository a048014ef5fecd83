import Foundation
import QuorumStore
import Testing

/// Issue 11: what a hostile input, a careless `--out` and an odd database did
/// to a project, each through the built binary. Every test here failed
/// before its fix.
@Suite struct HostileInputTests {
    func seeded(_ labels: String = "cat,dog") throws -> CLI {
        let cli = CLI()
        try cli.ok(["init", "--labels", labels])
        try cli.ok(["import", try cli.write("seed.jsonl", """
            {"id":"s1","text":"a small cat","label":"cat"}
            {"id":"s2","text":"a big dog","label":"dog"}
            """), "--as", "seed"])
        try cli.ok(["snapshot", "create", "-m", "first"])
        return cli
    }

    var database: String { "quorum.sqlite" }

    // MARK: 1. --out never destroys the project, and replaces a file only with --force

    @Test func outRefusesTheProjectDatabaseAndItsSideFiles() throws {
        let cli = try seeded()
        defer { cli.cleanUp() }
        let db = (cli.project as NSString).appendingPathComponent(database)
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        let link = (cli.project as NSString).appendingPathComponent("alias.db")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: db)
        for target in [db, db + "-wal", db + "-shm", link] {
            for args in [["snapshot", "export", "v1", "--out", target, "--force"],
                         ["report", "--format", "html", "--out", target, "--force"],
                         ["snapshot", "datasheet", "v1", "--out", target, "--force"]] {
                let r = try cli.run(args)
                #expect(r.status == 1, "\(args)")
                #expect(r.stderr.contains("is this project's database"), "\(args): \(r.stderr)")
            }
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before)
        #expect(try cli.ok(["snapshot", "verify", "v1"]).contains("verified"))
    }

    @Test func outReplacesAnExistingFileOnlyWithForce() throws {
        let cli = try seeded()
        defer { cli.cleanUp() }
        for (name, args) in [("x.jsonl", ["snapshot", "export", "v1"]), ("r.html", ["report", "--format", "html"]),
                             ("d.md", ["snapshot", "datasheet", "v1"])] {
            let path = try cli.write(name, "precious\n")
            let r = try cli.run(args + ["--out", path])
            #expect(r.status == 1)
            #expect(r.stderr.contains("already exists") && r.stderr.contains("--force"), "\(r.stderr)")
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "precious\n")
            try cli.ok(args + ["--out", path, "--force"])
            #expect(try String(contentsOfFile: path, encoding: .utf8) != "precious\n")
        }
        // A directory and a missing directory are named in words (item 21), not NSCocoaErrorDomain.
        let dir = try cli.run(["snapshot", "export", "v1", "--out", cli.project])
        #expect(dir.status == 1 && dir.stderr.contains("is a directory"), "\(dir.stderr)")
        let missing = try cli.run(["report", "--format", "html", "--out", "/nonexistent-dir-q/r.html"])
        #expect(missing.status == 1 && missing.stderr.contains("does not exist") && !missing.stderr.contains("NSCocoa"), "\(missing.stderr)")
    }

    // MARK: 2. Control characters never reach a terminal raw

    @Test func idsWithControlOrBidiCharactersAreRefusedAtImport() throws {
        let cli = try seeded()
        defer { cli.cleanUp() }
        for (n, id) in ["a\\nforged", "\\u001b]0;pwned\\u0007", "x\\u202eevil", "c1\\u009b2J"].enumerated() {
            let path = try cli.write("bad\(n).jsonl", "{\"id\":\"ok\(n)\",\"text\":\"fine\"}\n{\"id\":\"\(id)\",\"text\":\"t\"}\n")
            let r = try cli.run(["import", path])
            #expect(r.status == 1)
            #expect(r.stderr.contains("\(path):2: id:") && r.stderr.contains("control or bidi"), "\(r.stderr)")
            #expect(!r.stderr.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x202E || $0.value == 0x9B })
        }
        #expect(try cli.json(["status"])["items"].flatMap { ($0 as? [String: Any])?["pool"] as? Int } == 0)
    }

    @Test func errorsAndLogsShowControlCharactersAsVisibleEscapes() throws {
        let cli = try seeded()
        defer { cli.cleanUp() }
        // A hostile label in a file: quoted in the error message.
        let path = try cli.write("evil.jsonl", "{\"id\":\"e1\",\"text\":\"t\",\"label\":\"\\u001b[2J\\u001b]0;pwned\\u0007\"}\n")
        let r = try cli.run(["import", path, "--as", "seed"])
        #expect(r.status == 1)
        #expect(!r.stderr.contains("\u{1B}") && !r.stderr.contains("\u{07}"), "raw escape on stderr")
        #expect(r.stderr.contains("\\e[2J"), "\(r.stderr)")
        // A snapshot message with escapes and a bidi override: the audit log shows them escaped.
        try cli.ok(["snapshot", "create", "-m", "\u{1B}[2Jwiped \u{202E}txet\nforged line"])
        let log = try cli.ok(["audit", "log"])
        #expect(!log.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x202E }, "\(log)")
        #expect(log.split(separator: "\n").allSatisfy { $0.hasPrefix("#") }, "every line is one event: \(log)")
        let list = try cli.ok(["snapshot", "list"])
        #expect(!list.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x202E })
    }

    // MARK: 3. One Unicode form for ids and labels

    @Test func canonicallyEquivalentIdsAndLabelsAreOne() throws {
        let nfd = "cafe\u{301}", nfc = "caf\u{E9}"
        let cli = CLI()
        defer { cli.cleanUp() }
        try cli.ok(["init", "--labels", "n\u{65}\u{301},plain"])   // "né" typed decomposed
        try cli.ok(["import", try cli.write("a.jsonl", "{\"id\":\"\(nfd)\",\"text\":\"one\",\"label\":\"n\u{E9}\"}\n"), "--as", "seed"])
        let again = try cli.json(["import", try cli.write("b.jsonl", "{\"id\":\"\(nfc)\",\"text\":\"one\",\"label\":\"ne\u{301}\"}\n"), "--as", "seed"])
        #expect(again["duplicates"] as? Int == 1, "the NFC spelling is the same item: \(again)")
        try cli.ok(["import", try cli.write("c.jsonl", "{\"id\":\"z\",\"text\":\"two\",\"label\":\"ne\u{301}\"}\n"), "--as", "seed"])
        try cli.ok(["snapshot", "create"])
        let out = (cli.project as NSString).appendingPathComponent("v1.jsonl")
        try cli.ok(["snapshot", "export", "v1", "--out", out])
        let bytes = try Data(contentsOf: URL(fileURLWithPath: out))
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.split(separator: "\n").count == 2)
        #expect(!bytes.contains(0xCC), "no combining acute (U+0301 = CC 81) left in the export")
        #expect(Array(text.utf8).count == Array(text.precomposedStringWithCanonicalMapping.utf8).count)
        #expect(text.contains("\"label\":\"n\u{E9}\""))
        #expect(text.contains("\"id\":\"\(nfc)\""))
        #expect(text.contains("\"text\":\"one\""), "the export carries each item's text (item 17)")
    }

    // MARK: 5. Foreign, empty and newer databases; read-only commands never write

    @Test func aFileThatIsNotAProjectIsRefusedAndLeftAlone() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        let db = (cli.project as NSString).appendingPathComponent(database)
        _ = FileManager.default.createFile(atPath: db, contents: Data())
        for args in [["status"], ["report"], ["import", try cli.write("p.jsonl", "{\"id\":\"a\",\"text\":\"x\"}\n")]] {
            let r = try cli.run(args)
            #expect(r.status == 1)
            #expect(r.stderr.contains("is not a Quorum project"), "\(args): \(r.stderr)")
        }
        #expect((try FileManager.default.attributesOfItem(atPath: db)[.size] as? Int) == 0, "nothing was written")
        try Data("garbage, not SQLite at all\n".utf8).write(to: URL(fileURLWithPath: db))
        let garbage = try cli.run(["status"])
        #expect(garbage.status == 1 && garbage.stderr.contains("not a SQLite database"), "\(garbage.stderr)")
    }

    @Test func aProjectFromANewerQuorumIsRefusedAndReadOnlyCommandsNeverWrite() throws {
        let cli = try seeded()
        defer { cli.cleanUp() }
        let db = (cli.project as NSString).appendingPathComponent(database)
        // Read-only commands leave the database file byte-identical.
        try cli.ok(["train"])
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        for args in [["status"], ["report"], ["models", "list"], ["snapshot", "list"], ["audit", "verify"], ["annotators", "list"]] {
            try cli.ok(args)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before)
        // A schema step this version does not know: refused by every command, nothing written.
        try SQLiteStore.open(project: cli.project).executeForTesting("INSERT INTO grdb_migrations(identifier) VALUES ('v99-from-the-future')")
        let written = try Data(contentsOf: URL(fileURLWithPath: db))
        for args in [["status"], ["train"], ["snapshot", "create"]] {
            let r = try cli.run(args)
            #expect(r.status == 1)
            #expect(r.stderr.contains("newer Quorum") && r.stderr.contains("v99-from-the-future"), "\(r.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == written)
    }

    // MARK: 6. Re-importing an id with another label or kind is a conflict

    @Test func reimportWithAnotherLabelOrKindIsAConflict() throws {
        let cli = try seeded()
        defer { cli.cleanUp() }
        let label = try cli.write("relabel.jsonl", "{\"id\":\"s1\",\"text\":\"a small cat\",\"label\":\"dog\"}\n")
        let r1 = try cli.run(["import", label, "--as", "seed"])
        #expect(r1.status == 1 && r1.stderr.contains("\(label):1: label:") && r1.stderr.contains("another label"), "\(r1.stderr)")
        let kind = try cli.write("rekind.jsonl", "{\"id\":\"s1\",\"text\":\"a small cat\",\"label\":\"cat\"}\n")
        let r2 = try cli.run(["import", kind, "--as", "test"])
        #expect(r2.status == 1 && r2.stderr.contains("already exists as a seed item, not test"), "\(r2.stderr)")
        // The same id, content, kind and label is still a duplicate.
        let same = try cli.json(["import", kind, "--as", "seed"])
        #expect(same["duplicates"] as? Int == 1)
    }

    // MARK: 7. A bounded lease

    @Test func anUnboundedLeaseIsRefused() throws {
        let cli = try seeded()
        defer { cli.cleanUp() }
        for lease in ["inf", "1e300", "nan", "0", "86401"] {
            let r = try cli.run(["label", "--annotator", "ann", "--lease", lease, "--answers", "x.jsonl"])
            #expect(r.status == 2, "--lease \(lease): \(r.stderr)")
            #expect(r.stderr.contains("--lease must be a number of seconds from 1 to 86400"), "\(r.stderr)")
        }
    }

    // MARK: 13 and 21. Only registered people label; the role check comes first

    @Test func onlyRegisteredPeopleLabelAndRoleChecksComeFirst() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try cli.ok(["init", "--labels", "yes,no"])
        try cli.ok(["import", try cli.write("pool.jsonl", "{\"id\":\"a\",\"text\":\"one\"}\n{\"id\":\"b\",\"text\":\"two\"}\n")])
        try cli.ok(["round", "start", "--size", "2", "--blend", "random=1"])
        let answers = try cli.write("a.jsonl", "{\"id\":\"a\",\"label\":\"yes\"}\n")
        let before = try cli.ok(["status", "--format", "json"])
        let stranger = try cli.run(["label", "--annotator", "anyone", "--answers", answers])
        #expect(stranger.status == 1 && stranger.stderr.contains("anyone is not registered") && stranger.stderr.contains("annotators add anyone"),
                "\(stranger.stderr)")
        #expect(try cli.ok(["status", "--format", "json"]) == before, "nothing was written")
        // Without a terminal, the role is checked before the terminal is asked for.
        let loop = try cli.run(["label", "--annotator", "anyone"])
        #expect(loop.status == 1 && loop.stderr.contains("not registered") && !loop.stderr.contains("terminal"), "\(loop.stderr)")
        let judge = try cli.run(["adjudicate", "--annotator", "anyone"])
        #expect(judge.status == 1 && judge.stderr.contains("is not an adjudicator") && !judge.stderr.contains("terminal"), "\(judge.stderr)")
        // Registered, or an open project: the answer is recorded.
        try cli.ok(["annotators", "add", "ann"])
        #expect(try cli.json(["label", "--annotator", "ann", "--answers", answers])["answered"] as? Int == 1)
        try cli.ok(["annotators", "policy", "open"])
        let other = try cli.write("b.jsonl", "{\"id\":\"b\",\"label\":\"no\"}\n")
        #expect(try cli.json(["label", "--annotator", "anyone", "--answers", other])["answered"] as? Int == 1)
    }

    // MARK: 5. A read-only project can still be read

    /// Copies a project onto a tmpfs remounted read-only (root can mount; as
    /// root, file modes alone would not stop a write).
    @Test(.enabled(if: geteuid() == 0, "mounting a read-only file system needs root"))
    func aProjectOnAReadOnlyFileSystemCanStillBeRead() throws {
        let cli = try seeded()
        defer { cli.cleanUp() }
        let mountPoint = FileManager.default.temporaryDirectory.appendingPathComponent("quorum-ro-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        func run(_ args: [String]) throws -> Int32 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = args
            try p.run()
            p.waitUntilExit()
            return p.terminationStatus
        }
        guard try run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mountPoint]) == 0 else {
            throw Failure("could not mount a tmpfs at \(mountPoint)")
        }
        defer { _ = try? run(["umount", mountPoint]); try? FileManager.default.removeItem(atPath: mountPoint) }
        let copy = mountPoint + "/project"
        try FileManager.default.copyItem(atPath: cli.project, toPath: copy)
        for side in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: copy + "/quorum.sqlite" + side) }
        #expect(try run(["mount", "-o", "remount,ro", mountPoint]) == 0)
        let ro = CLIAt(project: copy)
        let status = try ro.run(["status", "--format", "json"])
        #expect(status.status == 0 && status.stdout.contains("\"seed\":2"), "\(status.stderr)")
        #expect(try ro.run(["snapshot", "verify", "v1"]).status == 0)
        #expect(try ro.run(["audit", "verify"]).status == 0)
        let train = try ro.run(["train"])
        #expect(train.status == 1 && train.stderr.contains("the project is read-only here"), "\(train.stderr)")
    }
}

/// Runs the binary against a project directory other than a `CLI`'s own.
struct CLIAt {
    let project: String
    func run(_ args: [String]) throws -> CLI.Result {
        let p = Process(), out = Pipe(), err = Pipe()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = args + ["--project", project]
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return CLI.Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }
}
