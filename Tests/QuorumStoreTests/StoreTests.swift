import Foundation
import Testing
import QuorumCore
@testable import QuorumStore

@Suite struct StoreTests {
    func tempProject() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("quorum-store-\(UUID().uuidString)").path
        return dir
    }

    func item(_ id: String, _ text: String, kind: ItemKind = .pool, label: String? = nil) -> NewItem {
        NewItem(id: id, kind: kind, contentHash: Int64(text.utf8.count * 1000 + Int(text.utf8.first ?? 0)), text: text, vector: nil, metaJSON: nil, label: label)
    }

    @Test func createRefusesToOverwriteAndOpenNeedsAProject() throws {
        let dir = tempProject()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: QuorumError.self) { try SQLiteStore.open(project: dir) }
        _ = try SQLiteStore.create(inProject: dir, name: "t", labels: try LabelSet(["a", "b"]))
        #expect(throws: QuorumError.self) { try SQLiteStore.create(inProject: dir, name: "t", labels: try LabelSet(["a", "b"])) }
        let store = try SQLiteStore.open(project: dir)
        let info = try store.read { try $0.project() }
        #expect(info.labels.names == ["a", "b"])
        #expect(info.name == "t")
    }

    @Test func insertReportsDuplicatesAndConflicts() throws {
        let dir = tempProject()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteStore.create(inProject: dir, name: "t", labels: try LabelSet(["a", "b"]))
        try store.write { w in
            let outcomes = [try w.insert(item("1", "hello")), try w.insert(item("1", "hello")),
                            try w.insert(item("1", "other")), try w.insert(item("2", "hello"))]
            #expect(outcomes == [.inserted, .duplicate, .conflict(existingKind: .pool), .inserted])
            let duplicates = try w.contentDuplicates(keysAbove: 0)
            #expect(duplicates == 2)
        }
        #expect(try store.read { try $0.counts() }.items[.pool] == 2)
    }

    @Test func aThrowingWriteLeavesNothingBehind() throws {
        struct Boom: Error {}
        let dir = tempProject()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteStore.create(inProject: dir, name: "t", labels: try LabelSet(["a", "b"]))
        #expect(throws: Boom.self) {
            try store.write { w in
                _ = try w.insert(item("1", "hello"))
                throw Boom()
            }
        }
        #expect(try store.read { try $0.counts() }.items[.pool] == 0)
    }

    @Test func vectorsRoundTrip() throws {
        let dir = tempProject()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteStore.create(inProject: dir, name: "t", labels: try LabelSet(["a", "b"]))
        try store.write { w in
            _ = try w.insert(NewItem(id: "v", kind: .seed, contentHash: 42, text: nil, vector: [1.5, -2, 0.25],
                                     metaJSON: "{\"source\":\"web\"}", label: "b"))
        }
        let items = try store.read { try $0.items(kinds: [.seed]) }
        #expect(items.first?.vector == [1.5, -2, 0.25])
        #expect(items.first?.metaJSON == "{\"source\":\"web\"}")
        #expect(items.first?.label == "b")
    }

    @Test func eventLogIsChainedAndAppendOnly() throws {
        let dir = tempProject()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteStore.create(inProject: dir, name: "t", labels: try LabelSet(["a", "b"]))
        try store.write { w in
            try w.appendEvent(EventRecord(kind: "one"))
            try w.appendEvent(EventRecord(kind: "two", itemID: "x", confidence: 0.5))
        }
        #expect(throws: (any Error).self) { try store.executeForTesting("UPDATE events SET kind = 'edited' WHERE seq = 1") }
        #expect(throws: (any Error).self) { try store.executeForTesting("DELETE FROM events") }
    }

    @Test func eachAnnotatorAnswersATaskOnce() throws {
        let dir = tempProject()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteStore.create(inProject: dir, name: "t", labels: try LabelSet(["a", "b"]))
        try store.write { w in
            _ = try w.insert(item("1", "hello"))
            _ = try w.insert(item("2", "world"))
            let keys = try w.items(kinds: [.pool]).map(\.key)
            let round = try w.createRound(modelVersion: nil, overlap: 2, settingsJSON: "{}", picks: [
                TaskPick(itemKey: keys[0], strategy: .random, score: 0.2, rank: 2, uncertainty: 0.2),
                TaskPick(itemKey: keys[1], strategy: .random, score: 0.9, rank: 1, uncertainty: 0.9),
            ])
            try w.ensureAnnotator("ann", role: "annotator")
            try w.ensureAnnotator("bo", role: "annotator")
            try w.ensureAnnotator("cy", role: "annotator")
            let open = try w.openTasks(round: round, annotator: "ann", limit: nil, now: Date().timeIntervalSince1970)
            #expect(open.map(\.item.id) == ["2", "1"], "most uncertain first")
            _ = try w.insertAnswer(taskID: open[0].taskID, annotator: "ann", label: "a", seconds: 1, note: nil, flagged: false)
            var rejected = false
            do {
                _ = try w.insertAnswer(taskID: open[0].taskID, annotator: "ann", label: "b", seconds: 1, note: nil, flagged: false)
            } catch is QuorumError { rejected = true }
            #expect(rejected, "a second answer to the same task is refused")
            let left = try w.openTasks(round: round, annotator: "ann", limit: nil, now: Date().timeIntervalSince1970).map(\.item.id)
            #expect(left == ["1"])
            _ = try w.insertAnswer(taskID: open[0].taskID, annotator: "bo", label: "a", seconds: 1, note: nil, flagged: false)
            let forCy = try w.openTasks(round: round, annotator: "cy", limit: nil, now: Date().timeIntervalSince1970).map(\.item.id)
            #expect(forCy == ["1"], "a task with K answers is done")
            let progress = try w.taskProgress(round: round)
            #expect(progress.tasks == 2 && progress.complete == 1 && progress.answers == 2)
        }
    }
}
