import QuorumConsensus
import QuorumCore
import QuorumStore

/// `quorum consensus`: aggregates answers into consensus labels and lists disputes.
public enum ConsensusService {
    /// The aggregation methods available.
    public enum Method: String, Sendable, CaseIterable {
        /// Majority vote; a tie is a dispute.
        case majority
        /// Dawid–Skene EM (one confusion matrix per annotator, started from majority vote);
        /// an item whose posterior stays below `disputeBelow` is a dispute.
        case dawidSkene = "dawid-skene"
    }

    /// Dawid–Skene posteriors below this leave the item disputed.
    public static let disputeBelow = 0.5

    public struct Summary: Sendable, Equatable {
        public var method: Method
        /// Items with at least one (non-skip) answer.
        public var items: Int
        /// Item id → consensus label, for settled items.
        public var labels: [String: String]
        /// Item ids with no majority, sorted.
        public var disputes: [String]
        /// Share of answer pairs on the same item that agree; nil with no pairs.
        public var percentAgreement: Double?

        /// The contract's JSON shape for `consensus --format json`.
        public var json: JSONValue {
            .object([("method", .string(method.rawValue)), ("items", .int(items)), ("disputes", .int(disputes.count)),
                     ("labels", .object(labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
                     ("dispute_items", .array(disputes.map { .string($0) })),
                     ("percent_agreement", .number(percentAgreement))])
        }
    }

    /// Aggregates every answer in the project and stores the result, inside the caller's transaction.
    static func aggregate(_ w: any StoreWriter, method: Method) throws -> Summary {
        let answers = try w.answers(round: nil)
        var ids: [Int64: String] = [:]
        var votes: [Vote] = []
        for a in answers {
            guard let label = a.label else { continue }
            ids[a.itemKey] = a.itemID
            votes.append(Vote(item: a.itemKey, annotator: a.annotator, label: label))
        }
        var verdicts: [Verdict]
        switch method {
        case .majority: verdicts = MajorityVote.aggregate(votes)
        case .dawidSkene:
            let labels = try w.project().labels.names
            verdicts = votes.isEmpty ? [] : try DawidSkene.aggregate(votes, labels: labels).verdicts.map { v in
                v.confidence < disputeBelow ? Verdict(item: v.item, label: nil, confidence: v.confidence, votes: v.votes) : v
            }
        }
        // An adjudicator's ruling outranks the votes.
        let rulings = try w.adjudications()
        verdicts = verdicts.map { v in
            guard let ruling = rulings[v.item] else { return v }
            return Verdict(item: v.item, label: ruling.label, confidence: 1, votes: v.votes)
        }
        try w.upsertConsensus(verdicts.map {
            ConsensusRecord(itemKey: $0.item, label: $0.label, confidence: $0.confidence,
                            method: rulings[$0.item] == nil ? method.rawValue : "adjudication",
                            answers: $0.votes, isDispute: $0.isDispute)
        })
        var labels: [String: String] = [:]
        var disputes: [String] = []
        for v in verdicts {
            if let label = v.label { labels[ids[v.item]!] = label } else { disputes.append(ids[v.item]!) }
        }
        let summary = Summary(method: method, items: verdicts.count, labels: labels, disputes: disputes.sorted(),
                              percentAgreement: percentAgreement(votes))
        try w.appendEvent(EventRecord(kind: "consensus", detailJSON: JSONValue.object([
            ("method", .string(method.rawValue)), ("items", .int(summary.items)), ("disputes", .int(disputes.count)),
        ]).serialized()))
        return summary
    }

    public static func run(store: any ProjectStore, method: Method) throws -> Summary {
        try store.write { w in try aggregate(w, method: method) }
    }

    /// Pairwise percent agreement: over items with two or more answers, the
    /// share of annotator pairs that gave the same label.
    static func percentAgreement(_ votes: [Vote]) -> Double? {
        var byItem: [Int64: [String: Int]] = [:]
        for v in votes { byItem[v.item, default: [:]][v.label, default: 0] += 1 }
        var agreeing = 0, pairs = 0
        for tally in byItem.values {
            let n = tally.values.reduce(0, +)
            guard n >= 2 else { continue }
            pairs += n * (n - 1) / 2
            agreeing += tally.values.map { $0 * ($0 - 1) / 2 }.reduce(0, +)
        }
        return pairs == 0 ? nil : Double(agreeing) / Double(pairs)
    }
}
