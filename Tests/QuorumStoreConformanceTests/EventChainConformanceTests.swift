import Foundation
import QuorumCore
import QuorumStore
import Testing

/// The append-only, hash-chained event log, on every backend.
@Suite struct EventChainConformanceTests {
    @Test(arguments: Backend.available)
    func appendsChainAndReadBack(backend: Backend) throws {
        try backend.withProject { store, _ in
            #expect(try store.read { try $0.eventHead() } == nil)
            try store.write { w throws in
                try w.appendEvent(EventRecord(kind: "one"))
                try w.appendEvent(EventRecord(kind: "two", itemID: "x", annotator: "ann", modelVersion: "m1", confidence: 0.5,
                                              detailJSON: "{\"k\":[1,2]}"))
                try w.appendEvent(EventRecord(kind: "three", itemID: "y"))
            }
            let events = try store.read { try $0.events(itemID: nil) }
            #expect(events.map(\.seq) == [1, 2, 3])
            #expect(events.map(\.event.kind) == ["one", "two", "three"])
            #expect(events[0].previousHash == EventChain.genesis && events[1].previousHash == events[0].hash)
            #expect(events[1].event == EventRecord(kind: "two", itemID: "x", annotator: "ann", modelVersion: "m1", confidence: 0.5,
                                                   detailJSON: "{\"k\":[1,2]}"))
            #expect(EventChain.verify(events) == nil)
            let head = try #require(try store.read { try $0.eventHead() })
            #expect(head.seq == 3 && head.hash == events[2].hash)
            #expect(try store.read { try $0.events(itemID: "x") }.map(\.seq) == [2])
            #expect(try store.read { try $0.events(kinds: ["two", "three"]) }.map(\.seq) == [2, 3])
            #expect(try store.read { try $0.events(kinds: ["none"]) }.isEmpty && (try store.read { try $0.events(kinds: []) }.isEmpty))
        }
    }

    @Test(arguments: Backend.available)
    func theLogIsAppendOnly(backend: Backend) throws {
        try backend.withProject { store, place in
            try store.write { w throws in
                try w.appendEvent(EventRecord(kind: "one"))
                try w.appendEvent(EventRecord(kind: "two", itemID: "x", confidence: 0.5))
            }
            #expect(throws: (any Error).self) { try place.tamper("UPDATE events SET kind = 'edited' WHERE seq = 1") }
            #expect(throws: (any Error).self) { try place.tamper("DELETE FROM events") }
            #expect(try store.read { try $0.events(itemID: nil) }.map(\.event.kind) == ["one", "two"])
        }
    }

    /// Writers on two stores append at once: the chain never forks, and its
    /// sequence numbers have no gaps.
    @Test(arguments: Backend.available)
    func concurrentAppendsFromTwoStoresNeverFork(backend: Backend) throws {
        try backend.withProject { first, place in
            let second = try place.open()
            let writers = 8, each = 10
            let failures = Gathered()
            DispatchQueue.concurrentPerform(iterations: writers) { n in
                let store = n % 2 == 0 ? first : second
                for i in 0..<each {
                    do {
                        try store.write { w throws in
                            // Read the head, then extend it in the same transaction: a second writer must not extend it too.
                            let before = try w.eventHead()
                            try w.appendEvent(EventRecord(kind: "w\(n)", detailJSON: "{\"i\":\(i)}"))
                            guard let after = try w.eventHead(), after.seq == (before?.seq ?? 0) + 1 else {
                                throw QuorumError(.failedCheck, "writer \(n) saw the head move under it")
                            }
                        }
                    } catch { failures.add(error) }
                }
            }
            #expect(failures.all.isEmpty, "\(failures.all)")
            let events = try first.read { try $0.events(itemID: nil) }
            #expect(events.count == writers * each)
            #expect(events.map(\.seq) == Array(1...Int64(writers * each)))
            #expect(Set(events.map(\.previousHash)).count == events.count, "no event has two successors")
            #expect(EventChain.verify(events) == nil)
            #expect(try second.read { try $0.eventHead()?.hash } == events.last?.hash)
        }
    }
}

/// Lines (errors, observations) gathered from several threads.
final class Gathered: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func add(_ line: String) { lock.withLock { lines.append(line) } }
    func add(_ error: any Error) { add("\(error)") }
    var all: [String] { lock.withLock { lines } }
}
