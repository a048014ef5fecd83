import Foundation
import Testing

/// Issue 14, item 1: the operating figures of a scripted round, each checked
/// against a value computed here by hand from what the script did.
@Suite struct KPITests {
    @Test func aScriptedRoundHasTheKPIsComputedByHand() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try cli.ok(["init", "--labels", "0,1,2,3,4,5,6,7,8,9"])
        try cli.register(["alice", "bob"])
        _ = try cli.json(["annotators", "add", "lee", "--role", "adjudicator"])
        // 200 pool items; even lines are due long ago, odd lines far ahead.
        var due: [String: String] = [:]
        let pool = try Digits.pool.prefix(200).enumerated().map { i, line -> String in
            var object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let when = i % 2 == 0 ? "2000-01-01T00:00:00Z" : "2100-01-01T00:00:00Z"
            object["due"] = when
            due[object["id"] as! String] = when
            return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        }
        try cli.ok(["import", try cli.write("pool.jsonl", pool.joined(separator: "\n") + "\n")])
        try cli.ok(["import", try cli.write("seed.jsonl", Digits.seed.joined(separator: "\n") + "\n"), "--as", "seed"])
        try cli.ok(["import", try cli.write("test.jsonl", Digits.test.joined(separator: "\n") + "\n"), "--as", "test"])
        // An external model that always suggests "0": every suggestion shown is known.
        let predictions = Digits.pool.prefix(200).map { line -> String in
            let id = (try! JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any])["id"] as! String
            let probs = (0..<10).map { "\"\($0)\": \($0 == 0 ? 0.55 : 0.05)" }.joined(separator: ", ")
            return "{\"id\": \"\(id)\", \"probs\": {\(probs)}}"
        }
        try cli.ok(["predictions", "import", try cli.write("preds.jsonl", predictions.joined(separator: "\n") + "\n"), "--model", "zero"])
        try cli.ok(["round", "start", "--size", "20", "--overlap", "2", "--gold-rate", "0", "--blind-rate", "0",
                    "--deadline-field", "due", "--seed", "1"])
        let picked = try #require(try cli.json(["round", "status"])["picks"] as? [[String: Any]]).map { $0["id"] as! String }.sorted()
        #expect(picked.count == 20)

        // alice gives every true label; bob the true label on the first 15, a wrong one on the last 5.
        func answers(_ wrong: Set<String>) -> String {
            picked.map { id in
                let truth = Int(Digits.truth[id]!)!
                return "{\"id\": \"\(id)\", \"label\": \"\(wrong.contains(id) ? (truth + 1) % 10 : truth)\"}"
            }.joined(separator: "\n") + "\n"
        }
        let disputed = Set(picked.suffix(5))
        try cli.ok(["label", "--annotator", "alice", "--answers", try cli.write("alice.jsonl", answers([]))])
        try cli.ok(["label", "--annotator", "bob", "--answers", try cli.write("bob.jsonl", answers(disputed))])
        #expect(try cli.json(["consensus"])["disputes"] as? Int == 5)
        let rulings = picked.filter(disputed.contains).map { "{\"id\": \"\($0)\", \"label\": \"\(Digits.truth[$0]!)\"}" }
        try cli.ok(["adjudicate", "--annotator", "lee", "--answers", try cli.write("rulings.jsonl", rulings.joined(separator: "\n") + "\n")])
        let closed = try cli.json(["round", "close"])

        // By hand.
        let given = picked.map { Digits.truth[$0]! } + picked.map { disputed.contains($0) ? String((Int(Digits.truth[$0]!)! + 1) % 10) : Digits.truth[$0]! }
        let overrides = Double(given.filter { $0 != "0" }.count) / 40
        let corrections = Double(picked.filter { Digits.truth[$0]! != "0" }.count) / 20   // every consensus label is the truth
        let onTime = Double(picked.filter { due[$0] == "2100-01-01T00:00:00Z" }.count) / 20

        let report = try cli.json(["report"])
        let round = try #require((report["rounds"] as? [[String: Any]])?.first)
        let kpis = try #require(round["kpis"] as? [String: Any])
        #expect(Set(kpis.keys) == ["escalation_rate", "override_rate", "correction_rate", "auto_accept_rate", "audit_pass_rate",
                                   "time_to_human_p50_s", "time_to_human_p90_s", "adjudication_p50_s", "sla_met_rate", "ece", "drift_psi"])
        #expect(kpis["escalation_rate"] as? Double == 0.25, "5 disputed of 20 answered items")
        #expect(abs((kpis["override_rate"] as? Double ?? -1) - overrides) < 1e-12, "\(kpis)")
        #expect(abs((kpis["correction_rate"] as? Double ?? -1) - corrections) < 1e-12, "\(kpis)")
        #expect(kpis["auto_accept_rate"] as? Double == 0, "nothing auto-accepted out of 20 routed")
        #expect(kpis["audit_pass_rate"] is NSNull, "no audits")
        #expect(abs((kpis["sla_met_rate"] as? Double ?? -1) - onTime) < 1e-12, "only the items due in 2100 met their deadline")
        let p50 = try #require(kpis["time_to_human_p50_s"] as? Double), p90 = try #require(kpis["time_to_human_p90_s"] as? Double)
        #expect(p50 >= 0 && p90 >= p50 && p90 < 600)
        #expect((kpis["adjudication_p50_s"] as? Double ?? -1) >= 0, "five rulings after their disputes")
        #expect(kpis["ece"] as? Double == round["ece"] as? Double)
        #expect(kpis["drift_psi"] is NSNull)
        // Recorded at close: the same figures (nothing changed since).
        #expect((closed["kpis"] as? [String: Any])?["override_rate"] as? Double == kpis["override_rate"] as? Double)
        let text = try cli.ok(["report"])
        #expect(text.contains("KPIs") && text.split(separator: "\n").allSatisfy { $0.count <= 80 }, "\(text)")

        // quorum check: the defaults are broken (25% escalated > 20%, overrides > 30%), exit 1, each named.
        let check = try cli.run(["check"])
        #expect(check.status == 1)
        #expect(check.stdout.contains("escalation_rate 0.250 is above its max 0.200 (kpi.escalation_rate.max)"), "\(check.stdout)")
        #expect(check.stdout.contains("override_rate"))
        for (key, value) in [("kpi.escalation_rate.max", "0.3"), ("kpi.override_rate.max", "1"), ("kpi.correction_rate.max", "1"),
                             ("kpi.sla_met_rate.min", "0.4"), ("kpi.ece.max", "1")] {
            try cli.ok(["settings", "set", key, value])
        }
        let passed = try cli.run(["check", "--format", "json"])
        #expect(passed.status == 0, "\(passed.stdout) \(passed.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(passed.stdout.utf8)) as? [String: Any])
        #expect((json["breaches"] as? [Any])?.isEmpty == true)
        #expect(try cli.ok(["settings", "list"]).contains("kpi.escalation_rate.max = 0.3\n"))
        let bad = try cli.run(["settings", "set", "kpi.nonsense.max", "1"])
        #expect(bad.status == 1 && bad.stderr.contains("not a setting Quorum knows"))
        let notNumber = try cli.run(["settings", "set", "kpi.ece.max", "lots"])
        #expect(notNumber.status == 1 && notNumber.stderr.contains("not a number"))
    }

    /// Issue 14, item 3: `round start --sla` gives every task a deadline; `round
    /// status` shows what is overdue and at risk; the SLA-met rate follows.
    @Test func anSLAGivesDeadlinesThatRoundStatusWatches() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try cli.ok(["init", "--labels", "0,1,2,3,4,5,6,7,8,9"])
        try cli.register(["alice", "bob"])
        try cli.ok(["import", try cli.write("pool.jsonl", Digits.pool.prefix(100).joined(separator: "\n") + "\n")])
        let refused = try cli.run(["round", "start", "--size", "5", "--sla", "soon"])
        #expect(refused.status == 2 && refused.stderr.contains("not a duration"), "\(refused.stderr)")

        try cli.ok(["round", "start", "--size", "6", "--overlap", "2", "--sla", "30m"])
        let fresh = try #require(try cli.json(["round", "status"])["deadlines"] as? [String: Any])
        #expect(fresh["tasks"] as? Int == 6 && fresh["overdue"] as? Int == 0 && fresh["at_risk"] as? Int == 6, "\(fresh)")
        #expect(try cli.ok(["round", "status"]).contains("deadlines: 0 overdue, 6 due within the hour, of 6 tasks with one"))
        try cli.ok(["round", "cancel"])

        try cli.ok(["round", "start", "--size", "6", "--overlap", "2", "--sla", "1s"])
        Thread.sleep(forTimeInterval: 1.5)
        let late = try #require(try cli.json(["round", "status"])["deadlines"] as? [String: Any])
        #expect(late["overdue"] as? Int == 6 && late["at_risk"] as? Int == 0, "\(late)")
        #expect((late["overdue_items"] as? [[String: Any]])?.allSatisfy { ($0["seconds_late"] as? Double ?? -1) >= 0 } == true)
        // Answered after the deadline: no task met its SLA, and once answered none is overdue.
        for who in ["alice", "bob"] { try cli.ok(["label", "--annotator", who, "--answers", Digits.path]) }
        #expect((try cli.json(["round", "status"])["deadlines"] as? [String: Any])?["overdue"] as? Int == 0)
        let closed = try cli.json(["round", "close"])
        #expect((closed["kpis"] as? [String: Any])?["sla_met_rate"] as? Double == 0)
    }
}
