import QuorumNumerics

/// One candidate the sampler may pick.
public struct Candidate: Sendable, Equatable {
    /// The item's store key.
    public var key: Int64
    /// Items with equal content share a group; a batch takes at most one per group.
    public var contentGroup: Int64
    public var score: Double

    public init(key: Int64, contentGroup: Int64, score: Double) {
        self.key = key
        self.contentGroup = contentGroup
        self.score = score
    }
}

/// A picked candidate with its 1-based rank.
public struct Selected: Sendable, Equatable {
    public var key: Int64
    public var score: Double
    public var rank: Int
}

/// The one selection path every strategy shares: the top `count` candidates
/// by score, ties broken by a seeded random order (so equal scores never
/// favour import order), skipping candidates whose content group is already
/// in the batch or in `excludedGroups`.
public enum Selection {
    /// - Complexity: O(n log n).
    public static func top(_ candidates: [Candidate], count: Int, seed: UInt64,
                           excludedGroups: Set<Int64> = []) -> [Selected] {
        var rng = SeededGenerator(seed: seed)
        let tiebreak = candidates.map { _ in rng.next() }
        let order = candidates.indices.sorted { a, b in
            if candidates[a].score != candidates[b].score { return candidates[a].score > candidates[b].score }
            return tiebreak[a] < tiebreak[b]
        }
        var groups = excludedGroups
        var out: [Selected] = []
        out.reserveCapacity(min(count, candidates.count))
        for i in order where out.count < count {
            let c = candidates[i]
            guard groups.insert(c.contentGroup).inserted else { continue }
            out.append(Selected(key: c.key, score: c.score, rank: out.count + 1))
        }
        return out
    }
}

