import Foundation
import QuorumCore
import QuorumStore
import Testing

/// The store protocol's basic rules, on every backend.
@Suite struct StoreConformanceTests {
    typealias F = Fixture

    @Test(arguments: Backend.available)
    func createRefusesToOverwriteAndOpenNeedsAProject(backend: Backend) throws {
        try backend.withPlace { place in
            #expect(throws: QuorumError.self) { try place.open() }
            _ = try place.create(name: "t", labels: ["a", "b"])
            let again = F.quorumError { _ = try place.create(name: "t", labels: ["a", "b"]) }
            #expect(again?.message.contains("a Quorum project already exists") == true, "\(String(describing: again))")
            let store = try place.open()
            let info = try store.read { try $0.project() }
            #expect(info.labels.names == ["a", "b"])
            #expect(info.name == "t")
            #expect(!info.ordered && info.vectorDimension == nil)
        }
    }

    @Test(arguments: Backend.available)
    func orderedLabelsAndSettingsPersist(backend: Backend) throws {
        try backend.withPlace { place in
            let store = try place.create(labels: ["1", "2", "3"], ordered: true)
            try store.write { w throws in
                try w.setVectorDimension(3)
                try w.setSetting("k", "one")
                try w.setSetting("k", "two")
            }
            let reopened = try place.open(readOnly: true)
            let info = try reopened.read { try $0.project() }
            #expect(info.ordered && info.labels.names == ["1", "2", "3"] && info.vectorDimension == 3)
            #expect(try reopened.read { try $0.setting("k") } == "two")
            #expect(try reopened.read { try $0.setting("missing") } == nil)
            #expect(throws: (any Error).self) { try reopened.write { w in try w.setSetting("k", "three") } }
        }
    }

