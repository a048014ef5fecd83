import Foundation
import QuorumConsensus
import QuorumCore
import QuorumStore

/// `quorum consensus`: aggregates answers into consensus labels and lists disputes.
public enum ConsensusService {
    /// The aggregation methods available (each is a `QuorumConsensus.Aggregator`).
    ///
    /// Every method decides disputes the same way: an item is a dispute when its
    /// posterior (the confidence of its most probable label) is below the threshold,
    /// or when no label is uniquely most probable. Default thresholds: 0 for
    /// `majority` (only ties are disputes), 0.5 for the others.
    public enum Method: String, Sendable, CaseIterable {
        /// Majority vote; a tie is a dispute.
        case majority
        /// Majority weighted by each annotator's log-odds of being right on gold items
        /// (Laplace-smoothed); annotators without gold answers get the pooled weight.
        case weighted
        /// Dawid–Skene EM (one confusion matrix per annotator, started from majority vote).
        case dawidSkene = "dawid-skene"
        /// CROWDLAB-style: the live model's calibrated probabilities vote as one more, weighted, annotator.
        case modelAware = "model-aware"

        /// The dispute threshold used when none is given.
        public var defaultDisputeBelow: Double {
            switch self {
            case .majority: return MajorityVote.defaultDisputeBelow
            case .weighted: return WeightedMajority.defaultDisputeBelow
            case .dawidSkene: return DawidSkene.defaultDisputeBelow
            case .modelAware: return ModelAware.defaultDisputeBelow
            }
        }
    }

    public struct Summary: Sendable, Equatable {
        public var method: Method
        /// The dispute threshold applied.
        public var disputeBelow: Double
        /// Items with at least one (non-skip) answer.
        public var items: Int
        /// Item id → consensus label, for settled items.
        public var labels: [String: String]
        /// Item ids that are disputes, sorted.
        public var disputes: [String]
        /// Share of answer pairs on the same item that agree; nil with no pairs.
        public var percentAgreement: Double?
        /// The method's estimate of each annotator, by name.
        public var annotators: [AnnotatorQuality]
        /// The model's weight (model-aware only).
        public var modelWeight: Double?
        /// Unsure items waiting for one more annotator before they can become disputes, sorted.
        public var awaitingAnotherAnnotator: [String] = []
        /// What the method says about how it reached the result (e.g. a fallback).
        public var notes: [String] = []
        /// The project, whose task type says how a label reads in JSON (a multi-label set is a list).
        public var project: ProjectInfo?

        /// The contract's JSON shape for `consensus --format json`, plus `dispute_items`,
        /// `percent_agreement`, `dispute_below`, `model_weight` and `annotators` (per annotator:
        /// `accuracy`, `answers`, and `weight` / `confusion` where the method has them, else null).
        public var json: JSONValue {
            .object([("method", .string(method.rawValue)), ("items", .int(items)), ("disputes", .int(disputes.count)),
                     ("labels", .object(labels.sorted { $0.key < $1.key }.map { ($0.key, project?.labelJSON($0.value) ?? .string($0.value)) })),
                     ("dispute_items", .array(disputes.map { .string($0) })),
                     ("awaiting_another_annotator", .array(awaitingAnotherAnnotator.map { .string($0) })),
                     ("percent_agreement", .number(percentAgreement)),
                     ("dispute_below", .double(disputeBelow)),
                     ("model_weight", .number(modelWeight)),
                     ("notes", .array(notes.map { .string($0) })),
                     ("annotators", .array(annotators.map { q in
                         .object([("name", .string(q.annotator)), ("accuracy", .double(q.accuracy)), ("answers", .int(q.answers)),
                                  ("weight", .number(q.weight)),
                                  ("gold_answers", q.goldAnswers.map { .int($0) } ?? .null), ("weight_basis", .text(q.weightBasis)),
                                  ("confusion", q.confusion.map { m in .array(m.map { row in .array(row.map { .double($0) }) }) } ?? .null)])
                     }))])
        }
    }

    /// How the project aggregates: the method and thresholds the lead last chose
    /// with `quorum consensus`, which `round close` and adjudication then reuse.
    public struct Settings: Sendable, Equatable {
        public var method: Method
        /// The posterior threshold for disputes; nil = the method's default.
        public var disputeBelow: Double?
        /// Items whose posterior is below this get one more annotator (once, while
        /// their round is open) before they can become disputes; nil = never.
        public var extraAnnotatorBelow: Double?

