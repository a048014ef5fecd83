import Foundation
import Testing

/// Issue 15, multi-label projects end to end through the built binary, on the
/// bundled Yeast sample (`datasets/yeast/yeast_600.jsonl`: 103 numeric features,
/// 14 functional classes, about 4.3 per gene): init → import → train → round →
/// answers (scripted, and the interactive loop's toggles through a pty) →
/// consensus → adjudication → close → snapshot → export, the exported label
/// sets checked against the answers.
@Suite struct MultiLabelTests {
    static let classes = (1...14).map { "Class\($0)" }

    /// The sample split the way the demo splits digits: every 5th line test, the first 40 others seed, the rest pool.
    enum Yeast {
        static let lines: [String] = {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            let text = (try? String(contentsOfFile: root.appendingPathComponent("datasets/yeast/yeast_600.jsonl").path, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").map(String.init)
        }()
        static var test: [String] { lines.enumerated().filter { ($0.offset + 1) % 5 == 0 }.map(\.element) }
        static var rest: [String] { lines.enumerated().filter { ($0.offset + 1) % 5 != 0 }.map(\.element) }
        static var seed: [String] { Array(rest.prefix(40)) }
        /// Pool lines without their labels.
        static var pool: [String] {
            rest.dropFirst(40).map { line in
                var object = try! JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
                object["labels"] = nil
                return String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
            }
        }
        /// id → the gene's classes, from the file.
        static let truth: [String: [String]] = {
            var out: [String: [String]] = [:]
            for line in lines {
                let object = try! JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
                out[object["id"] as! String] = object["labels"] as? [String]
            }
            return out
        }()
    }

    /// In the project's label order, as exports and consensus list them.
    static func ordered(_ labels: [String]) -> [String] { classes.filter(labels.contains) }

    static func answersFile(_ cli: CLI, _ name: String, _ sets: [(String, [String])]) throws -> String {
        let lines = sets.map { id, labels in
            String(decoding: try! JSONSerialization.data(withJSONObject: ["id": id, "labels": labels], options: [.sortedKeys]), as: UTF8.self)
        }
        return try cli.write(name, lines.joined(separator: "\n") + "\n")
    }

    static func project(_ cli: CLI) throws {
        let created = try cli.json(["init", "--task", "multi-label", "--labels", classes.joined(separator: ",")])
        #expect(created["task"] as? String == "multi-label")
        #expect(try cli.json(["status"])["task"] as? String == "multi-label")
        try cli.register()
        #expect(try cli.json(["import", try cli.write("pool.jsonl", Yeast.pool.joined(separator: "\n") + "\n")])["imported"] as? Int == 440)
        #expect(try cli.json(["import", try cli.write("seed.jsonl", Yeast.seed.joined(separator: "\n") + "\n"), "--as", "seed"])["imported"] as? Int == 40)
        #expect(try cli.json(["import", try cli.write("test.jsonl", Yeast.test.joined(separator: "\n") + "\n"), "--as", "test"])["imported"] as? Int == 120)
    }

    @Test func aFullMultiLabelRoundExportsTheAnsweredSets() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try Self.project(cli)

        let train = try cli.json(["train", "--members", "2"])
        #expect(train["model_version"] as? String == "m1")
        let perLabel = try #require(train["per_label"] as? [[String: Any]])
        #expect(perLabel.map { $0["label"] as? String } == Self.classes.map { $0 })
        let micro = try #require(train["micro_f1"] as? Double)
        #expect(micro > 0.5, "40 labelled genes: micro F1 well above the all-negative 0")
        #expect((train["hamming_loss"] as? Double ?? 1) < 0.35)
        #expect(train["test_accuracy"] is Double, "exact-set accuracy on the 120 test genes")

        let round = try cli.json(["round", "start", "--size", "20", "--overlap", "2", "--seed", "7"])
        #expect(round["tasks"] as? Int == 20)
        // ann answers with the true sets, from a file covering the whole pool: only her 20 open tasks are answered.
        let poolIDs = Yeast.rest.dropFirst(40).map { line in
            (try! JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any])["id"] as! String
        }
        let ann = try cli.json(["label", "--annotator", "ann", "--answers",
                                try Self.answersFile(cli, "ann.jsonl", poolIDs.map { ($0, Yeast.truth[$0]!) })])
        #expect(ann["answered"] as? Int == 20 && ann["not_open"] as? Int == 420)
        let picked = try #require(try cli.json(["consensus"])["labels"] as? [String: [String]]).keys.sorted()
        #expect(picked.count == 20)
        // bo agrees on 15 and adds Class14 on 5 (that label tied 1–1: a dispute).
        let disputed = Set(picked.filter { !Yeast.truth[$0]!.contains("Class14") }.prefix(5))
        try #require(disputed.count == 5)
        try cli.ok(["label", "--annotator", "bo", "--answers", try Self.answersFile(cli, "bo.jsonl", picked.map { id in
            (id, Yeast.truth[id]! + (disputed.contains(id) ? ["Class14"] : []))
        })])

