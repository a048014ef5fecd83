import Foundation
import QuorumConsensus
import QuorumCore
import QuorumModels
import QuorumNumerics
import QuorumSampling
import QuorumReporting
import QuorumStore

extension RoundService {
    /// Every agreement statistic over `answers` (skips left out), with tasks as units.
    static func agreement(_ answers: [AnswerRecord], project: ProjectInfo) -> AgreementFigures {
        let given = answers.compactMap { a in a.label.map { (unit: a.taskID, annotator: a.annotator, label: $0) } }
        // Multi-label: nominal α, Fleiss' κ and percent agreement treat each distinct set as one value; α-MASI credits overlap.
        var figures = AgreementFigures.measure(Ratings(given, labels: project.labels.names), ordered: project.ordered)
        if project.task == .multiLabel {
            var byTask: [Int64: [String: Set<Int>]] = [:]
            for a in given { byTask[a.unit, default: [:]][a.annotator] = Set(LabelSetText.indices(a.label, labels: project.labels) ?? []) }
            figures.krippendorffAlphaMASI = Agreement.krippendorffAlphaMASI(units: byTask.keys.sorted().map { task in
                let sets = byTask[task]!
                return sets.keys.sorted().map { sets[$0]! }
            })
        }
        return figures
    }

    /// Per strategy, what its settled picks of this round bought: the gain in
    /// accuracy on the round's random picks (an unbiased sample of
    /// the pool, which neither model learned from) per label, of a model
    /// trained on the labels before the round plus the strategy's picks, over
    /// the model trained on the labels before the round alone. The random
    /// picks are split in halves, each scored with models given as many
    /// labels as the other half has: random's own half, or as many of the
    /// strategy's picks, drawn by the round's seed. The models are single logistic regressions at the
    /// round model's C, on its features. Each gain comes with its standard
    /// error, from the spread of the per-item differences it averages. nil
    /// without a Quorum model or with fewer than 4 settled random picks.
    ///
    /// `picker`: the model live before this close (normally the one that picked), so that
    /// the stored model versions are not all read again.
    ///
    /// - Complexity: O(strategies + 2) fits on the labels before the round.
    static func strategyGains(_ w: any StoreReader, round: RoundRecord, picker: ModelVersion?) throws
        -> (gains: [String: Double], errors: [String: Double])? {
        guard let modelID = round.modelVersion,
              let model = try picker?.id == modelID ? picker : w.models().first(where: { $0.id == modelID }),
              let classifier = Classifier(encoded: model.state) else { return nil }
        let settings = try StoredJSON.object(model.settingsJSON, "settings of model \(model.id)")
        let c = settings["c"] as? Double ?? settings["C"] as? Double ?? 1
        let labels = try w.project().labels
        let consensus = try w.consensus()
        let picks = try w.picks(round: round.id).filter { $0.pick.strategy.isSampled }
        let picked = Dictionary(picks.map { ($0.pick.itemKey, $0.pick.strategy.rawValue) }, uniquingKeysWith: { a, _ in a })
        var before: [(StoredItem, Int)] = []
        var byStrategy: [String: [(StoredItem, Int)]] = [:]
        for item in try w.items(kinds: [.seed]) { if let y = item.label.flatMap(labels.index(of:)) { before.append((item, y)) } }
        for item in try w.items(kinds: [.pool]) {
            guard let y = consensus[item.key]?.label.flatMap(labels.index(of:)) else { continue }
            if let strategy = picked[item.key] { byStrategy[strategy, default: []].append((item, y)) } else { before.append((item, y)) }
        }
        guard let random = byStrategy["random"], random.count >= 4, !before.isEmpty else { return nil }
        func fit(_ rows: [(StoredItem, Int)]) -> LogisticRegression {
            LogisticRegression.fit(features: classifier.featurizer.transform(texts: rows.map(\.0.text), vectors: rows.map(\.0.vector)),
                                   labels: rows.map(\.1), classes: labels.count, settings: LogisticRegressionSettings(c: c))
        }
        /// Whether `model` labels each row right (1) or not (0).
        func hits(_ model: LogisticRegression, _ rows: [(StoredItem, Int)]) -> [Double] {
            let p = model.probabilities(classifier.featurizer.transform(texts: rows.map(\.0.text), vectors: rows.map(\.0.vector)))
            return rows.enumerated().map { row in
                let best = (0..<p.cols).max { p[row.offset, $0] < p[row.offset, $1] }!
                return best == row.element.1 ? 1 : 0
            }
        }
        /// The mean gain per label of `model` over `reference` on `rows`, and its standard error
        /// (from the spread of the per-row differences).
        func gain(_ model: LogisticRegression, over reference: [Double], on rows: [(StoredItem, Int)], labels: Int) -> (Double, Double) {
            let d = zip(hits(model, rows), reference).map { $0 - $1 }
            let mean = d.reduce(0, +) / Double(d.count)
            let variance = d.count > 1 ? d.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(d.count - 1) : 0
            return (mean / Double(labels), (variance / Double(d.count)).squareRoot() / Double(labels))
        }
        // Every gain is measured at the same number of labels, on the same
        // held-out items: the round's random picks in two halves A and B. A
        // strategy's picks, cut to |A| labels, are scored on B, and cut to |B|
        // labels on A; random's half A on B and half B on A. (Gains per label
        // shrink as labels grow, so a strategy's 28 picks against random's 3
        // would favour random whatever the picks were worth.) Accuracy, not
        // log-likelihood: on satellite, uncertainty picks lowered the
        // log-likelihood of random items while raising accuracy, and a
        // log-likelihood bar sent auto to random (99% at 740 labels, against
        // 340 for the fixed blend and 340 for auto on accuracy).
        var rng = SeededGenerator(seed: UInt64(round.id) ^ 0x6A1E)
        var order = random
        order.shuffle(using: &rng)
        let half = order.count / 2
        let a = Array(order[..<half]), b = Array(order[half...])
        let base = fit(before)
        let (baseOnA, baseOnB) = (hits(base, a), hits(base, b))
        /// The gain of `rowsForB` scored on B and of `rowsForA` scored on A, averaged, with its standard error.
        func gainOnHalves(_ rowsForB: [(StoredItem, Int)], _ rowsForA: [(StoredItem, Int)]) -> (Double, Double) {
            let (onB, errorB) = gain(fit(before + rowsForB), over: baseOnB, on: b, labels: rowsForB.count)
            let (onA, errorA) = gain(fit(before + rowsForA), over: baseOnA, on: a, labels: rowsForA.count)
            return ((onA + onB) / 2, (errorA * errorA + errorB * errorB).squareRoot() / 2)
        }
        var gains: [String: Double] = [:]
        var errors: [String: Double] = [:]
        for (strategy, rows) in byStrategy.sorted(by: { $0.key < $1.key }) where strategy != "random" {
            var shuffled = rows
            shuffled.shuffle(using: &rng)
            (gains[strategy], errors[strategy]) = gainOnHalves(Array(shuffled.prefix(a.count)), Array(shuffled.prefix(b.count)))
        }
        (gains["random"], errors["random"]) = gainOnHalves(a, b)
        return (gains, errors)
    }