    @Test(arguments: Backend.available)
    func insertReportsDuplicatesAndConflicts(backend: Backend) throws {
        try backend.withProject { store, _ in
            try store.write { w throws in
                let outcomes = [try w.insert(F.item("1", "hello")), try w.insert(F.item("1", "hello")),
                                try w.insert(F.item("1", "other")), try w.insert(F.item("2", "hello")),
                                try w.insert(F.item("1", "hello", kind: .seed, label: "a"))]
                #expect(outcomes == [.inserted, .duplicate, .conflict(existingKind: .pool), .inserted,
                                     .conflict(existingKind: .pool, difference: "kind")])
                #expect(try w.contentDuplicates(keysAbove: 0) == 2)
                #expect(try w.contentDuplicates(keysAbove: 1) == 1)
                #expect(try w.lastItemKey() == 2)
                #expect(try w.itemKey(id: "2") == 2 && w.itemKey(id: "nope") == nil)
            }
            #expect(try store.read { try $0.counts() }.items[.pool] == 2)
        }
    }

    @Test(arguments: Backend.available)
    func aThrowingWriteLeavesNothingBehind(backend: Backend) throws {
        struct Boom: Error {}
        try backend.withProject { store, _ in
            #expect(throws: Boom.self) {
                try store.write { w throws in
                    _ = try w.insert(F.item("1", "hello"))
                    try w.appendEvent(EventRecord(kind: "lost"))
                    throw Boom()
                }
            }
            #expect(try store.read { try $0.counts() }.items[.pool] == 0)
            #expect(try store.read { try $0.eventHead() } == nil)
            // The store is still usable after the rollback.
            try store.write { w in _ = try w.insert(F.item("1", "hello")) }
            #expect(try store.read { try $0.lastItemKey() } == 1)
        }
    }

    /// A writer on another store (another process) waits for the open write
    /// transaction, then sees what it committed: one writer at a time.
    @Test(arguments: Backend.available)
    func writersOnTwoStoresTakeTurns(backend: Backend) throws {
        try backend.withProject { first, place in
            let second = try place.open()
            let holding = DispatchSemaphore(value: 0)
            let failures = Gathered()
            let seen = Gathered()
            let group = DispatchGroup()
            DispatchQueue.global().async(group: group) {
                do {
                    try first.write { w in
                        _ = try w.insert(F.item("1", "first"))
                        holding.signal()
                        usleep(300_000)
                    }
                } catch { failures.add(error) }
            }
            holding.wait()
            let started = Date()
            try second.write { w in
                seen.add("saw \(try w.lastItemKey())")
                _ = try w.insert(F.item("2", "second"))
            }
            group.wait()
            #expect(Date().timeIntervalSince(started) > 0.1, "the second writer waited")
            #expect(failures.all.isEmpty)
            #expect(seen.all == ["saw 1"], "it saw the first writer's commit")
            #expect(try first.read { try $0.items(kinds: [.pool]).map(\.id) } == ["1", "2"])
        }
    }

    /// A rehearsal runs every write in full, sees its own changes, and keeps none.
    @Test(arguments: Backend.available)
    func aRehearsalKeepsNothingAndLeavesNoGaps(backend: Backend) throws {
        try backend.withProject { store, _ in
            let rehearsal = store.rehearsal()
            let seen = try rehearsal.write { w -> (Int, Int64) in
                _ = try w.insert(F.item("1", "hello"))
                let round = try w.createRound(modelVersion: nil, overlap: 1, settingsJSON: "{}",
                                              picks: [TaskPick(itemKey: 1, strategy: .random, score: 0, rank: 1)])
                try w.appendEvent(EventRecord(kind: "rehearsed"))
                return (round, try w.lastItemKey())
            }
            #expect(seen == (1, 1))
            #expect(try rehearsal.read { try $0.lastItemKey() } == 0)
            // Keys come back as the largest plus one: the rolled-back round and event leave no gap.
            let real = try store.write { w -> Int in
                _ = try w.insert(F.item("1", "hello"))
                try w.appendEvent(EventRecord(kind: "real"))
                return try w.createRound(modelVersion: nil, overlap: 1, settingsJSON: "{}",
                                         picks: [TaskPick(itemKey: 1, strategy: .random, score: 0, rank: 1)])
            }
            #expect(real == 1)
            #expect(try store.read { try $0.eventHead()?.seq } == 1)
        }
    }

    @Test(arguments: Backend.available)
    func vectorsRoundTrip(backend: Backend) throws {
        try backend.withProject { store, _ in
            let odd: [Float] = [1.5, -2, 0.25, .leastNonzeroMagnitude, -0.0, 3.4028235e38]
            try store.write { w throws in
                _ = try w.insert(NewItem(id: "v", kind: .seed, contentHash: 42, text: nil, vector: odd,
                                         metaJSON: "{\"source\":\"web\"}", label: "b"))
                _ = try w.insert(NewItem(id: "e", kind: .pool, contentHash: -7, text: "ünïcödé ✓", vector: [],
                                         metaJSON: nil, label: nil))
            }
            let items = try store.read { try $0.items(kinds: [.seed]) }
            #expect(items.first?.vector?.map(\.bitPattern) == odd.map(\.bitPattern))
            #expect(items.first?.metaJSON == "{\"source\":\"web\"}")
            #expect(items.first?.label == "b")
            let byKey = try store.read { try $0.items(keys: [2, 99, 1, 2]) }
            #expect(byKey.map(\.id) == ["v", "e"])
            #expect(byKey[1].text == "ünïcödé ✓" && byKey[1].contentHash == -7 && byKey[1].vector == [])
            #expect(try store.read { try $0.items(keys: []) }.isEmpty)
        }
    }

    @Test(arguments: Backend.available)
    func eachAnnotatorAnswersATaskOnce(backend: Backend) throws {
        try backend.withProject { store, _ in
            try store.write { w throws in
                _ = try w.insert(F.item("1", "hello"))
                _ = try w.insert(F.item("2", "world"))
                let keys = try w.items(kinds: [.pool]).map(\.key)
                let round = try w.createRound(modelVersion: nil, overlap: 2, settingsJSON: "{}", picks: [
                    TaskPick(itemKey: keys[0], strategy: .random, score: 0.2, rank: 2, uncertainty: 0.2),
                    TaskPick(itemKey: keys[1], strategy: .random, score: 0.9, rank: 1, uncertainty: 0.9),
                ])
                try w.ensureAnnotator("ann", role: "annotator")
                try w.ensureAnnotator("bo", role: "annotator")
                try w.ensureAnnotator("cy", role: "annotator")
                let now = Date().timeIntervalSince1970
                let open = try w.openTasks(round: round, annotator: "ann", limit: nil, now: now)
                #expect(open.map(\.item.id) == ["2", "1"], "most uncertain first")
                #expect(try w.openTasks(round: round, annotator: "ann", limit: 1, now: now).map(\.item.id) == ["2"])
                _ = try w.insertAnswer(taskID: open[0].taskID, annotator: "ann", label: "a", seconds: 1, note: nil, flagged: false)
                let second = F.quorumError {
                    _ = try w.insertAnswer(taskID: open[0].taskID, annotator: "ann", label: "b", seconds: 1, note: nil, flagged: false)
                }
                #expect(second?.message == "ann has already answered task \(open[0].taskID)", "a second answer to the same task is refused")
                // The refusal does not spoil the transaction.
                let left = try w.openTasks(round: round, annotator: "ann", limit: nil, now: now).map(\.item.id)
                #expect(left == ["1"])
                _ = try w.insertAnswer(taskID: open[0].taskID, annotator: "bo", label: "a", seconds: 1, note: nil, flagged: false)
                let forCy = try w.openTasks(round: round, annotator: "cy", limit: nil, now: now).map(\.item.id)
                #expect(forCy == ["1"], "a task with K answers is done")
                let progress = try w.taskProgress(round: round)
                #expect(progress == TaskProgress(tasks: 2, complete: 1, answers: 2, wanted: 4))
            }
            let counts = try store.read { try $0.counts() }
            #expect(counts.answers == 2 && counts.openTasks == 1 && counts.rounds == 1)
        }
    }

    /// Answers, rounds and the people who give them read back the same on every backend.
    @Test(arguments: Backend.available)
    func answersRoundsAndPeopleReadBackInOrder(backend: Backend) throws {
        try backend.withProject { store, _ in
            let now = Date().timeIntervalSince1970
            let round = try F.queue(store, overlap: 2)
            let tasks = try store.read { try $0.openTasks(round: round, annotator: "ann", limit: nil, now: now) }
            let ids = try store.write { w -> [Int64] in
                [try w.insertAnswer(taskID: tasks[0].taskID, annotator: "ann", label: "a", seconds: 1.5, note: "sure", flagged: false),
                 try w.insertAnswer(taskID: tasks[1].taskID, annotator: "ann", label: nil, seconds: 2, note: nil, flagged: true),
                 try w.insertAnswer(taskID: tasks[0].taskID, annotator: "bo", label: nil, seconds: 3, note: nil, flagged: false)]
            }
            #expect(ids == [1, 2, 3])
            try store.read { r throws in
                let all = try r.answers(round: nil)
                #expect(all.map(\.answerID) == [1, 2, 3])
                #expect(all[0] == AnswerRecord(answerID: 1, taskID: tasks[0].taskID, roundID: round, itemKey: tasks[0].item.key,
                                               itemID: "i0", annotator: "ann", label: "a", seconds: 1.5, note: "sure", flagged: false))
                #expect(all[1].flagged && all[1].label == nil && all[1].blind)
                #expect(try r.answers(round: round + 1).isEmpty)
                #expect(try r.answers(itemKey: tasks[0].item.key).map(\.annotator) == ["ann", "bo"])
                #expect(try r.answer(2)?.itemID == "i2" && r.answer(9) == nil)
                #expect(try r.latestAnswer(round: round, annotator: "ann")?.answerID == 2)
                #expect(try r.answerCount(round: round, annotator: "ann") == 2)
                #expect(try r.answerCount(round: round, annotator: "bo") == 0, "a skip does not count")
                #expect(try r.taskedItemKeys() == Set(tasks.map(\.item.key)))
                #expect(try r.taskStates(round: round).map(\.done) == [1, 0, 1])
                #expect(try r.openRound()?.id == round && r.rounds().map(\.status) == [.open])
                #expect(try r.picks(round: round).map(\.itemID) == ["i0", "i1", "i2"])
                #expect(try r.picks(round: round).map(\.pick.deadline) == [500, 2_000, 1_000])
            }
            // Undo the newest answer: its id is handed out again, as SQLite reuses the largest rowid.
            #expect(try store.write { w in try w.deleteAnswer(3) })
            #expect(try store.write { w in try w.deleteAnswer(3) } == false)
            let again = try store.write { w throws in
                try w.insertAnswer(taskID: tasks[2].taskID, annotator: "bo", label: "b", seconds: 1, note: nil, flagged: false)
            }
            #expect(again == 3)
            try store.write { w throws in
                try w.closeRound(round, metricsJSON: "{\"x\":1}")
                try w.setAnnotator("Émile", role: "adjudicator")
                try w.setAnnotator("Zed", role: "lead")
                try w.setAnnotator("ann", role: "adjudicator")
                try w.ensureAnnotator("ann", role: "annotator")
                try w.setTokenHash("Zed", "abc123")
            }
            try store.read { r throws in
                #expect(try r.round(round)?.status == .closed && r.round(round)?.metricsJSON == "{\"x\":1}")
                #expect(try r.openRound() == nil)
                // By bytes, as SQLite's BINARY collation sorts: upper case, lower case, then accents.
                #expect(try r.annotators().map(\.name) == ["Zed", "ann", "bo", "cy", "Émile"])
                #expect(try r.annotators().first { $0.name == "ann" }?.role == "adjudicator")
                #expect(try r.annotator(tokenHash: "abc123")?.name == "Zed" && r.annotator(tokenHash: "nope") == nil)
            }
        }
    }

    @Test(arguments: Backend.available)
    func cancellingARoundRemovesItsTasksClaimsAndAutoLabels(backend: Backend) throws {
        try backend.withProject { store, _ in
            let round = try F.queue(store, overlap: 1)
            let now = Date().timeIntervalSince1970
            _ = try F.claim(store, round, "ann", at: now)
            try store.write { w throws in
                try w.insertModel(ModelVersion(id: "m1", createdAt: "t", kind: "k", settingsJSON: "{}", trainedOn: 1,
                                               metricsJSON: "{}", state: [1], isLive: true))
                try w.insertAutoLabels([AutoLabel(itemKey: 1, label: "a", confidence: 0.99, roundID: round, modelVersion: "m1", audited: true)])
            }
            #expect(try store.read { try $0.autoLabels()[1]?.audited } == true)
            try store.write { w in try w.cancelRound(round) }
            try store.read { r throws in
                #expect(try r.round(round)?.status == .cancelled && r.round(round)?.closedAt != nil)
                #expect(try r.taskStates(round: round).isEmpty && r.activeClaims(round: round, now: now).isEmpty)
                #expect(try r.autoLabels().isEmpty && r.taskedItemKeys().isEmpty && r.counts().openTasks == 0)
            }
            let next = try store.write { w in try w.createRound(modelVersion: "m1", overlap: 1, settingsJSON: "{}", picks: []) }
            #expect(next == round + 1)
        }
    }
}
