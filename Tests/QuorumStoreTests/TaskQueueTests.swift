import Foundation
import QuorumCore
import Testing
@testable import QuorumStore

/// The task queue's rules, checked against a real SQLite file with a fixed clock.
@Suite struct TaskQueueTests {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("quorum-queue-\(UUID().uuidString)").path

    /// Three pool items in one round with overlap `overlap`; uncertainties 0.9, 0.5, 0.5 with deadlines on the last two.
    func project(overlap: Int) throws -> (SQLiteStore, Int) {
        let store = try SQLiteStore.create(inProject: dir, name: "t", labels: try LabelSet(["a", "b"]))
        let round = try store.write { w in
            for (i, text) in ["alpha item", "beta item", "gamma item"].enumerated() {
                _ = try w.insert(NewItem(id: "i\(i)", kind: .pool, contentHash: Int64(i + 1), text: text, vector: nil,
                                         metaJSON: nil, label: nil))
            }
            let keys = try w.items(kinds: [.pool]).map(\.key)
            for name in ["ann", "bo", "cy"] { try w.ensureAnnotator(name, role: "annotator") }
            return try w.createRound(modelVersion: nil, overlap: overlap, settingsJSON: "{}", picks: [
                TaskPick(itemKey: keys[0], strategy: .random, score: 0, rank: 1, uncertainty: 0.9),
                TaskPick(itemKey: keys[1], strategy: .random, score: 0, rank: 2, uncertainty: 0.5, deadline: 2_000),
                TaskPick(itemKey: keys[2], strategy: .random, score: 0, rank: 3, uncertainty: 0.5, deadline: 1_000, blind: true),
            ])
        }
        return (store, round)
    }

    func claim(_ store: SQLiteStore, _ round: Int, _ who: String, at now: Double, lease: Double = 600) throws -> ClaimOutcome {
        try store.write { w in try w.claimTask(round: round, annotator: who, leaseSeconds: lease, now: now) }
    }

    func itemID(_ outcome: ClaimOutcome) -> String? {
        if case .claimed(let task) = outcome { return task.item.id }
        return nil
    }

