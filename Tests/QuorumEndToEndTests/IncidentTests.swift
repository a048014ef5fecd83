import Foundation
import Testing

/// Issue 14, item 2: escalation tiers. An adjudicator escalates disputes with
/// a reason; they leave the adjudicators' queue for the lead's; only a lead
/// resolves them; every step is in the audit log.
@Suite struct IncidentTests {
    @Test func anAdjudicatorEscalatesAndTheLeadResolves() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try cli.ok(["init", "--labels", "0,1,2,3,4,5,6,7,8,9"])
        try cli.register(["alice", "bob"])
        _ = try cli.json(["annotators", "add", "lee", "--role", "adjudicator"])
        _ = try cli.json(["annotators", "add", "boss", "--role", "lead"])
        try cli.ok(["import", try cli.write("pool.jsonl", Digits.pool.prefix(100).joined(separator: "\n") + "\n")])
        try cli.ok(["round", "start", "--size", "5", "--overlap", "2", "--seed", "3"])
        let picked = try #require(try cli.json(["round", "status"])["picks"] as? [[String: Any]]).map { $0["id"] as! String }.sorted()
        func file(_ name: String, _ label: (String) -> String) throws -> String {
            try cli.write(name, picked.map { "{\"id\": \"\($0)\", \"label\": \"\(label($0))\"}" }.joined(separator: "\n") + "\n")
        }
        try cli.ok(["label", "--annotator", "alice", "--answers", try file("a.jsonl") { Digits.truth[$0]! }])
        try cli.ok(["label", "--annotator", "bob", "--answers", try file("b.jsonl") { String((Int(Digits.truth[$0]!)! + 1) % 10) }])
        #expect(try cli.json(["consensus"])["disputes"] as? Int == 5)

        // lee rules on three and escalates two, with reasons (one carrying a control character).
        let escalated = Array(picked.prefix(2))
        let lines = picked.enumerated().map { i, id in
            i < 2 ? "{\"id\": \"\(id)\", \"escalate\": \"ambiguous stroke \\u001b[31m #\(i)\"}" : "{\"id\": \"\(id)\", \"label\": \"\(Digits.truth[id]!)\"}"
        }
        let summary = try cli.json(["adjudicate", "--annotator", "lee", "--answers", try cli.write("lee.jsonl", lines.joined(separator: "\n") + "\n")])
        #expect(summary["settled"] as? Int == 3 && summary["escalated"] as? Int == 2 && summary["remaining"] as? Int == 0, "\(summary)")

        // The lead's queue holds exactly the two, with reasons and everyone's answers; the terminal sees no raw escape.
        let list = try #require(try cli.json(["incidents", "list"])["incidents"] as? [[String: Any]])
        #expect(list.map { $0["id"] as? String } == escalated)
        #expect(list.allSatisfy { ($0["escalated_by"] as? String) == "lee" && ($0["answers"] as? [Any])?.count == 2 })
        #expect((list.first?["reason"] as? String)?.hasPrefix("ambiguous stroke") == true)
        let text = try cli.ok(["incidents", "list"])
        #expect(!text.contains("\u{1B}") && text.contains("\\e[31m"), "\(text)")
        // They are out of the adjudicators' queue: ruling on them again is not possible.
        let again = try cli.json(["adjudicate", "--annotator", "lee", "--answers",
                                  try cli.write("again.jsonl", "{\"id\": \"\(escalated[0])\", \"label\": \"1\"}\n")])
        #expect(again["settled"] as? Int == 0 && again["not_disputed"] as? Int == 1)

        // Only a lead resolves; an unknown item or label is refused.
        let notLead = try cli.run(["incidents", "resolve", escalated[0], "--label", Digits.truth[escalated[0]]!, "--annotator", "lee"])
        #expect(notLead.status == 1 && notLead.stderr.contains("lead role"), "\(notLead.stderr)")
        let badLabel = try cli.run(["incidents", "resolve", escalated[0], "--label", "ten", "--annotator", "boss"])
        #expect(badLabel.status == 1 && badLabel.stderr.contains("not one of the project's labels"))
        try cli.ok(["incidents", "resolve", escalated[0], "--label", Digits.truth[escalated[0]]!, "--annotator", "boss", "--note", "checked the scan"])
        #expect((try cli.json(["incidents", "list"])["incidents"] as? [Any])?.count == 1)
        let twice = try cli.run(["incidents", "resolve", escalated[0], "--label", "3", "--annotator", "boss"])
        #expect(twice.status == 1 && twice.stderr.contains("no open incident"))

        // The ruling stands in consensus, and the audit trail has every step.
        let labels = try #require(try cli.json(["consensus", "--dry-run"])["labels"] as? [String: String])
        #expect(labels[escalated[0]] == Digits.truth[escalated[0]])
        let log = try cli.ok(["audit", "log", "--item", escalated[0]])
        for step in ["answer", "escalation", "adjudication", "incident.resolve"] { #expect(log.contains(step), "\(step) in \(log)") }
        try cli.ok(["audit", "verify"])
    }
}
