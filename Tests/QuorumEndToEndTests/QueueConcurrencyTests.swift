import Foundation
import Glibc
import QuorumCore
import QuorumStore
import Testing

/// Many annotators at once, and annotators killed mid-round: the queue never
/// hands an item to one annotator twice, loses no acknowledged answer, and
/// gives abandoned claims back when their leases run out.
@Suite(.serialized) struct QueueConcurrencyTests {
    func pool(_ cli: CLI, _ n: Int) throws {
        let lines = (0..<n).map { i in #"{"id":"t\#(String(format: "%03d", i))","text":"item number \#(i) for the queue"}"# }
        try cli.ok(["import", try cli.write("pool.jsonl", lines.joined(separator: "\n") + "\n")])
    }

    @Test func fourAnnotatorsLabelFiveHundredTasksWithOverlapTwo() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try cli.ok(["init", "--labels", "yes,no"])
        try cli.register()
        try pool(cli, 500)
        #expect(try cli.json(["round", "start", "--size", "500", "--overlap", "2", "--diversity", "none"])["tasks"] as? Int == 500)
        let names = ["ann", "bo", "cy", "dee"]
        let sessions = try names.map { try PTYSession(cli, args: ["label", "--annotator", $0]) }
        // Wait until every loop is up (raw mode set), then type all the keys at once.
        for s in sessions { try s.waitFor("left ") }
        for s in sessions { s.type(String(repeating: "1", count: 500)) }
        let deadline = Date().addingTimeInterval(600)
        while sessions.contains(where: { $0.process.isRunning }) {
            guard Date() < deadline else { throw Failure("the annotators did not finish within 10 minutes") }
            for s in sessions { s.pump(milliseconds: 5) }
        }
        for (name, s) in zip(names, sessions) {
            #expect(s.finish() == 0)
            #expect(s.transcript.contains("No tasks left for \(name)"), "\(name) ran to the end")
            #expect(!s.transcript.contains("Error"), "\(name): \(s.transcript.suffix(300))")
        }
        let status = try cli.json(["round", "status"])
        #expect(status["answers"] as? Int == 1000)
        #expect(status["complete_tasks"] as? Int == 500)
        let answers = try SQLiteStore.open(project: cli.project).read { r in try r.answers(round: 1) }
        #expect(answers.count == 1000, "exactly K × tasks answers")
        #expect(Set(answers.map { "\($0.itemID)|\($0.annotator)" }).count == 1000, "no (item, annotator) pair twice")
        let perTask = Dictionary(grouping: answers, by: \.taskID).mapValues(\.count)
        #expect(perTask.count == 500 && perTask.values.allSatisfy { $0 == 2 }, "every task has exactly two answers")
        let perAnnotator = Dictionary(grouping: answers, by: \.annotator).mapValues(\.count)
        #expect(perAnnotator.count == 4, "all four took part: \(perAnnotator)")
    }

    @Test func killingAnAnnotatorLosesNoAcknowledgedAnswerAndLeasesReturnTheRest() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try cli.ok(["init", "--labels", "yes,no"])
        try cli.register()
        try pool(cli, 30)
        try cli.ok(["round", "start", "--size", "30", "--diversity", "none"])
        let store = try SQLiteStore.open(project: cli.project)
        var acknowledged = Set<String>()
        var rng = SystemRandomNumberGenerator()
        for round in 0..<4 {
            // The first session holds its claims for 30 s (so the check below cannot race the
            // lease on a slow machine); alice's next session resumes that claim first anyway.
            let s = try PTYSession(cli, args: ["label", "--annotator", "alice", "--lease", round == 0 ? "30" : "2"])
            try s.waitFor("left ")
            for _ in 0..<(1 + round % 3) {
                try s.press("1", expect: "→ yes")
                // "✓ ID → yes" appears only after the answer is committed.
                for line in s.screen.components(separatedBy: "✓ ").dropFirst() {
                    if let id = line.split(separator: " ").first { acknowledged.insert(String(id)) }
                }
            }
            s.type("1")                                  // one more answer in flight…
            usleep(UInt32.random(in: 0...20_000, using: &rng))
            s.kill9()                                    // …and the process dies mid-round.
            let stored = Set(try store.read { r in try r.answers(round: 1) }.filter { $0.annotator == "alice" }.map(\.itemID))
            #expect(acknowledged.isSubset(of: stored), "kill \(round + 1): acknowledged answers missing: \(acknowledged.subtracting(stored))")
            if round == 0 {
                // The lead sees who holds what: the dead process's claim, until its lease runs out.
                let status = try cli.json(["round", "status"])
                let claims = try #require(status["claims"] as? [[String: Any]])
                #expect(claims.map { $0["annotator"] as? String } == ["alice"])
                #expect((claims.first?["seconds_left"] as? Double ?? 99) <= 30)
            }
        }
        #expect(acknowledged.count >= 6)
        // Alice's last claim is held for its 2 s lease, then returns: bob finishes the round.
        let bob = try PTYSession(cli, args: ["label", "--annotator", "bob", "--lease", "2"])
        try bob.waitFor("left ")
        bob.type(String(repeating: "1", count: 30))
        try bob.waitFor("No tasks left", seconds: 60)
        #expect(bob.finish() == 0)
        let status = try cli.json(["round", "status"])
        #expect(status["complete_tasks"] as? Int == 30, "no task is stuck")
        #expect(status["answers"] as? Int == 30)
        let people = try #require(status["annotators"] as? [[String: Any]])
        #expect(people.map { $0["name"] as? String } == ["alice", "bob"])
        #expect(people.compactMap { $0["answers"] as? Int }.reduce(0, +) == 30)
        #expect((status["claims"] as? [Any])?.isEmpty == true, "nobody holds anything at the end")
        let answers = try store.read { r in try r.answers(round: 1) }
        #expect(Set(answers.map(\.itemID)).count == 30 && answers.count == 30, "each task answered exactly once")
    }
}
