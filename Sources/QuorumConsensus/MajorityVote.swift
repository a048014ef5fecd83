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
    /// Posterior confidence: the largest posterior of the item (for majority vote,
    /// the winning share of the votes), also when the item is a dispute.
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
/// Posterior: each item's vote shares. Tie rule: when two or more labels share
/// the highest count, the item has no majority and is a dispute (label nil);
/// nothing is decided by order or chance. With the default `disputeBelow` of 0
/// that is the only kind of dispute (a plurality wins); a larger threshold also
/// disputes items whose winning share is below it. An item with a single
/// answer gets that answer with confidence 1.
///
/// Annotator quality: agreement with the majority label, over all the
/// annotator's answers; on a tied item an answer among the t tied labels counts
/// 1/t (its expected agreement under a fair coin between them). No weights, no
/// confusion matrix.
public struct MajorityVote: Aggregator {
    public var disputeBelow: Double
    public var method: String { "majority" }

    /// Only ties are disputes by default.
    public static let defaultDisputeBelow = 0.0

    public init(disputeBelow: Double = MajorityVote.defaultDisputeBelow) {
        self.disputeBelow = disputeBelow
    }

    /// - Complexity: O(votes + items · k), expected.
    public func aggregate(_ votes: [Vote], labels: [String]) throws(AggregationError) -> Aggregation {
        aggregate(try VoteTable(votes, labels: labels))
    }

    /// Majority vote over pre-encoded votes.
    ///
    /// - Complexity: O(answers + items · k).
    public func aggregate(_ table: VoteTable) -> Aggregation {
        let k = table.labels.count, n = table.items.count
        var posteriors = [Double](repeating: 0, count: n * k)
        var agreement = [Double](repeating: 0, count: table.annotators.count)
        for i in 0..<n {
            let lo = Int(table.itemStart[i]), hi = Int(table.itemStart[i + 1]), row = i * k
            for j in lo..<hi { posteriors[row + Int(table.label[j])] += 1 }   // exact counts first
            var top = 0.0, tied = 0.0
            for c in 0..<k {
                let count = posteriors[row + c]
                if count > top { top = count; tied = 1 } else if count == top { tied += 1 }
            }
            for j in lo..<hi where posteriors[row + Int(table.label[j])] == top {
                agreement[Int(table.annotator[j])] += 1 / tied
            }
            let share = 1 / Double(hi - lo)
            for c in 0..<k { posteriors[row + c] *= share }
        }
        let answers = table.answersPerAnnotator()
        let qualities = table.annotators.indices.map { a in
            AnnotatorQuality(annotator: table.annotators[a], accuracy: agreement[a] / Double(answers[a]), answers: answers[a])
        }
        return Aggregation(method: method, labels: table.labels,
                           verdicts: Verdict.decideAll(table, posteriors: posteriors, disputeBelow: disputeBelow),
                           posteriors: posteriors, annotators: qualities)
    }

    /// Majority vote with the default threshold over the labels the votes use: the verdicts only.
    ///
    /// - Complexity: O(votes + items · k), expected.
    public static func aggregate(_ votes: [Vote]) -> [Verdict] {
        guard !votes.isEmpty else { return [] }
        let labels = Set(votes.map(\.label)).sorted()
        do {
            return try MajorityVote().aggregate(votes, labels: labels).verdicts
        } catch {
            preconditionFailure("labels are taken from the votes, so none is unknown: \(error)")
        }
    }
}