        let consensus = try cli.json(["consensus"])
        #expect(consensus["items"] as? Int == 20)
        #expect(Set(consensus["dispute_items"] as? [String] ?? []) == disputed)
        let settled = try #require(consensus["labels"] as? [String: [String]])
        #expect(settled.count == 15)
        for (id, labels) in settled { #expect(labels == Self.ordered(Yeast.truth[id]!), "item \(id)") }

        // An adjudicator settles the disputes with the true sets.
        try cli.ok(["annotators", "add", "judge", "--role", "adjudicator"])
        try cli.ok(["adjudicate", "--annotator", "judge", "--answers",
                    try Self.answersFile(cli, "rulings.jsonl", disputed.sorted().map { ($0, Yeast.truth[$0]!) })])
        #expect((try cli.json(["consensus"])["disputes"] as? Int) == 0)

        try cli.ok(["round", "close"])
        // Routing at a confidence works; at a target error it is refused, saying why.
        let refused = try cli.run(["round", "start", "--size", "10", "--target-error", "0.05"])
        #expect(refused.status == 1 && refused.stderr.contains("--target-error is not available for multi-label projects"))
        let report = try cli.json(["report"])
        let first = try #require((report["rounds"] as? [[String: Any]])?.first)
        let agreement = try #require(first["agreement"] as? [String: Any])
        let masi = try #require(agreement["krippendorff_alpha_masi"] as? Double)
        #expect(masi > 0.5 && masi < 1, "15 identical pairs and 5 that differ by one label: high but not perfect")

        let snapshot = try cli.json(["snapshot", "create", "-m", "first multi-label round"])
        #expect(snapshot["items"] as? Int == 40 + 120 + 20)
        let out = (cli.project as NSString).appendingPathComponent("v1.jsonl")
        try cli.ok(["snapshot", "export", "v1", "--format", "jsonl", "--out", out])
        let rows = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        #expect(rows.count == 180)
        for row in rows {
            let id = row["id"] as! String
            #expect(row["label"] == nil, "multi-label rows carry \"labels\", not \"label\"")
            let labels = try #require(row["labels"] as? [String], "row \(id)")
            #expect(labels == Self.ordered(Yeast.truth[id]!), "row \(id): the exported set is the answered (or seed) set")
            if row["source"] as? String == "consensus" {
                let answers = try #require(row["answers"] as? [[String: Any]])
                #expect(answers.count == 2)
                let bo = try #require(answers.first { $0["annotator"] as? String == "bo" }?["labels"] as? [String])
                #expect(bo == Self.ordered(Yeast.truth[id]! + (disputed.contains(id) ? ["Class14"] : [])))
            }
        }
        try cli.ok(["snapshot", "verify", "v1"])
        // The same snapshot exports the same bytes.
        let again = (cli.project as NSString).appendingPathComponent("v1-again.jsonl")
        try cli.ok(["snapshot", "export", "v1", "--format", "jsonl", "--out", again])
        #expect(FileManager.default.contentsEqual(atPath: out, andPath: again))
    }

