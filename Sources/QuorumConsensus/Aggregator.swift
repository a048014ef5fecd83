/// The contract every consensus method meets.
///
/// An aggregator turns votes over a fixed list of classes into, per item that
/// has at least one vote, a ``Verdict`` (label or dispute, posterior confidence,
/// number of votes) and a posterior row, and per annotator an
/// ``AnnotatorQuality`` estimate. Items without votes never appear.
///
/// **Dispute rule** (the same for every method): an item is a dispute — its
/// verdict's label is nil — when its largest posterior is below the
/// aggregator's `disputeBelow`, or when two or more classes share the largest
/// posterior exactly (no unique top label). The confidence is the largest
/// posterior either way. See ``Verdict/decide(item:posterior:labels:votes:disputeBelow:)``.
///
/// Conformers: ``MajorityVote``, ``WeightedMajority``, ``DawidSkene``, ``ModelAware``.
public protocol Aggregator: Sendable {
    /// The method's name as the command line spells it, e.g. "dawid-skene".
    var method: String { get }
    /// Posterior threshold of the dispute rule: a top posterior below it is a dispute.
    var disputeBelow: Double { get }
    /// Aggregates `votes` over the classes `labels` (in tie-breaking order where a
    /// method needs one).
    ///
    /// - Throws: ``AggregationError`` when `labels` is empty or repeats a name, a vote's
    ///   label is not in it, or the method's side input does not fit.
    func aggregate(_ votes: [Vote], labels: [String]) throws(AggregationError) -> Aggregation
}

/// What every aggregator returns.
public struct Aggregation: Sendable {
    /// The method's name (``Aggregator/method``).
    public var method: String
    /// Class names; index = class.
    public var labels: [String]
    /// One verdict per item with votes, by ascending item id, the dispute rule applied.
    public var verdicts: [Verdict]
    /// Posteriors, row-major items × classes, rows in `verdicts` order; each row sums to 1.
    public var posteriors: [Double]
    /// One estimate per annotator who voted, by ascending name.
    public var annotators: [AnnotatorQuality]
    /// The model's voting weight, for methods that use a model (``ModelAware``); else nil.
    public var modelWeight: Double?
    /// What a person should know about how the result was reached (e.g. a fallback), in words.
    public var notes: [String] = []

    public init(method: String, labels: [String], verdicts: [Verdict], posteriors: [Double],
                annotators: [AnnotatorQuality], modelWeight: Double? = nil) {
        self.method = method
        self.labels = labels
        self.verdicts = verdicts
        self.posteriors = posteriors
        self.annotators = annotators
        self.modelWeight = modelWeight
    }

    /// The posterior row of item `index` (an index into `verdicts`).
    public func posterior(ofItemAt index: Int) -> ArraySlice<Double> {
        posteriors[(index * labels.count)..<((index + 1) * labels.count)]
    }
}

/// One aggregator's estimate of one annotator.
public struct AnnotatorQuality: Sendable, Equatable {
    public var annotator: String
    /// Estimated probability that this annotator's answer is right. What it is
    /// measured against depends on the method (majority label, smoothed gold
    /// accuracy, EM's confusion matrix, agreement with the final consensus).
    public var accuracy: Double
    /// Number of answers the annotator gave.
    public var answers: Int
    /// The annotator's weight in the vote, for methods that weigh annotators; else nil.
    public var weight: Double?
    /// k × k, rows = true class, columns = given label, in `labels` order, each row
    /// summing to 1 (`confusion[c][l]` = P(answers l | true class c)); nil for methods
    /// without one. Only ``DawidSkene`` estimates it.
    public var confusion: [[Double]]?
    /// The evidence behind `weight`, for methods that weigh by gold answers:
    /// this annotator's gold answers, and what the weight was taken from
    /// ("own gold", "pooled gold", "none"). nil for other methods.
    public var goldAnswers: Int?
    public var weightBasis: String?

    public init(annotator: String, accuracy: Double, answers: Int, weight: Double? = nil, confusion: [[Double]]? = nil) {
        self.annotator = annotator
        self.accuracy = accuracy
        self.answers = answers
        self.weight = weight
        self.confusion = confusion
    }
}

/// Input an aggregator cannot use. Messages name the offending value.
public enum AggregationError: Error, Equatable, CustomStringConvertible {
    /// `labels` is empty.
    case noLabels
    /// A label appears twice in `labels`.
    case duplicateLabel(String)
    /// A vote's label is not in `labels`.
    case unknownLabel(String, item: Int64, annotator: String)
    /// A model probability row has the wrong number of classes, or is not a distribution.
    case badProbabilities(item: Int64, reason: String)
    /// A gold record is impossible (negative, or more right than answered).
    case badGold(annotator: String, answered: Int, correct: Int)

    public var description: String {
        switch self {
        case .noLabels:
            return "consensus needs the list of class labels; `labels` is empty"
        case .duplicateLabel(let label):
            return "label \"\(label)\" appears twice in `labels`; each class must be listed once"
        case .unknownLabel(let label, let item, let annotator):
            return "annotator \"\(annotator)\" gave item \(item) the label \"\(label)\", which is not in `labels`; "
                + "pass every label the votes use (in the order that breaks ties)"
        case .badProbabilities(let item, let reason):
            return "the model's probabilities for item \(item) are unusable: \(reason)"
        case .badGold(let annotator, let answered, let correct):
            return "gold record of \"\(annotator)\" says \(correct) right out of \(answered) answered; "
                + "need 0 ≤ right ≤ answered"
        }
    }
}

extension Verdict {
    /// The shared dispute rule: the label is the unique class with the largest
    /// posterior, provided that posterior is at least `disputeBelow`; otherwise
    /// the item is a dispute (label nil). The confidence is the largest posterior.
    ///
    /// - Complexity: O(k).
    public static func decide(item: Int64, posterior: ArraySlice<Double>, labels: [String], votes: Int,
                              disputeBelow: Double) -> Verdict {
        let base = posterior.startIndex
        var best = 0
        var tied = false
        for c in 1..<labels.count {
            let p = posterior[base + c], top = posterior[base + best]
            if p > top { best = c; tied = false } else if p == top { tied = true }
        }
        let confidence = posterior[base + best]
        let label = tied || confidence < disputeBelow ? nil : labels[best]
        return Verdict(item: item, label: label, confidence: confidence, votes: votes)
    }

    /// Verdicts for every row of `posteriors` (row-major items × k, rows in `table.items` order).
    ///
    /// - Complexity: O(items · k).
    static func decideAll(_ table: VoteTable, posteriors: [Double], disputeBelow: Double) -> [Verdict] {
        let k = table.labels.count
        var out: [Verdict] = []
        out.reserveCapacity(table.items.count)
        for i in table.items.indices {
            out.append(decide(item: table.items[i], posterior: posteriors[(i * k)..<((i + 1) * k)], labels: table.labels,
                              votes: Int(table.itemStart[i + 1] - table.itemStart[i]), disputeBelow: disputeBelow))
        }
        return out
    }
}
