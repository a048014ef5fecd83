/// One annotator's answer to a multi-label item: the set of labels they chose (possibly empty).
public struct LabelSetVote: Sendable, Equatable {
    public var item: Int64
    public var annotator: String
    public var labels: Set<String>

    public init(item: Int64, annotator: String, labels: Set<String>) {
        self.item = item
        self.annotator = annotator
        self.labels = labels
    }
}

/// Consensus for multi-label items, label by label: each label is a binary
/// question (did the annotator choose it?) settled by any ``Aggregator``
/// (majority vote per label, or Dawid–Skene per label as binary, each with
/// its own per-annotator confusion). An item's consensus is the set of
/// labels whose verdict is "yes"; it is a dispute when any label's verdict is.
public enum LabelSetConsensus {
    /// One item's outcome.
    public struct Verdict: Sendable, Equatable {
        public var item: Int64
        /// The consensus set; nil when the item is a dispute.
        public var labels: Set<String>?
        /// The labels whose own verdict was a dispute (sorted).
        public var disputedLabels: [String]
        /// Per label, in the project's order: the posterior that the label applies.
        public var posteriors: [Double]
        /// The least sure label's confidence: min over labels of max(p, 1 − p).
        public var confidence: Double
        public var votes: Int
        public var isDispute: Bool { labels == nil }
    }

    static let no = "no", yes = "yes"

    /// Settles every item that has at least one answer.
    ///
    /// - Parameters:
    ///   - labels: the project's labels, in order; every answer's labels must be among them.
    ///   - aggregator: how each label's yes/no answers are settled (its `disputeBelow` applies per label).
    /// - Throws: ``AggregationError`` for a label outside `labels` (or what the aggregator throws).
    /// - Complexity: labels × one aggregation over all answers.
    public static func aggregate(_ answers: [LabelSetVote], labels: [String], using aggregator: any Aggregator) throws(AggregationError) -> [Verdict] {
        guard !labels.isEmpty else { throw .noLabels }
        let known = Set(labels)
        guard known.count == labels.count else { throw .duplicateLabel(labels.first { l in labels.filter { $0 == l }.count > 1 }!) }
        for a in answers {
            if let stray = a.labels.sorted().first(where: { !known.contains($0) }) {
                throw .unknownLabel(stray, item: a.item, annotator: a.annotator)
            }
        }
        var verdicts: [Int64: Verdict] = [:]
        for (j, label) in labels.enumerated() {
            let votes = answers.map { Vote(item: $0.item, annotator: $0.annotator, label: $0.labels.contains(label) ? yes : no) }
            let result = try aggregator.aggregate(votes, labels: [no, yes])
            for (row, v) in result.verdicts.enumerated() {
                let pYes = result.posteriors[row * 2 + 1]
                var out = verdicts[v.item] ?? Verdict(item: v.item, labels: [], disputedLabels: [],
                                                      posteriors: [Double](repeating: 0, count: labels.count),
                                                      confidence: 1, votes: v.votes)
                out.posteriors[j] = pYes
                out.confidence = min(out.confidence, max(pYes, 1 - pYes))
                switch v.label {
                case nil: out.disputedLabels.append(label)
                case yes?: out.labels?.insert(label)
                default: break
                }
                verdicts[v.item] = out
            }
        }
        return verdicts.keys.sorted().map { key in
            var v = verdicts[key]!
            if !v.disputedLabels.isEmpty { v.labels = nil }
            return v
        }
    }
}