    /// `quorum round cancel`: withdraws an open round nobody has answered: its
    /// tasks and claims are removed and its auto-accepted items go back to
    /// the pool. A round with answers is closed, not cancelled (its answers
    /// are part of the record).
    public static func cancel(store: any ProjectStore, round id: Int?) throws -> RoundRecord {
        try store.write { w in
            let round = try resolve(w, id)
            guard round.status == .open else {
                throw QuorumError(.state, "round \(round.id) is \(round.status.rawValue); only an open round can be cancelled",
                                  hint: "see `quorum round status`")
            }
            let answers = try w.answers(round: round.id).count
            guard answers == 0 else {
                throw QuorumError(.state, "round \(round.id) already has \(answers) answer\(answers == 1 ? "" : "s"), which are part of the record",
                                  hint: "close it with `quorum round close` instead")
            }
            try w.cancelRound(round.id)
            try w.appendEvent(EventRecord(kind: "round.cancel", modelVersion: round.modelVersion,
                                          detailJSON: JSONValue.object([("round", .int(round.id))]).serialized()))
            return round
        }
    }

    public struct CloseSummary: Sendable {
        public var metrics: RoundMetrics
        public var unfinishedTasks: Int
        public var train: TrainService.Summary
    }

    /// Closes a round: consensus, retrain, evaluate on the test items, then
    /// record the round's metrics. A round nobody answered is refused unless
    /// `force`; closed anyway, it retrains on the same labels, so it never
    /// counts toward the stopping signal.
    ///
    /// Nothing slow runs in a write transaction, so annotators labelling
    /// meanwhile (in other processes, or through `quorum serve`) are never held
    /// up: a short write settles consensus; the model is trained and each
    /// strategy's gain measured outside any write; a final short write settles
    /// consensus again (answers that came in meanwhile count), records the
    /// model and closes the round. The model learns from the labels settled
    /// when the close began.
    public static func close(store: any ProjectStore, round id: Int?, train options: TrainService.Options,
                             force: Bool = false) throws -> CloseSummary {
        let (round, empty) = try store.writePatiently { w in
            let round = try resolve(w, id)
            guard round.status == .open else {
                throw QuorumError(.state, "round \(round.id) is already \(round.status.rawValue)", hint: "see its metrics with `quorum report`")
            }
            let empty = try w.answers(round: round.id).isEmpty
            if empty, !force {
                throw QuorumError(.state, "round \(round.id) has no answers yet; closing it would retrain on the same labels",
                                  hint: "label it first, withdraw it with `quorum round cancel`, or pass --force (it will not count toward the stopping signal)")
            }
            _ = try ConsensusService.aggregate(w)
            return (round, empty)
        }
        let (set, previousModel, gains, drift) = try store.read { r in
            let previous = try r.liveModel()
            return (try TrainService.gather(r), previous, try strategyGains(r, round: round, picker: previous),
                    try DriftService.measure(r))
        }
        let fitted = TrainService.fit(set, options: options)
        return try store.writePatiently { w in
            guard try w.round(round.id)?.status == .open else {
                throw QuorumError(.state, "round \(round.id) was closed or cancelled by someone else while this close was training",
                                  hint: "see `quorum round status`")
            }
            let progress = try w.taskProgress(round: round.id)
            let consensus = try ConsensusService.aggregate(w)
            let trained = try TrainService.record(w, fitted, options: options)
            // Rounds closed without answers bought nothing and are left out of the signal.
            var signal = try StoppingSignal.measure(w, previous: previousModel?.id, current: trained.modelVersion,
                                                    history: try w.rounds().compactMap { $0.metricsJSON.flatMap { try? RoundMetrics.decode($0) } }
                                                        .filter { $0.answers > 0 })
            if empty {
                signal = StoppingSignal.Signal(stability: nil, meanUncertainty: signal.meanUncertainty, stop: false,
                                               reason: "closed with no answers: not counted toward the stopping signal")
            }
            let roundAnswers = try w.answers(round: round.id)
            let roundItems = Set(roundAnswers.map(\.itemID))
            // The router's share: auto-accepted items of this round, and how the audited ones fared.
            let auto = try w.autoLabels().values.filter { $0.roundID == round.id }
            let settled = try w.consensus()
            let audited = auto.filter { $0.audited }.compactMap { a in settled[a.itemKey]?.label.map { ($0, a.label) } }
            let auditPassRate = audited.isEmpty ? nil : Double(audited.filter { $0.0 == $0.1 }.count) / Double(audited.count)
            var metrics = RoundMetrics(
                round: round.id, labelled: trained.trainedOn, testAccuracy: trained.testAccuracy,
                macroF1: trained.macroF1, ece: trained.ece, modelVersion: trained.modelVersion,
                percentAgreement: nil, autoAccepted: auto.count,
                auditPassRate: auditPassRate,
                tasks: progress.tasks, answers: roundAnswers.count,
                disputes: consensus.disputes.filter(roundItems.contains).count)
            metrics.predictionStability = signal.stability
            metrics.meanUncertainty = signal.meanUncertainty
            metrics.stop = signal.stop
            metrics.stopReason = signal.reason
            metrics.blend = try StoredJSON.object(round.settingsJSON, "settings of round \(round.id)")["blend"] as? String
            metrics.strategyGain = gains?.gains
            metrics.strategyGainError = gains?.errors
            metrics.blendNote = gains.flatMap { measured in
                AdaptiveBlend.note(gains: Strategy.keyed(measured.gains), errors: Strategy.keyed(measured.errors))
            }
            metrics.record(agreement(roundAnswers, project: try w.project()))
            metrics.kpis = try KPIService.measure(w, round: round, ece: trained.ece)
            // Drift is measured before the retrain (which scores the new pool items).
            metrics.kpis?.driftPSI = drift?.psi
            if let drift {
                try w.appendEvent(EventRecord(kind: "drift", modelVersion: drift.model, detailJSON: drift.json.serialized()))
            }
            try w.closeRound(round.id, metricsJSON: try metrics.encodedJSON())
            try w.appendEvent(EventRecord(kind: "round.close", modelVersion: trained.modelVersion,
                                          detailJSON: metrics.json.serialized()))
            return CloseSummary(metrics: metrics, unfinishedTasks: progress.tasks - progress.complete, train: trained)
        }
    }
}
