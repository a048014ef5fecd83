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
/// **Evidence.** A weight is only as good as the gold answers behind it: an
/// annotator needs `minimumGold` gold answers (default 10) for a weight of
/// their own. One with fewer gets the weight of the pooled record (all gold
/// answers of everyone passed in `gold`, smoothed the same way): the average
/// annotator. When the pooled record itself has fewer than `minimumGold`
/// answers, every weight is 1 and the labels are those of plain majority
/// vote, so thin evidence never decides a tie. Each annotator's quality says
/// how many gold answers stand behind the weight and where it came from, and
/// the aggregation's `notes` say when it fell back.
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
    /// Gold answers an annotator needs for a weight of their own.
    public var minimumGold: Int
    public var method: String { "weighted" }

    /// An item whose posterior stays below 0.5 is a dispute.
    public static let defaultDisputeBelow = 0.5
    /// With 10 gold answers the smoothed accuracy's standard error is at most
    /// about 0.14; with 5 it is 0.19, and one wrong answer moves a perfect
    /// record's weight by more than a whole vote.
    public static let defaultMinimumGold = 10

    public init(gold: [String: GoldRecord], disputeBelow: Double = WeightedMajority.defaultDisputeBelow,
                minimumGold: Int = WeightedMajority.defaultMinimumGold) {
        self.gold = gold
        self.disputeBelow = disputeBelow
        self.minimumGold = max(1, minimumGold)
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
        var thin: [String] = []
        for (a, name) in table.annotators.enumerated() {
            let accuracy: Double, basis: String
            let own = gold[name]?.answered ?? 0
            if let r = gold[name], r.answered >= minimumGold {
                accuracy = Self.smoothedAccuracy(r)
                weights[a] = Self.weight(accuracy: accuracy, classes: k)
                basis = "own gold"
            } else if pooled.answered >= minimumGold {
                accuracy = Self.smoothedAccuracy(pooled)
                weights[a] = Self.weight(accuracy: accuracy, classes: k)
                basis = "pooled gold"
                thin.append(name)
            } else {
                accuracy = k > 1 ? M_E / (Double(k - 1) + M_E) : 1   // what weight 1 stands for
                basis = "none"
            }
            var quality = AnnotatorQuality(annotator: name, accuracy: accuracy, answers: answers[a], weight: weights[a])
            quality.goldAnswers = own
            quality.weightBasis = basis
            qualities.append(quality)
        }
        var notes: [String] = []
        if pooled.answered < minimumGold {
            notes.append("only \(pooled.answered) gold answers in all (fewer than \(minimumGold)): every weight is 1, as in majority vote")
        } else if !thin.isEmpty {
            notes.append("\(thin.count) annotator\(thin.count == 1 ? " has" : "s have") fewer than \(minimumGold) gold answers "
                         + "(\(thin.prefix(5).joined(separator: ", "))\(thin.count > 5 ? ", …" : "")): they get the pooled gold weight")
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
        var result = Aggregation(method: method, labels: table.labels,
                                 verdicts: Verdict.decideAll(table, posteriors: posteriors, disputeBelow: disputeBelow),
                                 posteriors: posteriors, annotators: qualities)
        result.notes = notes
        return result
    }
}