    @Test func badMultiLabelInputIsRefusedWithFileLineAndField() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try cli.ok(["init", "--task", "multi-label", "--labels", "red,green,blue"])
        try cli.register()
        func refused(_ lines: String, as kind: String = "seed") throws -> String {
            let r = try cli.run(["import", try cli.write("bad.jsonl", lines), "--as", kind])
            #expect(r.status == 1)
            return r.stderr
        }
        #expect(try refused(#"{"id":"a","text":"x","labels":["red"]}\#n{"id":"b","text":"y","labels":["purple"]}\#n"#)
            .contains("bad.jsonl:2: labels: \"purple\" is not one of the project's labels"))
        #expect(try refused(#"{"id":"a","text":"x","labels":"red"}\#n"#).contains("bad.jsonl:1: labels: \"labels\" must be a list of labels"))
        #expect(try refused(#"{"id":"a","text":"x","labels":["red","red"]}\#n"#).contains("appears twice"))
        #expect(try refused(#"{"id":"a","text":"x","labels":[null]}\#n"#).contains("bad.jsonl:1: labels:"))
        #expect(try refused(#"{"id":"a","text":"x"}\#n"#).contains("bad.jsonl:1: labels: missing label"))
        #expect(try cli.json(["status"])["items"] as? [String: Int] == ["pool": 0, "seed": 0, "test": 0, "gold": 0],
                "nothing was half-imported")
        // An empty set is a label set too.
        try cli.ok(["import", try cli.write("seed.jsonl", #"{"id":"a","text":"x","labels":[]}\#n{"id":"b","text":"y","labels":["blue","red"]}\#n"#), "--as", "seed"])
        // A single-label project refuses lists.
        let single = CLI()
        defer { single.cleanUp() }
        try single.ok(["init", "--labels", "red,green"])
        let r = try single.run(["import", try single.write("s.jsonl", #"{"id":"a","text":"x","label":["red"]}\#n"#), "--as", "seed"])
        #expect(r.status == 1 && r.stderr.contains("s.jsonl:1: label: \"label\" is a list, but this project takes one label per item"))
        // Methods that need single labels say so.
        let m = try cli.run(["consensus", "--method", "weighted"])
        #expect(m.status == 1 && m.stderr.contains("not available for multi-label projects"))
    }

    /// The interactive loop: keys toggle labels, the suggestion pre-selects, Enter submits the set.
    @Test func keysToggleLabelsAndEnterSubmitsTheSet() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try cli.ok(["init", "--task", "multi-label", "--labels", "red,green,blue"])
        try cli.register()
        try cli.ok(["import", try cli.write("pool.jsonl", """
            {"id":"a","text":"the first item to label"}
            {"id":"b","text":"the second item to label"}
            {"id":"c","text":"the third item to label"}
            """)])
        try cli.ok(["round", "start", "--size", "3"])
        let s = try PTYSession(cli, args: ["label", "--annotator", "ann"])
        try s.waitFor("left 3")
        #expect(s.screen.contains("[1] ·red  [2] ·green  [3] ·blue"))
        try s.press("1", expect: "✓red")
        try s.press("3", expect: "✓blue")
        try s.press("1", expect: "− red")
        try s.press("\r", expect: "→ blue")          // the first item: {blue}
        try s.press("\r", expect: "→ no labels")     // the second: the empty set
        try s.press("2", expect: "✓green")
        try s.press("3", expect: "✓blue")
        try s.press("\r", expect: "3 answered")      // the third: {green, blue}; then no task is left
        #expect(s.finish() == 0)
        let consensus = try cli.json(["consensus"])
        let labels = try #require(consensus["labels"] as? [String: [String]])
        #expect(labels.count == 3)
        #expect(Set(labels.values.map { $0.joined(separator: "+") }) == ["blue", "", "green+blue"])
    }
}
