#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Weighted majority vote, with each annotator's weight taken from their
/// accuracy on gold items (items whose answer is known).
///
/// **Weights.** With L classes, an annotator who is right with probability a
/// and otherwise picks one of the L − 1 wrong labels uniformly ("symmetric
/// noise") makes the log-odds weight w = log((L − 1) · a / (1 − a)) optimal:
/// under that model and a uniform class prior, the posterior of class c given
/// the answers is ∝ exp(Σ_{answers with label c} w) (Nitzan & Paroush, 1982;
/// Li & Yu, 2014). The accuracy is Laplace-smoothed, a = (right + 1) / (answered + 2),
/// so a perfect gold record gives a large finite weight and a short record
/// stays near the prior. An annotator no better than chance (a ≤ 1/L) gets
/// weight 0: their answer carries no evidence (the model would give them a
/// negative weight, which lets a vote count against its own label; Quorum
/// does not do that).
///
/// **Prior weight.** An annotator with no gold answers gets the weight of the
/// pooled record (all gold answers of everyone passed in `gold`, smoothed the
/// same way): the average annotator. When nobody has a gold answer every
/// weight is 1, and the labels are those of plain majority vote.
///
/// **Posterior**: the softmax over classes of the weighted vote totals — the
/// exact posterior under the model above. A single answer from an annotator of
/// accuracy a thus gets confidence a. The shared dispute rule applies
/// (default threshold 0.5); an exact tie of totals is a dispute.
///
/// **Annotator quality**: accuracy = the smoothed gold accuracy (for annotators
/// without gold, the accuracy their prior weight stands for,
/// e^w / (L − 1 + e^w)); weight = w. No confusion matrix.
public struct WeightedMajority: Aggregator {
    /// One annotator's answers on gold items.
    public struct GoldRecord: Sendable, Equatable {
        public var answered: Int
        public var correct: Int
        public init(answered: Int, correct: Int) {
            self.answered = answered
            self.correct = correct
        }
    }

    /// Gold records by annotator name; annotators missing here have no gold answers.
    public var gold: [String: GoldRecord]
    public var disputeBelow: Double
    public var method: String { "weighted" }

    /// An item whose posterior stays below 0.5 is a dispute.
    public static let defaultDisputeBelow = 0.5

    public init(gold: [String: GoldRecord], disputeBelow: Double = WeightedMajority.defaultDisputeBelow) {
        self.gold = gold
        self.disputeBelow = disputeBelow
    }

    /// Laplace-smoothed accuracy: (correct + 1) / (answered + 2).
    public static func smoothedAccuracy(_ record: GoldRecord) -> Double {
        Double(record.correct + 1) / Double(record.answered + 2)
    }

    /// The log-odds weight log((L − 1) · a / (1 − a)) of accuracy `a` over `classes` = L
    /// classes, clamped at 0 (a ≤ 1/L carries no evidence). With one class, 1.
    public static func weight(accuracy a: Double, classes: Int) -> Double {
        guard classes > 1 else { return 1 }
        return max(0, log(Double(classes - 1) * a / (1 - a)))
    }

    /// - Complexity: O(votes + items · k + annotators), expected.
    public func aggregate(_ votes: [Vote], labels: [String]) throws(AggregationError) -> Aggregation {
        try aggregate(try VoteTable(votes, labels: labels))
    }

    /// Weighted majority over pre-encoded votes.
    ///
    /// - Throws: ``AggregationError/badGold(annotator:answered:correct:)`` for an impossible gold record.
    /// - Complexity: O(answers + items · k + annotators); one exp per item and class.
    public func aggregate(_ table: VoteTable) throws(AggregationError) -> Aggregation {
        let k = table.labels.count, n = table.items.count
        var pooled = GoldRecord(answered: 0, correct: 0)
        for name in gold.keys.sorted() {   // sorted: the same sums in every run
            let r = gold[name]!
            guard r.answered >= 0, r.correct >= 0, r.correct <= r.answered else {
                throw .badGold(annotator: name, answered: r.answered, correct: r.correct)
            }
            pooled.answered += r.answered
            pooled.correct += r.correct
        }
        let answers = table.answersPerAnnotator()
        var weights = [Double](repeating: 1, count: table.annotators.count)
        var qualities: [AnnotatorQuality] = []
        qualities.reserveCapacity(table.annotators.count)
        for (a, name) in table.annotators.enumerated() {
            let accuracy: Double
            if let r = gold[name], r.answered > 0 {
                accuracy = Self.smoothedAccuracy(r)
                weights[a] = Self.weight(accuracy: accuracy, classes: k)
            } else if pooled.answered > 0 {
                accuracy = Self.smoothedAccuracy(pooled)
                weights[a] = Self.weight(accuracy: accuracy, classes: k)
            } else {
                accuracy = k > 1 ? M_E / (Double(k - 1) + M_E) : 1   // what weight 1 stands for
            }
            qualities.append(AnnotatorQuality(annotator: name, accuracy: accuracy, answers: answers[a], weight: weights[a]))
        }

        var posteriors = [Double](repeating: 0, count: n * k)
        for i in 0..<n {
            let row = i * k
            for j in Int(table.itemStart[i])..<Int(table.itemStart[i + 1]) {
                posteriors[row + Int(table.label[j])] += weights[Int(table.annotator[j])]
            }
            var top = -Double.infinity
            for c in 0..<k { top = max(top, posteriors[row + c]) }
            var total = 0.0
            for c in 0..<k {
                let e = exp(posteriors[row + c] - top)
                posteriors[row + c] = e
                total += e
            }
            for c in 0..<k { posteriors[row + c] /= total }
        }
        return Aggregation(method: method, labels: table.labels,
                           verdicts: Verdict.decideAll(table, posteriors: posteriors, disputeBelow: disputeBelow),
                           posteriors: posteriors, annotators: qualities)
    }
}
