import Foundation
import Testing

/// Issue 15, preference projects end to end through the built binary. The
/// pairs are built from the bundled WordNet verbs by a stated rule: pair i puts
/// the i-th motion verb sense and the i-th communication verb sense side by
/// side (the motion one as `a` when i is even, as `b` when odd) under the
/// prompt "Which verb sense is about movement?"; the true answer is the side
/// holding the motion sense.
@Suite struct PreferenceTests {
    static let prompt = "Which verb sense is about movement?"

    struct Pair { var id: String; var a: String; var b: String; var truth: String }

    static let pairs: [Pair] = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = (try? String(contentsOfFile: root.appendingPathComponent("datasets/wordnet_verbs/wordnet_verbs_2000.jsonl").path, encoding: .utf8)) ?? ""
        var motion: [String] = [], communication: [String] = []
        for line in text.split(separator: "\n") {
            let object = try! JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            switch object["label"] as? String {
            case "motion": motion.append(object["text"] as! String)
            case "communication": communication.append(object["text"] as! String)
            default: break
            }
        }
        return (0..<120).map { i in
            i % 2 == 0 ? Pair(id: String(format: "pair-%03d", i), a: motion[i], b: communication[i], truth: "a")
                       : Pair(id: String(format: "pair-%03d", i), a: communication[i], b: motion[i], truth: "b")
        }
    }()

    static func lines(_ pairs: ArraySlice<Pair>, labelled: Bool) -> String {
        pairs.map { p in
            var object: [String: Any] = ["id": p.id, "prompt": prompt, "a": p.a, "b": p.b, "source": "wordnet"]
            if labelled { object["label"] = p.truth }
            return String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }.joined(separator: "\n") + "\n"
    }

    static func answers(_ cli: CLI, _ name: String, _ given: [(String, String)]) throws -> String {
        try cli.write(name, given.map { #"{"id":"\#($0.0)","label":"\#($0.1)"}"# }.joined(separator: "\n") + "\n")
    }

    @Test func aFullPreferenceRoundExportsDPOPairs() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        let created = try cli.json(["init", "--task", "preference"])
        #expect(created["task"] as? String == "preference")
        #expect(created["labels"] as? [String] == ["a", "b", "tie"])
        try cli.register()
        let truth = Dictionary(uniqueKeysWithValues: Self.pairs.map { ($0.id, $0) })
        try cli.ok(["import", try cli.write("seed.jsonl", Self.lines(Self.pairs[0..<60], labelled: true)), "--as", "seed"])
        try cli.ok(["import", try cli.write("test.jsonl", Self.lines(Self.pairs[60..<80], labelled: true)), "--as", "test"])
        #expect(try cli.json(["import", try cli.write("pool.jsonl", Self.lines(Self.pairs[80..<120], labelled: false))])["imported"] as? Int == 40)

        let train = try cli.json(["train", "--members", "2"])
        let accuracy = try #require(train["test_accuracy"] as? Double)
        #expect(accuracy >= 0.7, "60 pairs teach movement words: well above the coin's 0.5 on the 20 test pairs")

        let round = try cli.json(["round", "start", "--size", "10", "--overlap", "2", "--seed", "5"])
        #expect(round["tasks"] as? Int == 10)
        let poolIDs = Self.pairs[80..<120].map(\.id)
        let ann = try cli.json(["label", "--annotator", "ann", "--answers", try Self.answers(cli, "ann.jsonl", poolIDs.map { ($0, truth[$0]!.truth) })])
        #expect(ann["answered"] as? Int == 10)
        let picked = try #require(try cli.json(["consensus"])["labels"] as? [String: String]).keys.sorted()
        // bo agrees on 7, calls 2 a tie and prefers the other side once: 3 disputes.
        var bo: [(String, String)] = []
        for (n, id) in picked.enumerated() {
            let t = truth[id]!.truth
            bo.append((id, n < 2 ? "tie" : n == 2 ? (t == "a" ? "b" : "a") : t))
        }
        try cli.ok(["label", "--annotator", "bo", "--answers", try Self.answers(cli, "bo.jsonl", bo)])
        let consensus = try cli.json(["consensus"])
        #expect(Set(consensus["dispute_items"] as? [String] ?? []) == Set(picked.prefix(3)))
        // The adjudicator rules the first a tie and the others by the rule.
        try cli.ok(["annotators", "add", "judge", "--role", "adjudicator"])
        try cli.ok(["adjudicate", "--annotator", "judge", "--answers", try Self.answers(cli, "rulings.jsonl",
                    picked.prefix(3).enumerated().map { ($0.element, $0.offset == 0 ? "tie" : truth[$0.element]!.truth) })])
        try cli.ok(["round", "close"])
        let report = try cli.json(["report"])
        let agreement = try #require((report["rounds"] as? [[String: Any]])?.first?["agreement"] as? [String: Any])
        #expect(agreement["krippendorff_alpha"] is Double, "α over {a, b, tie}")

        try cli.ok(["snapshot", "create"])
        let out = (cli.project as NSString).appendingPathComponent("dpo.jsonl")
        try cli.ok(["snapshot", "export", "v1", "--format", "dpo", "--out", out])
        let rows = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        #expect(rows.count == 60 + 20 + 9, "seed and test pairs, and the round's pairs but the one ruled a tie")
        #expect(rows.map { $0["id"] as! String } == rows.map { $0["id"] as! String }.sorted())
        #expect(!rows.contains { $0["id"] as? String == picked[0] }, "a tie teaches no preference")
        for row in rows {
            let pair = truth[row["id"] as! String]!
            #expect(Set(row.keys) == ["id", "prompt", "chosen", "rejected"])
            #expect(row["prompt"] as? String == Self.prompt)
            #expect(row["chosen"] as? String == (pair.truth == "a" ? pair.a : pair.b), "\(pair.id): chosen is the motion sense")
            #expect(row["rejected"] as? String == (pair.truth == "a" ? pair.b : pair.a))
        }
    }

    /// Routing at a target error: the preference model keeps its out-of-fold reliability record.
    @Test func roundsRouteAtATargetError() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try cli.ok(["init", "--task", "preference"])
        try cli.ok(["import", try cli.write("seed.jsonl", Self.lines(Self.pairs[0..<100], labelled: true)), "--as", "seed"])
        try cli.ok(["import", try cli.write("pool.jsonl", Self.lines(Self.pairs[100..<120], labelled: false))])
        try cli.ok(["train", "--members", "2"])
        let round = try cli.json(["round", "start", "--size", "5", "--target-error", "0.3"])
        let error = try #require(round["estimated_error"] as? Double, "a threshold estimated from the out-of-fold reliability record")
        #expect(error <= 0.3)
        #expect((round["auto_accepted"] as? Int ?? 0) > 0, "confident pairs are auto-accepted")
    }

    @Test func badPreferenceInputIsRefused() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try cli.ok(["init", "--task", "preference"])
        let missing = try cli.run(["import", try cli.write("bad.jsonl", #"{"id":"x","prompt":"p","a":"one"}"# + "\n")])
        #expect(missing.status == 1 && missing.stderr.contains("bad.jsonl:1: b: missing response \"b\""))
        let notText = try cli.run(["import", try cli.write("bad2.jsonl", #"{"id":"x","prompt":"p","a":"one","b":3}"# + "\n")])
        #expect(notText.status == 1 && notText.stderr.contains("bad2.jsonl:1: b: response \"b\" must be a string"))
        let label = try cli.run(["import", try cli.write("bad3.jsonl", #"{"id":"x","prompt":"p","a":"one","b":"two","label":"c"}"# + "\n"), "--as", "seed"])
        #expect(label.status == 1 && label.stderr.contains("bad3.jsonl:1: label: \"c\" is not one of the project's labels (a, b, tie)"))
        let labels = try cli.run(["init", "--task", "preference", "--labels", "x,y", "--project", cli.project + "/other"])
        #expect(labels.status == 1 && labels.stderr.contains("always a, b and tie"))
        // The same prompt with other responses is another item, not a duplicate.
        try cli.ok(["import", try cli.write("ok.jsonl", #"{"id":"x","prompt":"p","a":"one","b":"two"}"# + "\n" + #"{"id":"y","prompt":"p","a":"one","b":"three"}"# + "\n")])
        let dup = try cli.run(["import", try cli.write("ok2.jsonl", #"{"id":"x","prompt":"p","a":"one","b":"changed"}"# + "\n")])
        #expect(dup.status == 1, "the same id with other responses is a conflict")
        // A single-label project has no DPO export.
        let single = CLI()
        defer { single.cleanUp() }
        try single.ok(["init", "--labels", "p,q"])
        try single.ok(["import", try single.write("s.jsonl", #"{"id":"a","text":"x","label":"p"}"# + "\n"), "--as", "seed"])
        try single.ok(["snapshot", "create"])
        let dpo = try single.run(["snapshot", "export", "v1", "--format", "dpo", "--out", single.project + "/d.jsonl"])
        #expect(dpo.status == 1 && dpo.stderr.contains("--format dpo is for preference projects"))
    }

    /// The interactive loop shows the prompt and both responses; keys 1, 2, 3 answer a, b, tie.
    @Test func keysAnswerABOrTie() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try cli.ok(["init", "--task", "preference"])
        try cli.register()
        try cli.ok(["import", try cli.write("pool.jsonl", Self.lines(Self.pairs[0..<3], labelled: false))])
        try cli.ok(["round", "start", "--size", "3"])
        let s = try PTYSession(cli, args: ["label", "--annotator", "ann"])
        try s.waitFor("left 3")
        #expect(s.screen.contains("── a ──") && s.screen.contains("── b ──") && s.screen.contains(Self.prompt))
        #expect(s.screen.contains("[1] a  [2] b  [3] tie"))
        try s.press("1", expect: "→ a")
        try s.press("3", expect: "→ tie")
        try s.press("2", expect: "3 answered")
        #expect(s.finish() == 0)
        let labels = try #require(try cli.json(["consensus"])["labels"] as? [String: String])
        #expect(labels.values.sorted() == ["a", "b", "tie"], "a tie answer is a label (a tie in the votes is a dispute)")
    }
}
