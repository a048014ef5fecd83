import Foundation
import Testing

/// `consensus --method weighted` and `--method model-aware` on a real small round of the
/// bundled digits, through the built binary, checked against the dataset's labels.
@Suite struct ConsensusMethodsTests {
    /// A project with pool, 40 seed, test and (optionally) 60 gold digits, trained (m1).
    static func project(gold: Bool) throws -> CLI {
        let cli = CLI()
        try cli.ok(["init", "--labels", "0,1,2,3,4,5,6,7,8,9"])
        try cli.register()
        let goldLines = Array(Digits.pool.prefix(gold ? 60 : 0))
        let files: [(String, [String], String)] = [("pool.jsonl", Array(Digits.pool.dropFirst(goldLines.count)), "pool"),
                                                   ("seed.jsonl", Digits.seed, "seed"), ("test.jsonl", Digits.test, "test"),
                                                   ("gold.jsonl", goldLines, "gold")]
        for (name, lines, kind) in files where !lines.isEmpty {
            try cli.ok(["import", try cli.write(name, lines.joined(separator: "\n") + "\n"), "--as", kind])
        }
        try cli.ok(["train"])
        return cli
    }

    /// An answers file over the whole dataset: `label(id, index, truth)` per line.
    static func answers(_ cli: CLI, _ name: String, _ label: (String, Int, String) -> String) throws -> String {
        let ids = Digits.truth.keys.sorted()
        let lines = ids.enumerated().map { index, id in
            "{\"id\":\"\(id)\",\"label\":\"\(label(id, index, Digits.truth[id]!))\"}"
        }
        return try cli.write(name, lines.joined(separator: "\n") + "\n")
    }

    static func correct(_ labels: [String: String]) -> Int { labels.filter { Digits.truth[$0.key] == $0.value }.count }

