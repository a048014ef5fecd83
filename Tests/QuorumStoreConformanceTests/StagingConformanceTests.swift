import Foundation
import QuorumCore
import QuorumStore
import Testing

/// Staged imports: items staged in short transactions stay invisible until
/// published all at once; clashes are found in bulk, in file order.
@Suite struct StagingConformanceTests {
    typealias F = Fixture

    static func item(_ n: Int, text: String? = nil, kind: ItemKind = .pool, label: String? = nil) -> NewItem {
        let text = text ?? "staged \(n)"
        return NewItem(id: "s\(n)", kind: kind, contentHash: Int64(n) * 7919 + Int64(text.utf8.count), text: text, vector: [Float(n), 0.5],
                metaJSON: n % 2 == 0 ? "{\"even\":true}" : nil, label: label)
    }

    /// Many items over several transactions (more than one multi-row statement
    /// each), with ids repeated within the file: each repeat is judged against
    /// the earlier one, whichever transaction staged it.
    @Test(arguments: Backend.available)
    func stagedItemsAreInvisibleUntilPublishedInFileOrder(backend: Backend) throws {
        try backend.withProject { store, _ in
            let batch: Int64 = 41
            let chunks = [Array(0..<2_500), Array(2_500..<5_000)]
            var outcomes: [InsertOutcome] = []
            for (c, chunk) in chunks.enumerated() {
                try store.write { w throws in
                    for n in chunk { outcomes.append(try w.stage(Self.item(n), batch: batch, line: n + 1)) }
                    if c == 1 {
                        outcomes.append(try w.stage(Self.item(10), batch: batch, line: 5_001))                        // same as line 11
                        outcomes.append(try w.stage(Self.item(20, text: "changed"), batch: batch, line: 5_002))     // content differs
                        outcomes.append(try w.stage(Self.item(4_990, kind: .seed, label: "a"), batch: batch, line: 5_003))   // kind differs
                    }
                }
                #expect(try store.read { try $0.counts() }.items[.pool] == 0, "nothing visible while staging")
            }
            #expect(outcomes.prefix(5_000).allSatisfy { $0 == .inserted })
            #expect(Array(outcomes.suffix(3)) == [.duplicate, .conflict(existingKind: .pool), .conflict(existingKind: .pool, difference: "kind")])
            let published = try store.write { w -> Int in
                #expect(try w.stagedClashes(batch: batch).duplicates == 0)
                return try w.publishStaged(batch: batch)
            }
            #expect(published == 5_000)
            let items = try store.read { try $0.items(kinds: [.pool]) }
            #expect(items.map(\.id) == (0..<5_000).map { "s\($0)" }, "keys follow the file's order")
            #expect(items.map(\.key) == Array(1...5_000))
            #expect(items[3] == StoredItem(key: 4, id: "s3", kind: .pool, contentHash: Self.item(3).contentHash, text: "staged 3", vector: [3, 0.5],
                                           metaJSON: nil, label: nil))
            #expect(items[4].metaJSON == "{\"even\":true}")
        }
    }

    /// Ids the project already has: duplicates are counted, and the first
    /// conflict in file order is reported with its line.
    @Test(arguments: Backend.available)
    func clashesWithTheProjectAreFoundInFileOrder(backend: Backend) throws {
        try backend.withProject { store, _ in
            try store.write { w throws in
                _ = try w.insert(Self.item(1))
                _ = try w.insert(Self.item(2))
                _ = try w.insert(Self.item(3, kind: .seed, label: "a"))
            }
            let batch: Int64 = 7
            try store.write { w throws in
                for (line, item) in [Self.item(9), Self.item(1), Self.item(3, kind: .seed, label: "b"), Self.item(2, text: "new")].enumerated() {
                    #expect(try w.stage(item, batch: batch, line: line + 1) == .inserted)
                }
            }
            let clashes = try store.write { w in try w.stagedClashes(batch: batch) }
            #expect(clashes.duplicates == 1)
            #expect(clashes.conflict?.line == 3 && clashes.conflict?.id == "s3")
            #expect(clashes.conflict?.outcome == .conflict(existingKind: .seed, difference: "label"))
            // A failed import drops its batch; the project is as it was.
            try store.write { w in try w.dropStaged(batch: batch, staleAfter: 86_400) }
            #expect(try store.write { w in try w.publishStaged(batch: batch) } == 0)
            #expect(try store.read { try $0.lastItemKey() } == 3)
        }
    }

    /// Publishing skips ids the project got meanwhile, and keeps other batches' rows.
    @Test(arguments: Backend.available)
    func publishingSkipsIdsThatArrivedMeanwhileAndKeepsOtherBatches(backend: Backend) throws {
        try backend.withProject { store, place in
            let other = try place.open()
            try store.write { w throws in
                for n in 0..<4 { _ = try w.stage(Self.item(n), batch: 1, line: n + 1) }
            }
            try other.write { w throws in
                _ = try w.insert(Self.item(2))
                _ = try w.stage(Self.item(100), batch: 2, line: 1)
            }
            #expect(try store.write { w in try w.publishStaged(batch: 1) } == 3)
            #expect(try store.read { try $0.items(kinds: [.pool]).map(\.id) } == ["s2", "s0", "s1", "s3"])
            // Batch 2 is still staged; staging it again from the first store checks against the table.
            let again = try store.write { w in try w.stage(Self.item(100), batch: 2, line: 2) }
            #expect(again == .duplicate)
            #expect(try other.write { w in try w.publishStaged(batch: 2) } == 1)
            #expect(try store.read { try $0.lastItemKey() } == 5)
        }
    }

    /// A transaction that fails while staging keeps none of its items; a batch
    /// left behind by a killed import is dropped once stale.
    @Test(arguments: Backend.available)
    func aFailedStagingKeepsNothingAndStaleBatchesAreDropped(backend: Backend) throws {
        struct Boom: Error {}
        try backend.withProject { store, _ in
            #expect(throws: Boom.self) {
                try store.write { w throws in
                    for n in 0..<3 { _ = try w.stage(Self.item(n), batch: 5, line: n + 1) }
                    throw Boom()
                }
            }
            #expect(try store.write { w in try w.publishStaged(batch: 5) } == 0)
            // Staged again after the rollback: the store does not take the lost rows for earlier ones.
            let outcomes = try store.write { w in try (0..<3).map { try w.stage(Self.item($0), batch: 5, line: $0 + 1) } }
            #expect(outcomes == [.inserted, .inserted, .inserted])
            try store.write { w in _ = try w.stage(Self.item(50), batch: 6, line: 1) }
            // Batch 6 counts as stale when anything staged before "now + 1 s" is stale.
            try store.write { w in try w.dropStaged(batch: 99, staleAfter: -1) }
            #expect(try store.write { w in try w.publishStaged(batch: 6) } == 0)
            #expect(try store.write { w in try w.publishStaged(batch: 5) } == 0, "batch 5 was stale too")
            #expect(try store.read { try $0.counts() }.items[.pool] == 0)
        }
    }
}
