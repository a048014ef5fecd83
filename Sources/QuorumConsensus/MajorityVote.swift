/// One annotator's label for one item: the input of every aggregator.
public struct Vote: Sendable, Equatable {
    public var item: Int64
    public var annotator: String
    public var label: String

    public init(item: Int64, annotator: String, label: String) {
        self.item = item
        self.annotator = annotator
        self.label = label
    }
}

/// An aggregator's verdict for one item.
public struct Verdict: Sendable, Equatable {
    public var item: Int64
    /// The winning label; nil when the item is a dispute.
    public var label: String?
    /// Posterior confidence in `label`: here, the winning share of the votes.
    public var confidence: Double
    public var votes: Int
    public var isDispute: Bool { label == nil }

    public init(item: Int64, label: String?, confidence: Double, votes: Int) {
        self.item = item
        self.label = label
        self.confidence = confidence
        self.votes = votes
    }
}

/// Majority vote.
///
/// Tie rule: when two or more labels share the highest count, the item has no
/// majority and is a dispute (label nil); nothing is decided by order or chance.
/// An item with a single answer gets that answer with confidence 1.
public enum MajorityVote {
    /// - Complexity: O(votes).
    public static func aggregate(_ votes: [Vote]) -> [Verdict] {
        var counts: [Int64: [String: Int]] = [:]
        var order: [Int64] = []
        for v in votes {
            if counts[v.item] == nil { order.append(v.item) }
            counts[v.item, default: [:]][v.label, default: 0] += 1
        }
        return order.sorted().map { item in
            let tally = counts[item]!
            let total = tally.values.reduce(0, +)
            let best = tally.values.max()!
            let winners = tally.filter { $0.value == best }
            let label = winners.count == 1 ? winners.first!.key : nil
            return Verdict(item: item, label: label, confidence: Double(best) / Double(total), votes: total)
        }
    }
}