    /// Three annotators per item: alice gives the true label, carol and dave always "1".
    /// Majority vote follows the two who agree; weighted majority knows from the gold items
    /// mixed into the round (a quarter of it) that only alice is reliable.
    @Test func weightedMajorityTrustsTheAnnotatorsGoldVouchesFor() throws {
        let cli = try Self.project(gold: true)
        defer { cli.cleanUp() }
        let round = try cli.json(["round", "start", "--size", "40", "--overlap", "3", "--gold-rate", "0.25", "--seed", "5"])
        let tasks = try #require(round["tasks"] as? Int)
        let files = ["alice": try Self.answers(cli, "alice.jsonl") { _, _, truth in truth },
                     "carol": try Self.answers(cli, "carol.jsonl") { _, _, _ in "1" },
                     "dave": try Self.answers(cli, "dave.jsonl") { _, _, _ in "1" }]
        for (name, file) in files.sorted(by: { $0.key < $1.key }) {
            #expect(try cli.json(["label", "--annotator", name, "--answers", file])["answered"] as? Int == tasks)
        }

        let majority = try cli.json(["consensus", "--method", "majority"])
        let majorityLabels = try #require(majority["labels"] as? [String: String])
        let weighted = try cli.json(["consensus", "--method", "weighted"])
        #expect(weighted["method"] as? String == "weighted")
        #expect(weighted["items"] as? Int == tasks)
        #expect(weighted["disputes"] as? Int == 0)
        let labels = try #require(weighted["labels"] as? [String: String])
        #expect(labels.count == tasks)
        for (id, label) in labels { #expect(Digits.truth[id] == label, "\(id)") }
        #expect(Self.correct(majorityLabels) < tasks / 2, "majority follows carol and dave: \(Self.correct(majorityLabels)) of \(tasks)")
        let annotators = try #require(weighted["annotators"] as? [[String: Any]])
        let weight = Dictionary(uniqueKeysWithValues: annotators.map { ($0["name"] as! String, $0["weight"] as! Double) })
        #expect(weight["alice"]! > weight["carol"]! + weight["dave"]!, "alice outvotes the two together")
        print("e2e weighted: \(tasks) items, weighted \(Self.correct(labels)) right, majority \(Self.correct(majorityLabels)) right; weights \(weight)")
    }

    /// Two annotators per item: alice gives the true label, bob a wrong one on every other
    /// line of the dataset. Majority vote can only dispute their 1–1 ties; model-aware
    /// consensus lets the live model (trained on 40 seed labels) break them.
    @Test func modelAwareBreaksTiesWithTheModel() throws {
        let cli = try Self.project(gold: false)
        defer { cli.cleanUp() }
        let round = try cli.json(["round", "start", "--size", "40", "--overlap", "2", "--seed", "5"])
        let tasks = try #require(round["tasks"] as? Int)
        let alice = try Self.answers(cli, "alice.jsonl") { _, _, truth in truth }
        let bob = try Self.answers(cli, "bob.jsonl") { _, index, truth in index % 2 == 0 ? truth : String((Int(truth)! + 3) % 10) }
        try cli.ok(["label", "--annotator", "alice", "--answers", alice])
        try cli.ok(["label", "--annotator", "bob", "--answers", bob])

        let majority = try cli.json(["consensus", "--method", "majority"])
        let majorityLabels = try #require(majority["labels"] as? [String: String])
        let ties = try #require(majority["disputes"] as? Int)
        #expect(ties > 0)
        #expect(Self.correct(majorityLabels) == majorityLabels.count, "where both agree, both are right")

        let aware = try cli.json(["consensus", "--method", "model-aware", "--dispute-below", "0"])
        #expect(aware["method"] as? String == "model-aware")
        #expect(aware["items"] as? Int == tasks)
        #expect((aware["model_weight"] as? Double ?? 0) > 0)
        let labels = try #require(aware["labels"] as? [String: String])
        print("e2e model-aware: \(tasks) items, \(ties) majority ties; model-aware \(Self.correct(labels)) right of \(labels.count) settled, "
              + "majority \(Self.correct(majorityLabels)) right; model weight \(aware["model_weight"]!)")
        #expect(Self.correct(labels) > Self.correct(majorityLabels), "the model settles ties, mostly right")
        for (id, label) in majorityLabels { #expect(labels[id] == label, "\(id): agreeing annotators are not overruled") }

        // The default threshold (0.5) may turn the least certain tie-breaks back into disputes.
        let strict = try cli.json(["consensus", "--method", "model-aware"])
        #expect(strict["dispute_below"] as? Double == 0.5)
        #expect((strict["disputes"] as? Int ?? -1) <= ties)
        let bad = try cli.run(["consensus", "--method", "model-aware", "--dispute-below", "1.5"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--dispute-below"))

        // A ruling outranks the method: rule on one tie against model-aware's choice.
        let disputed = try #require((try cli.json(["consensus", "--method", "majority"])["dispute_items"] as? [String])?.first)
        let ruling = String((Int(labels[disputed]!)! + 5) % 10)
        try cli.ok(["annotators", "add", "judy", "--role", "adjudicator"])
        try cli.ok(["adjudicate", "--annotator", "judy", "--answers",
                    try cli.write("ruling.jsonl", "{\"id\":\"\(disputed)\",\"label\":\"\(ruling)\"}\n")])
        let ruled = try cli.json(["consensus", "--method", "model-aware", "--dispute-below", "0"])
        #expect((ruled["labels"] as? [String: String])?[disputed] == ruling)
    }

    @Test func modelAwareWithoutAModelSaysWhatToDo() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try cli.ok(["init", "--labels", "a,b"])
        try cli.register()
        let r = try cli.run(["consensus", "--method", "model-aware"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("quorum train"))
    }
}

/// `--extra-annotator-below`: unsure items get one more annotator before they can go to adjudication.
@Suite struct ExtraAnnotatorTests {
    @Test func unsureItemsGetOneMoreAnnotatorBeforeAdjudication() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try cli.ok(["init", "--labels", "yes,no"])
        try cli.register()
        try cli.ok(["import", try cli.write("pool.jsonl", ["a", "b", "c", "d"].map { #"{"id":"\#($0)","text":"item \#($0) text"}"# }
            .joined(separator: "\n") + "\n")])
        try cli.ok(["round", "start", "--size", "4", "--overlap", "2", "--diversity", "none"])
        func answer(_ who: String, _ labels: [String: String]) throws -> [String: Any] {
            let file = try cli.write("\(who).jsonl", labels.sorted { $0.key < $1.key }
                .map { #"{"id":"\#($0.key)","label":"\#($0.value)"}"# }.joined(separator: "\n") + "\n")
            return try cli.json(["label", "--annotator", who, "--answers", file])
        }
        _ = try answer("ann", ["a": "yes", "b": "yes", "c": "yes", "d": "yes"])
        _ = try answer("bo", ["a": "yes", "b": "no", "c": "yes", "d": "no"])
        var c = try cli.json(["consensus", "--extra-annotator-below", "0.7"])
        #expect(c["awaiting_another_annotator"] as? [String] == ["b", "d"], "the two ties wait for a third annotator")
        #expect(c["disputes"] as? Int == 0)
        #expect((c["labels"] as? [String: String]) == ["a": "yes", "c": "yes"])
        #expect(try cli.json(["round", "status"])["answers_wanted"] as? Int == 10)
        // Not yet adjudicable: they are still being answered.
        try cli.ok(["annotators", "add", "lead", "--role", "adjudicator"])
        let ruling = try cli.write("ruling.jsonl", #"{"id":"b","label":"no"}"# + "\n")
        #expect(try cli.json(["adjudicate", "--annotator", "lead", "--answers", ruling])["not_disputed"] as? Int == 1)
        // A third annotator is offered exactly the two unsure items.
        #expect(try answer("cy", ["a": "no", "b": "yes", "c": "no", "d": "no"])["answered"] as? Int == 2)
        // `consensus` with no options reuses the remembered settings; no item is extended twice.
        c = try cli.json(["consensus"])
        #expect(c["method"] as? String == "majority")
        #expect((c["awaiting_another_annotator"] as? [String])?.isEmpty == true)
        #expect((c["labels"] as? [String: String]) == ["a": "yes", "b": "yes", "c": "yes", "d": "no"])
        #expect(try cli.json(["round", "status"])["answers_wanted"] as? Int == 10)
        #expect(try cli.json(["round", "status"])["complete_tasks"] as? Int == 4)
    }
}