        public init(method: Method = .majority, disputeBelow: Double? = nil, extraAnnotatorBelow: Double? = nil) {
            self.method = method; self.disputeBelow = disputeBelow; self.extraAnnotatorBelow = extraAnnotatorBelow
        }

        static let key = "consensus"

        var json: JSONValue {
            .object([("method", .string(method.rawValue)), ("dispute_below", .number(disputeBelow)),
                     ("extra_annotator_below", .number(extraAnnotatorBelow))])
        }

        /// The project's settings (majority vote until the lead chooses otherwise).
        static func load(_ r: any StoreReader) throws -> Settings {
            guard let text = try r.setting(key) else { return Settings() }
            let object = try StoredJSON.object(text, "consensus settings")
            guard let method = (object["method"] as? String).flatMap(Method.init(rawValue:)) else {
                throw QuorumError(.failedCheck, "the stored consensus settings name no known method",
                                  hint: "set them again with `quorum consensus --method …`")
            }
            return Settings(method: method, disputeBelow: object["dispute_below"] as? Double,
                            extraAnnotatorBelow: object["extra_annotator_below"] as? Double)
        }
    }

    /// Aggregates with the project's settings (see `Settings`), inside the caller's transaction.
    static func aggregate(_ w: any StoreWriter) throws -> Summary {
        let settings = try Settings.load(w)
        return try aggregate(w, method: settings.method, disputeBelow: settings.disputeBelow,
                             extraAnnotatorBelow: settings.extraAnnotatorBelow)
    }

    /// Aggregates every answer in the project and stores the result, inside the caller's transaction.
    ///
    /// - Parameters:
    ///   - disputeBelow: the posterior threshold; nil for the method's default.
    ///   - extraAnnotatorBelow: items of the open round whose posterior is below this, and
    ///     whose task has all its answers and was not extended before, want one more answer
    ///     (another annotator) before they can go to adjudication.
    /// - Throws: `QuorumError` when `model-aware` has no live model, or the answers do not fit the project's labels.
    static func aggregate(_ w: any StoreWriter, method: Method, disputeBelow: Double? = nil,
                          extraAnnotatorBelow: Double? = nil) throws -> Summary {
        let answers = try w.answers(round: nil)
        var ids: [Int64: String] = [:]
        var votes: [Vote] = []
        for a in answers {
            ids[a.itemKey] = a.itemID
            guard let label = a.label else { continue }
            votes.append(Vote(item: a.itemKey, annotator: a.annotator, label: label))
        }
        let threshold = disputeBelow ?? method.defaultDisputeBelow
        let project = try w.project()
        let result: Aggregation
        if project.task == .multiLabel {
            result = try aggregateLabelSets(votes, project: project, method: method, disputeBelow: threshold)
        } else {
            let aggregator = try makeAggregator(w, method: method, votes: votes, disputeBelow: threshold)
            do {
                result = try aggregator.aggregate(votes, labels: project.labels.names)
            } catch {
                throw QuorumError(.badInput, "cannot aggregate the answers: \(error)")
            }
        }
        var verdicts = result.verdicts
        // An adjudicator's ruling outranks the votes.
        let rulings = try w.adjudications()
        verdicts = verdicts.map { v in
            guard let ruling = rulings[v.item] else { return v }
            return Verdict(item: v.item, label: ruling.label, confidence: 1, votes: v.votes)
        }
        // A ruling on an item nobody labelled (e.g. flagged by everyone who saw it) is its consensus too.
        let voted = Set(verdicts.map(\.item))
        for (item, ruling) in rulings.sorted(by: { $0.key < $1.key }) where !voted.contains(item) && ids[item] != nil {
            verdicts.append(Verdict(item: item, label: ruling.label, confidence: 1, votes: 0))
        }
        // Every change of an item's consensus is a decision in the audit trail.
        let previous = try w.consensus()
        for v in verdicts {
            let method = rulings[v.item] == nil ? method.rawValue : "adjudication"
            if let p = previous[v.item], p.label == v.label, p.isDispute == v.isDispute, p.method == method { continue }
            try w.appendEvent(EventRecord(kind: "consensus.item", itemID: ids[v.item], confidence: v.confidence,
                                          detailJSON: JSONValue.object([
                                            ("label", .text(v.label)), ("method", .string(method)), ("answers", .int(v.votes)),
                                            ("dispute", .bool(v.isDispute)), ("previous", .text(previous[v.item]?.label)),
                                          ]).serialized()))
        }
        try w.upsertConsensus(verdicts.map {
            ConsensusRecord(itemKey: $0.item, label: $0.label, confidence: $0.confidence,
                            method: rulings[$0.item] == nil ? method.rawValue : "adjudication",
                            answers: $0.votes, isDispute: $0.isDispute)
        })
        // Unsure items of the open round get one more annotator first.
        var waiting = Set<Int64>()
        if let extraBelow = extraAnnotatorBelow, let round = try w.openRound() {
            var unsure: [Int64: Double] = [:]
            for v in verdicts where rulings[v.item] == nil && (v.isDispute || v.confidence < extraBelow) { unsure[v.item] = v.confidence }
            for task in try w.taskStates(round: round.id) {
                if task.needed > task.done {
                    waiting.insert(task.itemKey)   // still being answered (e.g. already extended)
                    continue
                }
                guard let confidence = unsure[task.itemKey], task.needed == round.overlap else { continue }
                try w.addAnswerWanted(taskID: task.taskID)
                waiting.insert(task.itemKey)
                try w.appendEvent(EventRecord(kind: "extra-annotator", itemID: ids[task.itemKey], confidence: confidence,
                                              detailJSON: JSONValue.object([("round", .int(round.id)),
                                                                            ("below", .double(extraBelow))]).serialized()))
            }
        }
        var labels: [String: String] = [:]
        var disputes: [String] = []
        var awaiting: [String] = []
        for v in verdicts {
            if waiting.contains(v.item) && rulings[v.item] == nil && (v.isDispute || v.confidence < (extraAnnotatorBelow ?? 0)) {
                awaiting.append(ids[v.item]!)
            } else if let label = v.label { labels[ids[v.item]!] = label } else { disputes.append(ids[v.item]!) }
        }
        var summary = Summary(method: method, disputeBelow: threshold, items: verdicts.count, labels: labels,
                              disputes: disputes.sorted(), percentAgreement: percentAgreement(votes),
                              annotators: result.annotators, modelWeight: result.modelWeight)
        summary.awaitingAnotherAnnotator = awaiting.sorted()
        summary.notes = result.notes
        summary.project = project
        try w.appendEvent(EventRecord(kind: "consensus", detailJSON: JSONValue.object([
            ("method", .string(method.rawValue)), ("items", .int(summary.items)), ("disputes", .int(disputes.count)),
            ("dispute_below", .double(threshold)),
        ]).serialized()))
        return summary
    }

