import Foundation
import QuorumCore
import QuorumReporting
import QuorumModels
import QuorumNumerics
import QuorumSampling
import QuorumStore

/// `quorum round start | status | close`.
public enum RoundService {
    public struct StartOptions: Sendable {
        public var size: Int
        public var overlap: Int
        public var seed: UInt64
        /// How confident items are auto-accepted; nil = everything goes to people.
        public var routing: Routing?
        /// Share of auto-accepted items also sent to people, to audit the router.
        public var auditRate: Double
        public var blend: Blend
        /// `--blend auto`: start from the last closed round's blend and move it (see `AdaptiveBlend`).
        public var adaptive: Bool
        public var uncertainty: UncertaintyMeasure
        public var diversity: Diversity.Method
        /// The metadata field whose values are the strata; nil = the predicted class.
        public var stratifyBy: String?
        public var stratumFloor: Int
        /// Gold items mixed in, as a share of `size` (annotators cannot tell them apart).
        public var goldRate: Double
        /// Share of tasks whose suggestion is hidden from annotators (blind mode).
        public var blindRate: Double
        /// The metadata field that holds each item's deadline (ISO 8601 date or time), if any.
        public var deadlineField: String?
        /// Metadata fields the labelling loop shows above each item's text.
        public var showFields: [String] = []
        /// `--sla`: every task is due this many seconds after the round starts
        /// (or at its metadata deadline, when that is earlier).
        public var sla: Double?
        public init(size: Int, overlap: Int = 1, seed: UInt64 = 1, routing: Routing? = nil, auditRate: Double = 0.05,
                    blend: Blend = .standard, adaptive: Bool = false, uncertainty: UncertaintyMeasure = SamplerOptions.defaultUncertainty,
                    diversity: Diversity.Method = SamplerOptions.defaultDiversity, stratifyBy: String? = nil, stratumFloor: Int = 0,
                    goldRate: Double = 0, blindRate: Double = 0, deadlineField: String? = nil) {
            self.goldRate = goldRate
            self.blindRate = blindRate
            self.deadlineField = deadlineField
            self.size = size
            self.overlap = overlap
            self.seed = seed
            self.routing = routing
            self.auditRate = auditRate
            self.blend = blend
            self.adaptive = adaptive
            self.uncertainty = uncertainty
            self.diversity = diversity
            self.stratifyBy = stratifyBy
            self.stratumFloor = stratumFloor
        }
    }

    /// The rule for auto-accepting confident items.
    public enum Routing: Sendable, Equatable {
        /// Auto-accept items whose calibrated confidence is at least this.
        case threshold(Double)
        /// Pick the lowest threshold whose estimated error among auto-accepted items is at most this.
        case targetError(Double)
    }

    public struct StartSummary: Sendable, Equatable {
        public var round: Int
        public var tasks: Int
        public var overlap: Int
        public var byStrategy: [String: Int]
        public var modelVersion: String?
        public var autoAccepted: Int
        /// The confidence threshold used for auto-accepting, and the error it was estimated to give.
        public var threshold: Double?
        public var estimatedError: Double?
        /// `--size`: the tasks asked for (gold and audit tasks included).
        public var requested = 0
        /// Why the round has fewer tasks than asked for, in words.
        public var notes: [String] = []

