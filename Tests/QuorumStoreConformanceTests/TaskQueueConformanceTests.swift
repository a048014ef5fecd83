import Foundation
import QuorumCore
import QuorumStore
import Testing

/// The task queue's rules (claims, leases, fetch-ahead, slots), on every backend, with a fixed clock.
@Suite struct TaskQueueConformanceTests {
    typealias F = Fixture

    /// One clock: the store reads it once per transaction (`now`), every record
    /// the transaction writes carries that instant, and leases are checked
    /// against the same one, so a test fixes time by giving the store a clock.
    @Test(arguments: Backend.available)
    func everyRecordOfATransactionCarriesTheStoreClocksTime(backend: Backend) throws {
        try backend.withPlace { place in
            let t0 = 1_900_000_000.25   // 2030-03-17T17:46:40.250Z (Python: datetime.fromtimestamp(1900000000.25, timezone.utc))
            let stamp = "2030-03-17T17:46:40.250Z"
            let store = try place.create(clock: .fixed(t0))
            let round = try F.queue(store, overlap: 1)
            let (now, itemID) = try store.write { w -> (Double, String) in
                guard case .claimed(let task) = try w.claimTask(round: round, annotator: "ann", leaseSeconds: 600, now: w.now, keeping: nil) else {
                    throw QuorumError(.state, "nothing to claim")
                }
                _ = try w.insertAnswer(taskID: task.taskID, annotator: "ann", label: "a", seconds: 1, note: nil, flagged: false)
                try w.appendEvent(EventRecord(kind: "answer", itemID: task.item.id, annotator: "ann", detailJSON: "{}"))
                return (w.now, task.item.id)
            }
            #expect(now == t0)
            #expect(try store.read { $0.now } == t0)
            #expect(try store.read { try $0.project() }.createdAt == stamp)
            #expect(try store.read { try $0.round(round) }?.createdAt == stamp)
            #expect(try store.read { try $0.events(itemID: itemID) }.map(\.at) == [stamp])
            // The claim made at t0 holds until t0 + 600 by that clock, and not after.
            let later = try place.open(clock: .fixed(t0 + 601))
            try later.write { w in try w.ensureAnnotator("bo", role: "annotator") }
            #expect(try later.read { try $0.activeClaims(round: round, now: $0.now) }.isEmpty)
            #expect(try store.read { try $0.activeClaims(round: round, now: $0.now) }.map(\.annotator).isEmpty,
                    "the answer ended ann's claim")
            #expect(try later.read { try $0.events(itemID: nil) }.count == 1)
        }
    }

    @Test(arguments: Backend.available)
    func ordersByDeadlineAndHoldsSlotsWithLeases(backend: Backend) throws {
        try backend.withProject { store, _ in
            let round = try F.queue(store, overlap: 1)
            let now = Date().timeIntervalSince1970
            #expect(F.itemID(try F.claim(store, round, "ann", at: now)) == "i0", "what is due first (at 500)")
            #expect(F.itemID(try F.claim(store, round, "bo", at: now)) == "i2", "then the next deadline (i2 is due before i1)")
            #expect(F.itemID(try F.claim(store, round, "cy", at: now)) == "i1")
            // Every slot is held: a fourth annotator waits for the earliest lease.
            try store.write { w in try w.ensureAnnotator("dee", role: "annotator") }
            #expect(try F.claim(store, round, "dee", at: now) == .waiting(until: now + 600))
            let claims = try store.read { try $0.activeClaims(round: round, now: now) }
            #expect(claims.map(\.annotator) == ["ann", "bo", "cy"] && claims.map(\.itemID) == ["i0", "i2", "i1"])
            #expect(claims.allSatisfy { $0.expiresAt == now + 600 })
            // Asking again picks up where you left off: the same task.
            #expect(F.itemID(try F.claim(store, round, "ann", at: now + 1)) == "i0")
            // After the lease, an abandoned claim returns to the queue.
            #expect(F.itemID(try F.claim(store, round, "dee", at: now + 601)) == "i0")
            #expect(try store.read { try $0.activeClaims(round: round, now: now + 601) }.map(\.annotator) == ["dee"])
        }
    }

    /// A page keeps the item on screen while it claims the next one ahead: at
    /// most two holds, the kept one never returned, and answers only for held tasks.
    /// A review queue: what is due first; among tasks due at the same time (or
    /// without a deadline) the most uncertain first; then the task id.
    @Test(arguments: Backend.available)
    func servesWhatIsDueFirstThenTheMostUncertain(backend: Backend) throws {
        try backend.withProject { store, _ in
            let round = try store.write { w throws in
                for i in 0..<5 {
                    _ = try w.insert(NewItem(id: "d\(i)", kind: .pool, contentHash: Int64(100 + i), text: "item \(i)", vector: nil,
                                             metaJSON: nil, label: nil))
                }
                let keys = try w.items(kinds: [.pool]).map(\.key)
                try w.ensureAnnotator("ann", role: "annotator")
                return try w.createRound(modelVersion: nil, overlap: 1, settingsJSON: "{}", picks: [
                    TaskPick(itemKey: keys[0], strategy: .random, score: 0, rank: 1, uncertainty: 0.99),
                    TaskPick(itemKey: keys[1], strategy: .random, score: 0, rank: 2, uncertainty: 0.2, deadline: 3_000),
                    TaskPick(itemKey: keys[2], strategy: .random, score: 0, rank: 3, uncertainty: 0.7, deadline: 3_000),
                    TaskPick(itemKey: keys[3], strategy: .random, score: 0, rank: 4, uncertainty: 0.1, deadline: 1_000),
                    TaskPick(itemKey: keys[4], strategy: .random, score: 0, rank: 5, uncertainty: 0.5),
                ])
            }
            let order = try store.read { try $0.openTasks(round: round, annotator: "ann", limit: nil, now: 0) }.map(\.item.id)
            #expect(order == ["d3", "d2", "d1", "d0", "d4"])
            var served: [String] = []
            for _ in 0..<5 {
                guard case .claimed(let task) = try F.claim(store, round, "ann", at: 0) else { break }
                served.append(task.item.id)
                try store.write { w in
                    _ = try w.insertAnswer(taskID: task.taskID, annotator: "ann", label: "a", seconds: 1, note: nil, flagged: false)
                }
            }
            #expect(served == order)
        }
    }

    @Test(arguments: Backend.available)
    func aFetchAheadKeepsTheShownTaskAndAnswersNeedAHold(backend: Backend) throws {
        try backend.withProject { store, _ in
            let round = try F.queue(store, overlap: 1)
            let now = Date().timeIntervalSince1970
            let shown = try #require(F.itemID(try F.claim(store, round, "ann", at: now)))
            let keptKey = try store.read { r in try r.heldTask(round: round, annotator: "ann", itemID: shown, now: now)?.taskID }
            let ahead = try F.claim(store, round, "ann", at: now, keeping: keptKey)
            #expect(F.itemID(ahead) == "i2" && shown == "i0", "the next task, not the kept one")
            #expect(Set(try store.read { r in try r.heldClaims(round: round, annotator: "ann", now: now).map(\.itemID) }) == ["i0", "i2"])
            // Fetching ahead again from i2 before i0 is answered gives i0 back (a reopened page), still two holds.
            let i2 = try store.read { r in try r.heldTask(round: round, annotator: "ann", itemID: "i2", now: now)?.taskID }
            #expect(F.itemID(try F.claim(store, round, "ann", at: now, keeping: i2)) == "i0")
            // Once i0 is answered, the fetch ahead from i2 takes i1: the answered one is no longer held.
            try store.write { w in _ = try w.insertAnswer(taskID: keptKey!, annotator: "ann", label: "a", seconds: 1, note: nil, flagged: false) }
            #expect(try store.read { r in try r.heldTask(round: round, annotator: "ann", itemID: "i0", now: now) } == nil, "answered: no longer held")
            #expect(F.itemID(try F.claim(store, round, "ann", at: now, keeping: i2)) == "i1")
            #expect(Set(try store.read { r in try r.heldClaims(round: round, annotator: "ann", now: now).map(\.itemID) }) == ["i2", "i1"])
            // Bo holds nothing of ann's: her items are not his to answer.
            #expect(try store.read { r in try r.heldTask(round: round, annotator: "bo", itemID: "i2", now: now) } == nil)
            // Nothing left but what she keeps: the kept claim stays, the queue says finished.
            #expect(try F.claim(store, round, "ann", at: now, keeping: i2) == .claimed(try #require(
                try store.read { r in try r.heldTask(round: round, annotator: "ann", itemID: "i1", now: now) })))
        }
    }

    /// A claim past its lease still lets its holder answer, until someone else takes the slot.
    @Test(arguments: Backend.available)
    func anExpiredClaimIsHeldUntilAnotherTakesTheSlot(backend: Backend) throws {
        try backend.withProject { store, _ in
            let round = try F.queue(store, overlap: 1)
            let now = Date().timeIntervalSince1970
            #expect(F.itemID(try F.claim(store, round, "ann", at: now, lease: 10)) == "i0")
            let late = now + 60
            #expect(try store.read { try $0.heldTask(round: round, annotator: "ann", itemID: "i0", now: late) }?.item.id == "i0")
            #expect(try store.read { try $0.heldClaims(round: round, annotator: "ann", now: late) }.isEmpty, "not an unexpired claim")
            #expect(F.itemID(try F.claim(store, round, "bo", at: late)) == "i0", "the lapsed slot goes to the next annotator")
            #expect(try store.read { try $0.heldTask(round: round, annotator: "ann", itemID: "i0", now: late) } == nil)
            // An explicit claim (after an undo) holds one task and releases the others.
            let task = try #require(try store.read { try $0.openTasks(round: round, annotator: "cy", limit: nil, now: late) }.first)
            try store.write { w throws in
                try w.claim(taskID: task.taskID, annotator: "cy", until: late + 5, now: late)
                try w.releaseClaims(annotator: "bo")
            }
            #expect(try store.read { try $0.activeClaims(round: round, now: late) }.map(\.annotator) == ["cy"])
        }
    }

    @Test(arguments: Backend.available)
    func blindFlagReachesTheTask(backend: Backend) throws {
        try backend.withProject { store, _ in
            let round = try F.queue(store, overlap: 1)
            let open = try store.read { r in try r.openTasks(round: round, annotator: "ann", limit: nil, now: Date().timeIntervalSince1970) }
            #expect(open.map(\.item.id) == ["i0", "i2", "i1"])
            #expect(open.map(\.blind) == [false, true, false])
            #expect(open.allSatisfy { $0.probabilities == nil && $0.roundID == round })
        }
    }

    /// The live model's probabilities come with each open task.
    @Test(arguments: Backend.available)
    func openTasksCarryTheLiveModelsProbabilities(backend: Backend) throws {
        try backend.withProject { store, _ in
            let round = try F.queue(store, overlap: 1)
            try store.write { w throws in
                try w.insertModel(ModelVersion(id: "m1", createdAt: "t", kind: "k", settingsJSON: "{}", trainedOn: 3,
                                               metricsJSON: "{}", state: [], isLive: true))
                try w.insertPredictions(model: "m1", [Prediction(itemKey: 1, probabilities: [0.25, 0.75])])
            }
            let open = try store.read { r in try r.openTasks(round: round, annotator: "ann", limit: nil, now: 0) }
            #expect(open.map(\.probabilities) == [[0.25, 0.75], nil, nil])
        }
    }

    @Test(arguments: Backend.available)
    func skipsDoNotFillSlotsButAnswersAndFlagsDo(backend: Backend) throws {
        try backend.withProject { store, _ in
            let round = try F.queue(store, overlap: 1)
            let now = Date().timeIntervalSince1970
            guard case .claimed(let task) = try F.claim(store, round, "ann", at: now) else { Issue.record("no task"); return }
            _ = try store.write { w in try w.insertAnswer(taskID: task.taskID, annotator: "ann", label: nil, seconds: 1, note: nil, flagged: false) }
            #expect(F.itemID(try F.claim(store, round, "ann", at: now)) == "i2", "a skipped task is not offered to the same annotator again")
            #expect(F.itemID(try F.claim(store, round, "bo", at: now)) == "i0", "but it goes to someone else")
            let flag = try store.write { w throws in
                try w.insertAnswer(taskID: task.taskID, annotator: "bo", label: nil, seconds: 1, note: "unclear", flagged: true)
            }
            var progress = try store.read { r in try r.taskProgress(round: round) }
            #expect(progress.answers == 1 && progress.complete == 1, "a flag fills the slot; the skip did not")
            #expect(try store.write { w in try w.deleteAnswer(flag) })
            progress = try store.read { r in try r.taskProgress(round: round) }
            #expect(progress.answers == 0 && progress.complete == 0, "undoing the flag frees the slot again")
        }
    }

    @Test(arguments: Backend.available)
    func anotherAnswerWantedReopensACompleteTask(backend: Backend) throws {
        try backend.withProject { store, _ in
            let round = try F.queue(store, overlap: 1)
            let tasks = try store.read { r in try r.openTasks(round: round, annotator: "ann", limit: nil, now: Date().timeIntervalSince1970) }
            try store.write { w throws in
                for t in tasks { _ = try w.insertAnswer(taskID: t.taskID, annotator: "ann", label: "a", seconds: 1, note: nil, flagged: false) }
            }
            let now = Date().timeIntervalSince1970
            #expect(try F.claim(store, round, "bo", at: now) == .finished)
            try store.write { w in try w.addAnswerWanted(taskID: tasks[1].taskID) }
            #expect(F.itemID(try F.claim(store, round, "bo", at: now)) == tasks[1].item.id)
            #expect(try F.claim(store, round, "ann", at: now) == .finished, "never the same item twice for one annotator")
            let progress = try store.read { r in try r.taskProgress(round: round) }
            #expect(progress.wanted == 4 && progress.complete == 2)
        }
    }

    @Test(arguments: Backend.available)
    func aClosedRoundOffersNothing(backend: Backend) throws {
        try backend.withProject { store, _ in
            let round = try F.queue(store, overlap: 1)
            try store.write { w in try w.closeRound(round, metricsJSON: "{}") }
            #expect(try F.claim(store, round, "ann", at: 0) == .finished)
            #expect(try store.read { try $0.openTasks(round: round, annotator: "ann", limit: nil, now: 0) }.isEmpty)
            #expect(try F.claim(store, round + 5, "ann", at: 0) == .finished, "an unknown round")
        }
    }

    /// Many annotators on two stores (two processes, or two machines) claim at
    /// once: every slot goes to exactly one of them, and the rest wait.
    @Test(arguments: Backend.available)
    func concurrentClaimsFromTwoStoresNeverShareASlot(backend: Backend) throws {
        try backend.withProject { first, place in
            let second = try place.open()
            let items = 12, people = 16
            let round = try first.write { w -> Int in
                for i in 0..<items { _ = try w.insert(F.item("x\(i)", "text number \(i)")) }
                for p in 0..<people { try w.ensureAnnotator("p\(p)", role: "annotator") }
                let picks = try w.items(kinds: [.pool]).enumerated().map { i, item in
                    TaskPick(itemKey: item.key, strategy: .random, score: 0, rank: i + 1, uncertainty: Double(i))
                }
                return try w.createRound(modelVersion: nil, overlap: 1, settingsJSON: "{}", picks: picks)
            }
            let now = Date().timeIntervalSince1970
            let outcomes = Outcomes()
            DispatchQueue.concurrentPerform(iterations: people) { p in
                let store = p % 2 == 0 ? first : second
                do { outcomes.add(try F.claim(store, round, "p\(p)", at: now)) } catch { outcomes.add(error) }
            }
            let (claimed, waiting, errors) = outcomes.summary
            #expect(errors.isEmpty, "\(errors)")
            #expect(claimed.count == items && Set(claimed).count == items, "each task claimed once: \(claimed.sorted())")
            #expect(waiting == people - items)
            #expect(try first.read { try $0.activeClaims(round: round, now: now) }.count == items)
        }
    }
}

/// Results gathered from several threads.
final class Outcomes: @unchecked Sendable {
    private let lock = NSLock()
    private var claimed: [String] = []
    private var waiting = 0
    private var errors: [String] = []

    func add(_ outcome: ClaimOutcome) {
        lock.withLock {
            switch outcome {
            case .claimed(let task): claimed.append(task.item.id)
            case .waiting: waiting += 1
            case .finished: errors.append("finished")
            }
        }
    }

    func add(_ error: any Error) { lock.withLock { errors.append("\(error)") } }

    var summary: (claimed: [String], waiting: Int, errors: [String]) { lock.withLock { (claimed, waiting, errors) } }
}