    /// Multi-label consensus, label by label (`LabelSetConsensus`): each label a
    /// yes/no question settled by majority vote or Dawid–Skene; an item's
    /// consensus is the set of labels settled "yes" (as `LabelSetText`), and a
    /// dispute when any label is. Each annotator's `accuracy` is their per-label
    /// agreement with the settled sets (1 − Hamming distance / labels).
    ///
    /// - Complexity: labels × one binary aggregation over all answers.
    static func aggregateLabelSets(_ votes: [Vote], project: ProjectInfo, method: Method, disputeBelow: Double) throws -> Aggregation {
        let labels = project.labels
        let aggregator: any Aggregator
        switch method {
        case .majority: aggregator = MajorityVote(disputeBelow: disputeBelow)
        case .dawidSkene: aggregator = DawidSkene(disputeBelow: disputeBelow)
        case .weighted, .modelAware:
            throw QuorumError(.badInput, "--method \(method.rawValue) is not available for multi-label projects",
                              hint: "use --method majority or --method dawid-skene (each settles every label as a yes/no question)")
        }
        var sets: [LabelSetVote] = []
        sets.reserveCapacity(votes.count)
        for v in votes {
            guard let names = LabelSetText.names(v.label, labels: labels) else {
                throw QuorumError(.failedCheck, "an answer by \(v.annotator) holds \"\(TerminalText.visible(v.label))\", which is not a set of the project's labels",
                                  hint: "the project database was modified outside Quorum; see `quorum audit log`")
            }
            sets.append(LabelSetVote(item: v.item, annotator: v.annotator, labels: Set(names)))
        }
        let settled: [LabelSetConsensus.Verdict]
        do { settled = try LabelSetConsensus.aggregate(sets, labels: labels.names, using: aggregator) } catch {
            throw QuorumError(.badInput, "cannot aggregate the answers: \(error)")
        }
        var verdicts: [Verdict] = []
        var posteriors: [Double] = []
        var final: [Int64: Set<String>] = [:]
        for v in settled {
            let text = v.labels.map { set in LabelSetText.encode(set.compactMap(labels.index(of:)), labels: labels) }
            verdicts.append(Verdict(item: v.item, label: text, confidence: v.confidence, votes: v.votes))
            posteriors += v.posteriors
            if let set = v.labels { final[v.item] = set }
        }
        var agreement: [String: (sum: Double, count: Int)] = [:]
        for vote in sets {
            guard let truth = final[vote.item] else { continue }
            let differing = truth.symmetricDifference(vote.labels).count
            agreement[vote.annotator, default: (0, 0)].sum += 1 - Double(differing) / Double(labels.count)
            agreement[vote.annotator, default: (0, 0)].count += 1
        }
        let answered = Dictionary(grouping: sets, by: \.annotator).mapValues(\.count)
        let annotators = answered.keys.sorted().map { name in
            let a = agreement[name]
            return AnnotatorQuality(annotator: name, accuracy: a.map { $0.sum / Double($0.count) } ?? 0, answers: answered[name]!)
        }
        var result = Aggregation(method: method.rawValue, labels: labels.names, verdicts: verdicts, posteriors: posteriors,
                                 annotators: annotators)
        result.notes = ["multi-label: each label settled as a yes/no question by \(method.rawValue); an item is a dispute when any of its labels is"]
        return result
    }

