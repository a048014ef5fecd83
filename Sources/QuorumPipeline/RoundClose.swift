import Foundation
import QuorumCore
import QuorumReporting
import QuorumStore

extension RoundService {
    /// Every agreement statistic over `answers` (skips left out), with tasks as units.
    static func agreement(_ answers: [AnswerRecord], project: ProjectInfo) -> AgreementFigures {
        let given = answers.compactMap { a in a.label.map { (unit: a.taskID, annotator: a.annotator, label: $0) } }
        return AgreementFigures.measure(Ratings(given, labels: project.labels.names), ordered: project.ordered)
    }

    /// Per strategy, the share of this round's settled picks whose consensus
    /// differed from the picking model's prediction (see `AdaptiveBlend`).
    static func strategyGains(_ w: any StoreWriter, round: RoundRecord) throws -> [String: Double]? {
        guard let model = round.modelVersion else { return nil }
        let predictions = try w.predictions(model: model)
        let consensus = try w.consensus()
        let labels = try w.project().labels
        var wrong: [String: Int] = [:], settled: [String: Int] = [:]
        for (_, pick) in try w.picks(round: round.id) where pick.strategy != "audit" && pick.strategy != "gold" {
            guard let label = consensus[pick.itemKey]?.label, let p = predictions[pick.itemKey] else { continue }
            settled[pick.strategy, default: 0] += 1
            if labels.names[p.label] != label { wrong[pick.strategy, default: 0] += 1 }
        }
        guard !settled.isEmpty else { return nil }
        return settled.reduce(into: [:]) { out, entry in out[entry.key] = Double(wrong[entry.key] ?? 0) / Double(entry.value) }
    }

    public struct CloseSummary: Sendable {
        public var metrics: RoundMetrics
        public var unfinishedTasks: Int
        public var train: TrainService.Summary
    }

    /// Closes a round: consensus, retrain, evaluate on the test items, then
    /// record the round's metrics. All in one transaction.
    public static func close(store: any ProjectStore, round id: Int?, train options: TrainService.Options) throws -> CloseSummary {
        try store.write { w in
            let round = try resolve(w, id)
            guard round.status == .open else {
                throw QuorumError(.state, "round \(round.id) is already closed", hint: "see its metrics with `quorum report`")
            }
            let progress = try w.taskProgress(round: round.id)
            let consensus = try ConsensusService.aggregate(w)
            let previousModel = try w.liveModel()
            let trained = try TrainService.train(w, options: options)
            let signal = try StoppingSignal.measure(w, previous: previousModel?.id, current: trained.modelVersion,
                                                    history: try w.rounds().compactMap { $0.metricsJSON.flatMap { try? RoundMetrics.decode($0) } })
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
            metrics.blend = (try? JSONSerialization.jsonObject(with: Data(round.settingsJSON.utf8)) as? [String: Any])?["blend"] as? String
            metrics.strategyGain = try strategyGains(w, round: round)
            metrics.record(agreement(roundAnswers, project: try w.project()))
            try w.closeRound(round.id, metricsJSON: try metrics.encodedJSON())
            try w.appendEvent(EventRecord(kind: "round.close", modelVersion: trained.modelVersion,
                                          detailJSON: metrics.json.serialized()))
            return CloseSummary(metrics: metrics, unfinishedTasks: progress.tasks - progress.complete, train: trained)
        }
    }
}