        /// The contract's JSON shape for `round start --format json`.
        public var json: JSONValue {
            .object([("round", .int(round)), ("tasks", .int(tasks)), ("requested", .int(requested)), ("notes", .array(notes.map { .string($0) })),
                     ("overlap", .int(overlap)),
                     ("by_strategy", .object(byStrategy.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
                     ("model_version", .text(modelVersion)), ("auto_accepted", .int(autoAccepted)),
                     ("threshold", .number(threshold)), ("estimated_error", .number(estimatedError))])
        }
    }

    /// Routes and samples the pool, then creates the round's tasks.
    ///
    /// 1. Route: with a live model and a routing rule, pool items confident
    ///    enough are auto-accepted (source `auto`), and a random share
    ///    `auditRate` of them also goes to people (strategy `audit`).
    /// 2. Sample: of the rest, the `size` least-confident items; before the
    ///    first model, a seeded uniform sample (strategy `random`).
    /// Items already tasked or labelled are never picked again, and a round
    /// takes at most one item of each group of content duplicates.
    public static func start(store: any ProjectStore, options: StartOptions) throws -> StartSummary {
        guard options.size >= 1 else { throw QuorumError(.badInput, "--size must be at least 1, got \(options.size)") }
        guard options.overlap >= 1 else { throw QuorumError(.badInput, "--overlap must be at least 1, got \(options.overlap)") }
        guard (0...1).contains(options.blindRate) else {
            throw QuorumError(.badInput, "--blind-rate must be between 0 and 1, got \(options.blindRate)")
        }
        return try store.write { w in
            var options = options
            if options.adaptive { options.blend = try adaptedBlend(w, start: options.blend) }
            if let open = try w.openRound() {
                throw QuorumError(.state, "round \(open.id) is still open",
                                  hint: "finish it and run `quorum round close` before starting another")
            }
            let tasked = try w.taskedItemKeys()
            let consensus = try w.consensus()
            let auto = try w.autoLabels()
            // Every item is read once: the pool, and the labelled kinds.
            let allPool = try w.items(kinds: [.pool])
            let known = try w.items(kinds: [.seed, .test, .gold])
            let pool = allPool.filter { !tasked.contains($0.key) && consensus[$0.key] == nil && auto[$0.key] == nil }
            guard !pool.isEmpty else {
                throw QuorumError(.state, "no unlabelled pool items are left to sample",
                                  hint: "import more items with `quorum import FILE --as pool`")
            }
            // Content already labelled or asked about is not asked again.
            var excluded = Set<Int64>()
            for item in known { excluded.insert(item.contentHash) }
            let labels = try w.project().labels
            let model = try w.liveModel()
            if options.routing != nil, model == nil {
                throw QuorumError(.state, "auto-accepting needs a model", hint: "run `quorum train` (or `quorum predictions import`) first")
            }
            var predictions: [Int64: Prediction] = [:]
            // The live model when it is a Quorum model (not imported predictions), decoded once.
            let trained = model.flatMap { TrainedModel(encoded: $0.state) }
            let classifier = trained?.classifier
            let project = try w.project()
            if let model {
                predictions = try w.predictions(model: model.id)
                let missing = pool.filter { predictions[$0.key] == nil }
                if !missing.isEmpty, let trained {
                    let fresh = trained.predictions(missing)
                    try w.insertPredictions(model: model.id, fresh)
                    for p in fresh { predictions[p.itemKey] = p }
                }
            }
            // Route.
            var rest = pool
            var accepted: [(StoredItem, Prediction)] = []
            var threshold: Double?, estimatedError: Double?
            if let routing = options.routing, let model {
                if case .targetError = routing, project.task == .multiLabel {
                    throw QuorumError(.badInput, "--target-error is not available for multi-label projects yet: an item's error rate over its whole label set has no calibration record",
                                      hint: "auto-accept at a confidence instead, e.g. --auto-accept 0.95 (an item's confidence is its least sure label's)")
                }
                let scored = pool.compactMap { item in predictions[item.key].map { (item, $0) } }
                let decision = try Router.decide(routing, confidences: scored.map { Double($0.1.itemConfidence) },
                                                 reliability: try Reliability.stored(in: model))
                threshold = decision.threshold
                estimatedError = decision.estimatedError
                if let t = decision.threshold {
                    accepted = scored.filter { Double($0.1.itemConfidence) >= t }
                    let acceptedKeys = Set(accepted.map(\.0.key))
                    rest = pool.filter { !acceptedKeys.contains($0.key) }
                }
            }
            // Sample: the blend of strategies, diversity-filtered.
            // Preference items share prompts: diversity measures distance on their two responses.
            let shown = { (items: [StoredItem]) in project.task == .preference ? items.map(\.comparedText) : items }
            var candidates = SamplingInput.candidates(shown(rest), predictions: model == nil ? nil : predictions, labels: labels,
                                                      stratifyBy: options.stratifyBy, featurizer: trained?.featurizer)
            if model != nil, options.blend.weights.contains(where: { $0.strategy == .adversarial && $0.weight > 0 }) {
                try SamplingInput.addAdversarial(&candidates, items: rest, classifier: classifier, predictions: predictions,
                                                 labels: labels, store: w)
            }
            // --size is the round's task count: gold and audit tasks come out of it.
            var notes: [String] = []
            var goldPicks: [TaskPick] = []
            if options.goldRate > 0 {
                let want = Int((Double(options.size) * options.goldRate).rounded())
                var rng = SeededGenerator(seed: options.seed ^ 0x601D)
                let gold = known.filter { $0.kind == .gold && !tasked.contains($0.key) }
                let chosen = Selection.top(gold.map { Candidate(key: $0.key, contentGroup: $0.contentHash,
                                                                score: Double(rng.next() >> 11) / Double(1 << 53)) },
                                           count: want, seed: options.seed)
                goldPicks = chosen.map { TaskPick(itemKey: $0.key, strategy: .gold, score: $0.score, rank: $0.rank) }
                if chosen.count < want { notes.append("only \(chosen.count) unused gold items were left (\(want) wanted)") }
            }
            var auditPicks: [TaskPick] = []
            var auditKeys = Set<Int64>()
            if !accepted.isEmpty, options.auditRate > 0 {
                let want = Int((Double(accepted.count) * options.auditRate).rounded(.up))
                let count = min(want, options.size - goldPicks.count)
                if count < want { notes.append("\(want - count) of the \(want) audit tasks did not fit in --size \(options.size)") }
                var rng = SeededGenerator(seed: options.seed ^ 0xA0D1)
                let audit = Selection.top(accepted.map { Candidate(key: $0.0.key, contentGroup: $0.0.contentHash,
                                                                   score: Double(rng.next() >> 11) / Double(1 << 53)) },
                                          count: count, seed: options.seed)
                auditKeys = Set(audit.map(\.key))
                auditPicks = audit.map { TaskPick(itemKey: $0.key, strategy: .audit, score: $0.score, rank: $0.rank) }
            }
            let sampleCount = options.size - goldPicks.count - auditPicks.count
            let labelled = known.filter { $0.kind == .seed } + allPool.filter { consensus[$0.key]?.label != nil }
            let centers = SamplingInput.centers(shown(labelled), candidates: shown(rest), featurizer: trained?.featurizer)
            let sampled = sampleCount <= 0 ? [] : Sampler.pick(candidates, count: sampleCount,
                                       options: SamplerOptions(blend: options.blend, uncertainty: options.uncertainty,
                                                               diversity: options.diversity, stratumFloor: options.stratumFloor,
                                                               seed: options.seed),
                                       excludedGroups: excluded, centers: centers)
            var picks = sampled.map { TaskPick(itemKey: rest[$0.index].key, strategy: PickReason(rawValue: $0.strategy.rawValue)!, score: $0.score, rank: $0.rank) }
            if picks.count < sampleCount {
                notes.append("the pool had only \(picks.count) items left to sample (\(sampleCount) wanted)")
            }
            picks += auditPicks + goldPicks
            try TaskQueueOrder.assign(&picks, predictions: predictions, items: allPool + known, options: options, now: w.now)
            var byStrategy: [String: Int] = [:]
            for pick in picks { byStrategy[pick.strategy.rawValue, default: 0] += 1 }
            let settings = JSONValue.object([
                ("gold_rate", .double(options.goldRate)), ("blind_rate", .double(options.blindRate)),
                ("deadline_field", .text(options.deadlineField)), ("sla_seconds", .number(options.sla)),
                ("show_fields", .array(options.showFields.map { .string($0) })),
                ("size", .int(options.size)), ("overlap", .int(options.overlap)), ("seed", .int(Int(truncatingIfNeeded: options.seed))),
                ("blend", .string(options.blend.spec)), ("adaptive", .bool(options.adaptive)),
                ("uncertainty", .string(options.uncertainty.rawValue)),
                ("diversity", .string(options.diversity.rawValue)), ("stratify_by", .string(options.stratifyBy ?? "predicted")),
                ("stratum_floor", .int(options.stratumFloor)), ("cold_start", .bool(model == nil)),
                ("routing", options.routing.map(\.json) ?? .null), ("audit_rate", .double(options.auditRate)),
                ("threshold", .number(threshold)), ("estimated_error", .number(estimatedError)),
            ])
            let round = try w.createRound(modelVersion: model?.id, overlap: options.overlap,
                                          settingsJSON: settings.serialized(), picks: picks)
            if let model {
                try w.insertAutoLabels(accepted.map { item, p in
                    AutoLabel(itemKey: item.key, label: project.suggestedLabel(p), confidence: Double(p.itemConfidence),
                              roundID: round, modelVersion: model.id, audited: auditKeys.contains(item.key))
                })
                for (item, p) in accepted {
                    try w.appendEvent(EventRecord(kind: "auto-accept", itemID: item.id, modelVersion: model.id,
                                                  confidence: Double(p.itemConfidence),
                                                  detailJSON: JSONValue.object([("label", .string(project.suggestedLabel(p))),
                                                                                ("round", .int(round)),
                                                                                ("threshold", .number(threshold))]).serialized()))
                }
            }
            var summary = StartSummary(round: round, tasks: picks.count, overlap: options.overlap, byStrategy: byStrategy,
                                       modelVersion: model?.id, autoAccepted: accepted.count,
                                       threshold: threshold, estimatedError: estimatedError)
            summary.requested = options.size
            summary.notes = notes
            try w.appendEvent(EventRecord(kind: "round.start", modelVersion: model?.id, detailJSON: summary.json.serialized()))
            return summary
        }
    }

    /// The blend for an adaptive round: the last closed round's blend, moved by its strategy gains.
    ///
    /// The blend is the one that round was started with (its settings); the
    /// gains are what its close measured (`strategyGain` in its stored record). A
    /// stored value that does not parse is a failed check, never a silent default.
    static func adaptedBlend(_ r: any StoreReader, start: Blend) throws -> Blend {
        guard let last = try r.rounds().last(where: { $0.status == .closed }), let json = last.metricsJSON else { return start }
        let settings = try StoredJSON.object(last.settingsJSON, "settings of round \(last.id)")
        let previous: Blend
        if let spec = settings["blend"] as? String {
            do { previous = try Blend(parsing: spec) } catch {
                throw QuorumError(.failedCheck, "settings of round \(last.id): the stored blend \"\(spec)\" does not parse",
                                  hint: "start this round with an explicit --blend")
            }
        } else {
            previous = start
        }
        let record = try StoredJSON.object(json, "record of round \(last.id)")
        func keyed(_ field: String) -> [Strategy: Double] {
            var out: [Strategy: Double] = [:]
            for (name, value) in record[field] as? [String: Any] ?? [:] {
                if let s = Strategy(rawValue: name), let v = (value as? NSNumber)?.doubleValue { out[s] = v }
            }
            return out
        }
        return AdaptiveBlend.update(previous, gains: keyed("strategyGain"), errors: keyed("strategyGainError"))
    }

    public struct Status: Sendable, Equatable {
        public var round: RoundRecord
        public var tasks: Int
        public var complete: Int
        public var answers: Int
        /// Answers the tasks want in all.
        public var wanted: Int
        /// Per annotator in this round: answers (labels), skips and flags, by name.
        public var annotators: [(name: String, answers: Int, skips: Int, flags: Int)]
        /// Items held right now: who, which item, and seconds left on the lease.
        public var claims: [(annotator: String, itemID: String, secondsLeft: Double)]
        public var byStrategy: [String: Int]
        /// Every pick: item id, strategy, score and rank, by strategy then rank.
        public var picks: [(itemID: String, pick: TaskPick)]
        /// Unfinished tasks past their deadline, with seconds since it passed, most overdue first.
        public var overdue: [(itemID: String, seconds: Double)] = []
        /// Unfinished tasks due within `atRiskWindow`, with seconds left, soonest first.
        public var atRisk: [(itemID: String, seconds: Double)] = []
        /// Tasks with a deadline.
        public var withDeadline = 0
        /// How close to its deadline an unfinished task is "at risk": one hour.
        public static let atRiskWindow = 3600.0

        public static func == (a: Status, b: Status) -> Bool { a.json == b.json }

        public var json: JSONValue {
            .object([("round", .int(round.id)), ("status", .string(round.status.rawValue)),
                     ("overlap", .int(round.overlap)), ("tasks", .int(tasks)), ("complete_tasks", .int(complete)),
                     ("answers", .int(answers)), ("answers_wanted", .int(wanted)),
                     ("by_strategy", .object(byStrategy.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
                     ("model_version", .text(round.modelVersion)),
                     ("blind_tasks", .int(picks.filter(\.pick.blind).count)),
                     ("annotators", .array(annotators.map { a in
                         .object([("name", .string(a.name)), ("answers", .int(a.answers)), ("skips", .int(a.skips)), ("flags", .int(a.flags))])
                     })),
                     ("claims", .array(claims.map { c in
                         .object([("annotator", .string(c.annotator)), ("id", .string(c.itemID)), ("seconds_left", .double(c.secondsLeft.rounded()))])
                     })),
                     ("deadlines", .object([
                         ("tasks", .int(withDeadline)), ("overdue", .int(overdue.count)), ("at_risk", .int(atRisk.count)),
                         ("overdue_items", .array(overdue.prefix(50).map { .object([("id", .string($0.itemID)), ("seconds_late", .double($0.seconds.rounded()))]) })),
                         ("at_risk_items", .array(atRisk.prefix(50).map { .object([("id", .string($0.itemID)), ("seconds_left", .double($0.seconds.rounded()))]) })),
                     ])),
                     ("picks", .array(picks.map { p in
                         .object([("id", .string(p.itemID)), ("strategy", .string(p.pick.strategy.rawValue)),
                                  ("score", .double(p.pick.score)), ("rank", .int(p.pick.rank)),
                                  ("uncertainty", .double(p.pick.uncertainty)), ("blind", .bool(p.pick.blind))])
                     }))])
        }
    }

    /// Resolves `--round`, defaulting to the open round, then the newest.
    static func resolve(_ r: any StoreReader, _ id: Int?) throws -> RoundRecord {
        if let id {
            guard let round = try r.round(id) else {
                throw QuorumError(.badInput, "there is no round \(id)", hint: "see `quorum status` for the rounds")
            }
            return round
        }
        if let open = try r.openRound() { return open }
        if let last = try r.rounds().last { return last }
        throw QuorumError(.state, "there are no rounds yet", hint: "start one with `quorum round start --size N`")
    }

    public static func status(store: any ProjectStore, round id: Int?) throws -> Status {
        try store.read { r in
            let round = try resolve(r, id)
            let progress = try r.taskProgress(round: round.id)
            let picks = try r.picks(round: round.id)
            var byStrategy: [String: Int] = [:]
            for (_, pick) in picks { byStrategy[pick.strategy.rawValue, default: 0] += 1 }
            var people: [String: (answers: Int, skips: Int, flags: Int)] = [:]
            for a in try r.answers(round: round.id) {
                var p = people[a.annotator] ?? (0, 0, 0)
                if a.flagged { p.flags += 1 } else if a.label == nil { p.skips += 1 } else { p.answers += 1 }
                people[a.annotator] = p
            }
            let now = r.now
            // Deadlines: tasks not yet answered K times whose deadline has passed
            // (overdue) or falls within the next hour (at risk), soonest first.
            let open = Set(try r.taskStates(round: round.id).filter { $0.done < $0.needed }.map(\.itemKey))
            let due = picks.filter { open.contains($0.pick.itemKey) && ($0.pick.deadline ?? .infinity) < 1e300 }
                .sorted { ($0.pick.deadline!, $0.itemID) < ($1.pick.deadline!, $1.itemID) }
            let overdue = due.filter { $0.pick.deadline! < now }
            let atRisk = due.filter { $0.pick.deadline! >= now && $0.pick.deadline! < now + Status.atRiskWindow }
            return Status(round: round, tasks: progress.tasks, complete: progress.complete,
                          answers: progress.answers, wanted: progress.wanted,
                          annotators: people.sorted { $0.key < $1.key }.map { ($0.key, $0.value.answers, $0.value.skips, $0.value.flags) },
                          claims: try r.activeClaims(round: round.id, now: now).map { ($0.annotator, $0.itemID, min($0.expiresAt - now, LabellingService.leaseRange.upperBound)) },
                          byStrategy: byStrategy, picks: picks,
                          overdue: overdue.map { ($0.itemID, now - $0.pick.deadline!) },
                          atRisk: atRisk.map { ($0.itemID, $0.pick.deadline! - now) },
                          withDeadline: picks.filter { ($0.pick.deadline ?? .infinity) < 1e300 }.count)
        }
    }
}