    /// The aggregator for `method`, with its side input read from the store: gold records
    /// (answers on gold items against their known label) for `weighted`, the live model's
    /// probabilities for `model-aware`.
    ///
    /// - Complexity: O(answers + gold items) for `weighted`; O(predictions · k) for `model-aware`.
    static func makeAggregator(_ r: any StoreReader, method: Method, votes: [Vote], disputeBelow: Double) throws -> any Aggregator {
        switch method {
        case .majority: return MajorityVote(disputeBelow: disputeBelow)
        case .dawidSkene: return DawidSkene(disputeBelow: disputeBelow)
        case .weighted:
            var truth: [Int64: String] = [:]
            for item in try r.items(kinds: [.gold]) { if let label = item.label { truth[item.key] = label } }
            var gold: [String: WeightedMajority.GoldRecord] = [:]
            for v in votes {
                guard let known = truth[v.item] else { continue }
                gold[v.annotator, default: .init(answered: 0, correct: 0)].answered += 1
                if v.label == known { gold[v.annotator]!.correct += 1 }
            }
            return WeightedMajority(gold: gold, disputeBelow: disputeBelow)
        case .modelAware:
            guard let model = try r.liveModel() else {
                throw QuorumError(.state, "model-aware consensus needs the live model's probabilities, and there is no model yet",
                                  hint: "train one with `quorum train` (or bring one with `quorum predictions import`), or pick another --method")
            }
            var probabilities: [Int64: [Double]] = [:]
            let voted = Set(votes.map(\.item))
            for (key, p) in try r.predictions(model: model.id) where voted.contains(key) {
                // Stored as Float: renormalise in Double so each row sums to 1.
                let total = p.probabilities.reduce(0) { $0 + Double($1) }
                probabilities[key] = p.probabilities.map { Double($0) / total }
            }
            return ModelAware(probabilities: probabilities, disputeBelow: disputeBelow)
        }
    }

    /// The project's current settings.
    public static func settings(store: any ProjectStore) throws -> Settings {
        try store.read { r in try Settings.load(r) }
    }

    /// Aggregates with the given settings and makes them the project's (see `Settings`).
    public static func run(store: any ProjectStore, settings: Settings) throws -> Summary {
        if let p = settings.extraAnnotatorBelow, !(0...1).contains(p) {
            throw QuorumError(.badInput, "--extra-annotator-below must be between 0 and 1, got \(p)")
        }
        return try store.write { w in
            try w.setSetting(Settings.key, settings.json.serialized())
            return try aggregate(w, method: settings.method, disputeBelow: settings.disputeBelow,
                                 extraAnnotatorBelow: settings.extraAnnotatorBelow)
        }
    }

    /// Pairwise percent agreement over items with two or more answers (see `Agreement.percentAgreement`).
    static func percentAgreement(_ votes: [Vote]) -> Double? {
        var byItem: [Int64: [Int]] = [:]
        var codes: [String: Int] = [:]
        for v in votes {
            let code = codes[v.label] ?? codes.count
            codes[v.label] = code
            byItem[v.item, default: []].append(code)
        }
        return Agreement.percentAgreement(units: Array(byItem.values))
    }
}