    @Test func ordersByUncertaintyThenDeadlineAndHoldsSlotsWithLeases() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (store, round) = try project(overlap: 1)
        let now = Date().timeIntervalSince1970
        #expect(itemID(try claim(store, round, "ann", at: now)) == "i0", "the most uncertain task first")
        #expect(itemID(try claim(store, round, "bo", at: now)) == "i2", "then the earlier deadline (i2 is due before i1)")
        #expect(itemID(try claim(store, round, "cy", at: now)) == "i1")
        // Every slot is held: a fourth annotator waits for the earliest lease.
        try store.write { w in try w.ensureAnnotator("dee", role: "annotator") }
        #expect(try claim(store, round, "dee", at: now) == .waiting(until: now + 600))
        // Asking again picks up where you left off: the same task.
        #expect(itemID(try claim(store, round, "ann", at: now + 1)) == "i0")
        // After the lease, an abandoned claim returns to the queue.
        #expect(itemID(try claim(store, round, "dee", at: now + 601)) == "i0")
    }

    /// A page keeps the item on screen while it claims the next one ahead: at
    /// most two holds, the kept one never returned, and answers only for held tasks.
    @Test func aFetchAheadKeepsTheShownTaskAndAnswersNeedAHold() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (store, round) = try project(overlap: 1)
        let now = Date().timeIntervalSince1970
        let shown = try #require(itemID(try claim(store, round, "ann", at: now)))
        let keptKey = try store.read { r in try r.heldTask(round: round, annotator: "ann", itemID: shown, now: now)?.taskID }
        let ahead = try store.write { w in
            try w.claimTask(round: round, annotator: "ann", leaseSeconds: 600, now: now, keeping: keptKey)
        }
        #expect(itemID(ahead) == "i2" && shown == "i0", "the next task, not the kept one")
        #expect(Set(try store.read { r in try r.heldClaims(round: round, annotator: "ann", now: now).map(\.itemID) }) == ["i0", "i2"])
        // Fetching ahead again from i2 before i0 is answered gives i0 back (a reopened page), still two holds.
        let i2 = try store.read { r in try r.heldTask(round: round, annotator: "ann", itemID: "i2", now: now)?.taskID }
        #expect(itemID(try store.write { w in try w.claimTask(round: round, annotator: "ann", leaseSeconds: 600, now: now, keeping: i2) }) == "i0")
        // Once i0 is answered, the fetch ahead from i2 takes i1: the answered one is no longer held.
        try store.write { w in _ = try w.insertAnswer(taskID: keptKey!, annotator: "ann", label: "a", seconds: 1, note: nil, flagged: false) }
        #expect(try store.read { r in try r.heldTask(round: round, annotator: "ann", itemID: "i0", now: now) } == nil, "answered: no longer held")
        #expect(itemID(try store.write { w in try w.claimTask(round: round, annotator: "ann", leaseSeconds: 600, now: now, keeping: i2) }) == "i1")
        #expect(Set(try store.read { r in try r.heldClaims(round: round, annotator: "ann", now: now).map(\.itemID) }) == ["i2", "i1"])
        // Bo holds nothing of ann's: her items are not his to answer.
        #expect(try store.read { r in try r.heldTask(round: round, annotator: "bo", itemID: "i2", now: now) } == nil)
    }

    @Test func blindFlagReachesTheTask() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (store, round) = try project(overlap: 1)
        let open = try store.read { r in try r.openTasks(round: round, annotator: "ann", limit: nil, now: Date().timeIntervalSince1970) }
        #expect(open.map(\.item.id) == ["i0", "i2", "i1"])
        #expect(open.map(\.blind) == [false, true, false])
    }

    @Test func skipsDoNotFillSlotsButAnswersAndFlagsDo() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (store, round) = try project(overlap: 1)
        let now = Date().timeIntervalSince1970
        guard case .claimed(let task) = try claim(store, round, "ann", at: now) else { Issue.record("no task"); return }
        _ = try store.write { w in try w.insertAnswer(taskID: task.taskID, annotator: "ann", label: nil, seconds: 1, note: nil, flagged: false) }
        #expect(itemID(try claim(store, round, "ann", at: now)) == "i2", "a skipped task is not offered to the same annotator again")
        #expect(itemID(try claim(store, round, "bo", at: now)) == "i0", "but it goes to someone else")
        let flag = try store.write { w in
            try w.insertAnswer(taskID: task.taskID, annotator: "bo", label: nil, seconds: 1, note: "unclear", flagged: true)
        }
        var progress = try store.read { r in try r.taskProgress(round: round) }
        #expect(progress.answers == 1 && progress.complete == 1, "a flag fills the slot; the skip did not")
        #expect(try store.write { w in try w.deleteAnswer(flag) })
        progress = try store.read { r in try r.taskProgress(round: round) }
        #expect(progress.answers == 0 && progress.complete == 0, "undoing the flag frees the slot again")
    }

    @Test func anotherAnswerWantedReopensACompleteTask() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (store, round) = try project(overlap: 1)
        let tasks = try store.read { r in try r.openTasks(round: round, annotator: "ann", limit: nil, now: Date().timeIntervalSince1970) }
        try store.write { w in
            for t in tasks { _ = try w.insertAnswer(taskID: t.taskID, annotator: "ann", label: "a", seconds: 1, note: nil, flagged: false) }
        }
        let now = Date().timeIntervalSince1970
        #expect(try claim(store, round, "bo", at: now) == .finished)
        try store.write { w in try w.addAnswerWanted(taskID: tasks[1].taskID) }
        #expect(itemID(try claim(store, round, "bo", at: now)) == tasks[1].item.id)
        #expect(try claim(store, round, "ann", at: now) == .finished, "never the same item twice for one annotator")
        let progress = try store.read { r in try r.taskProgress(round: round) }
        #expect(progress.wanted == 4 && progress.complete == 2)
    }
}

@Suite struct TimestampTests {
    /// The hand-written formatter agrees with Foundation's ISO 8601 parser and the clock.
    @Test func isISO8601WithMillisecondsInUTC() throws {
        let text = Timestamp.now()
        let parser = ISO8601DateFormatter()
        parser.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let date = try #require(parser.date(from: text), "\(text) does not parse")
        #expect(abs(date.timeIntervalSinceNow) < 2)
        #expect(text.count == 24 && text.hasSuffix("Z") && text.dropFirst(19).first == ".")
    }
}
