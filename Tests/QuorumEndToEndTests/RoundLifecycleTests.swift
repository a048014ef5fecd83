import Foundation
import Testing

/// Issue 11, item 15: previews are previews, `--size` is the round's task
/// count, and a round nobody answered is cancelled or force-closed, never
/// counted toward the stopping signal.
@Suite struct RoundLifecycleTests {
    /// Digits: 40 seed, 60 gold, the test split, the rest pool; trained (m1).
    func project() throws -> CLI {
        let cli = CLI()
        try cli.ok(["init", "--labels", "0,1,2,3,4,5,6,7,8,9"])
        try cli.register()
        try cli.ok(["import", try cli.write("seed.jsonl", Digits.seed.joined(separator: "\n")), "--as", "seed"])
        try cli.ok(["import", try cli.write("test.jsonl", Digits.test.joined(separator: "\n")), "--as", "test"])
        try cli.ok(["import", try cli.write("gold.jsonl", Digits.pool.prefix(60).joined(separator: "\n")), "--as", "gold"])
        try cli.ok(["import", try cli.write("pool.jsonl", Digits.pool.dropFirst(60).joined(separator: "\n"))])
        try cli.ok(["train", "--members", "2"])
        return cli
    }

    func eventCount(_ cli: CLI) throws -> Int {
        try #require(try cli.json(["audit", "log"])["events"] as? [Any]).count
    }

    @Test func sizeCountsEveryTaskAndDryRunsWriteNothing() throws {
        let cli = try project()
        defer { cli.cleanUp() }
        let status = try cli.ok(["status", "--format", "json"])
        let events = try eventCount(cli)
        // Auto-accepting with audits, previewed: 40 tasks, audits included, and nothing written.
        let preview = try cli.json(["round", "start", "--size", "40", "--auto-accept", "0.95", "--dry-run"])
        #expect(preview["tasks"] as? Int == 40, "\(preview)")
        #expect(try cli.ok(["status", "--format", "json"]) == status)
        #expect(try eventCount(cli) == events)
        let text = try cli.ok(["round", "start", "--size", "40", "--auto-accept", "0.95", "--dry-run"])
        #expect(text.hasPrefix("Dry run, nothing was written."))
        let real = try cli.json(["round", "start", "--size", "40", "--auto-accept", "0.95"])
        #expect(real["tasks"] as? Int == 40)
        let byStrategy = try #require(real["by_strategy"] as? [String: Int])
        #expect(byStrategy.values.reduce(0, +) == 40)
        #expect((byStrategy["audit"] ?? 0) > 0, "audits come out of --size: \(byStrategy)")
        try cli.ok(["round", "cancel"])
        // Gold tasks come out of --size too.
        let gold = try cli.json(["round", "start", "--size", "30", "--gold-rate", "0.1"])
        #expect(gold["tasks"] as? Int == 30)
        #expect((gold["by_strategy"] as? [String: Int])?["gold"] == 3)
        // A consensus preview saves neither its method nor anything else.
        try cli.ok(["label", "--annotator", "ann", "--answers", Digits.path])
        let before = try eventCount(cli)
        let dry = try cli.json(["consensus", "--method", "dawid-skene", "--extra-annotator-below", "0.99", "--dry-run"])
        #expect(dry["method"] as? String == "dawid-skene")
        #expect(try eventCount(cli) == before)
        #expect(try cli.json(["consensus", "--dry-run"])["method"] as? String == "majority", "the method was not remembered")
    }

    @Test func anUnansweredRoundIsCancelledOrForceClosedAndNeverCounts() throws {
        let cli = try project()
        defer { cli.cleanUp() }
        let first = try cli.json(["round", "start", "--size", "10", "--seed", "3"])
        let close = try cli.run(["round", "close"])
        #expect(close.status == 1 && close.stderr.contains("has no answers") && close.stderr.contains("round cancel"), "\(close.stderr)")
        // Cancelled: the round is withdrawn and its items can be picked again.
        let picked = Set(try #require(try cli.json(["round", "status"])["picks"] as? [[String: Any]]).compactMap { $0["id"] as? String })
        #expect(picked.count == 10)
        #expect(try cli.ok(["round", "cancel"]).contains("Round \(first["round"] as! Int) is cancelled"))
        #expect(try cli.json(["status"])["open_tasks"] as? Int == 0)
        let again = try cli.json(["round", "start", "--size", "10", "--seed", "3"])
        let repicked = Set(try #require(try cli.json(["round", "status"])["picks"] as? [[String: Any]]).compactMap { $0["id"] as? String })
        #expect(repicked == picked, "the same seed and state pick the same items again")
        #expect(again["round"] as? Int == 2)
        // Answered rounds cannot be cancelled.
        try cli.ok(["label", "--annotator", "ann", "--answers", Digits.path])
        let refused = try cli.run(["round", "cancel"])
        #expect(refused.status == 1 && refused.stderr.contains("already has 10 answers"), "\(refused.stderr)")
        try cli.ok(["round", "close"])
        // Forced close of an empty round: recorded, but no stopping signal from it.
        try cli.ok(["round", "start", "--size", "10"])
        let forced = try cli.json(["round", "close", "--force"])
        #expect(forced["stop"] as? Bool == false)
        #expect(forced["prediction_stability"] is NSNull)
        #expect((forced["stop_reason"] as? String)?.contains("not counted toward the stopping signal") == true)
    }
}
