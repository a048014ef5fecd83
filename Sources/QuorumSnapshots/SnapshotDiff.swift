import QuorumCore

/// What changed between two snapshots.
public struct SnapshotDiff: Sendable, Equatable {
    public struct Relabel: Sendable, Equatable {
        public var id: String
        public var from: String
        public var to: String
    }
    /// Ids only in the newer snapshot, sorted.
    public var added: [String]
    /// Ids only in the older snapshot, sorted.
    public var removed: [String]
    /// Ids in both whose label differs, sorted by id.
    public var relabelled: [Relabel]
    /// Ids in both with the same label.
    public var unchanged: Int

    /// Compares `old` with `new`.
    ///
    /// - Complexity: O(n log n).
    public init(old: [SnapshotRow], new: [SnapshotRow]) {
        let before = Dictionary(old.map { ($0.id, $0.label) }, uniquingKeysWith: { a, _ in a })
        let after = Dictionary(new.map { ($0.id, $0.label) }, uniquingKeysWith: { a, _ in a })
        added = after.keys.filter { before[$0] == nil }.sorted()
        removed = before.keys.filter { after[$0] == nil }.sorted()
        var relabelled: [Relabel] = []
        var unchanged = 0
        for (id, label) in after {
            guard let previous = before[id] else { continue }
            if previous == label { unchanged += 1 } else { relabelled.append(Relabel(id: id, from: previous, to: label)) }
        }
        self.relabelled = relabelled.sorted { $0.id < $1.id }
        self.unchanged = unchanged
    }
}
