import Foundation
import QuorumCore
import QuorumReporting
import QuorumStore

/// `quorum report`: the per-round metrics recorded at each close.
public enum ReportService {
    /// The live model set against the shadow model.
    public typealias ShadowComparison = QuorumReporting.ShadowComparison

    /// Compares the shadow model with the live one, when both exist.
    public static func shadowComparison(store: any ProjectStore) throws -> ShadowComparison? {
        try store.read { r in
            guard let live = try r.liveModel(), let shadow = try r.shadowModel() else { return nil }
            let a = try r.predictions(model: live.id), b = try r.predictions(model: shadow.id)
            var ids: [Int64: String] = [:]
            for item in try r.items(kinds: [.pool, .gold]) { ids[item.key] = item.id }
            var compared = 0, same = 0
            var differing: [String] = []
            for (key, p) in a {
                guard let q = b[key], let id = ids[key] else { continue }
                compared += 1
                if p.label == q.label { same += 1 } else { differing.append(id) }
            }
            func accuracy(_ m: ModelVersion) throws -> Double? {
                try StoredJSON.object(m.metricsJSON, "metrics of model \(m.id)")["test_accuracy"] as? Double
            }
            return ShadowComparison(live: live.id, shadow: shadow.id, compared: compared,
                                    agreement: compared == 0 ? nil : Double(same) / Double(compared),
                                    liveTestAccuracy: try accuracy(live), shadowTestAccuracy: try accuracy(shadow),
                                    differing: differing.sorted())
        }
    }

    /// Agreement over every answer of every round, open or closed (tasks are
    /// the units): the overall figures and Cohen's κ per annotator pair.
    ///
    /// - Complexity: O(answers log answers + pairs × labels²).
    public static func agreement(store: any ProjectStore) throws -> AgreementFigures {
        try store.read { r in RoundService.agreement(try r.answers(round: nil), project: try r.project()) }
    }

    /// The document `report --format json` prints (and `GET /api/v1/report` returns).
    public static func json(store: any ProjectStore) throws -> JSONValue {
        json(try rounds(store: store), agreement: try agreement(store: store), baseline: try baseline(store: store),
             shadow: try shadowComparison(store: store))
    }

    public static func json(_ rounds: [RoundMetrics], agreement: AgreementFigures, baseline: RoundMetrics?,
                            shadow: ShadowComparison?) -> JSONValue {
        guard case .object(var fields) = Report.json(rounds, agreement: agreement, baseline: baseline) else { return .null }
        fields.append(("shadow", shadow?.json ?? .null))
        return .object(fields)
    }

    /// The closed rounds' metrics, each with the items an adjudicator has ruled
    /// on so far and its KPIs as they stand now.
    public static func rounds(store: any ProjectStore) throws -> [RoundMetrics] {
        try store.read { r in
            let ruled = Set(try r.adjudications().keys)
            var idOf: [String: Int64] = [:]
            if !ruled.isEmpty { for item in try r.items(kinds: ItemKind.allCases) { idOf[item.id] = item.key } }
            let events = try r.events(kinds: KPIService.eventKinds)
            return try r.rounds().compactMap { round in
                guard let json = round.metricsJSON else { return nil }
                var metrics = try RoundMetrics.decode(json)
                metrics.adjudicated = ruled.isEmpty ? 0
                    : Set(try r.picks(round: round.id).compactMap { idOf[$0.itemID] }).intersection(ruled).count
                let drift = metrics.kpis?.driftPSI   // measured at the close, before the retrain
                metrics.kpis = try KPIService.measure(r, round: round, ece: metrics.ece, events: events)
                metrics.kpis?.driftPSI = drift
                return metrics
            }
        }
    }

    /// Round 0: the model the first round was sampled with (or, before any
    /// round, the live model), with the test figures it was recorded with, so
    /// the report shows what the rounds of human work bought over it.
    public static func baseline(store: any ProjectStore) throws -> RoundMetrics? {
        try store.read { r in
            let models = try r.models()
            let first = try r.rounds().first?.modelVersion
            let live = first == nil ? try r.liveModel() : nil
            guard let model = first.flatMap({ id in models.first { $0.id == id } }) ?? live else { return nil }
            let m = try StoredJSON.object(model.metricsJSON, "metrics of model \(model.id)")
            return RoundMetrics(round: 0, labelled: model.trainedOn, testAccuracy: m["test_accuracy"] as? Double,
                                macroF1: m["macro_f1"] as? Double, ece: m["ece"] as? Double, modelVersion: model.id,
                                percentAgreement: nil, autoAccepted: 0, tasks: 0, answers: 0, disputes: 0)
        }
    }
}

extension ReportService {
    /// Everything `report --format html` shows. Read-only: drift against pool
    /// items imported since the last comparison is measured, not recorded.
    ///
    /// The breaches are `quorum check`'s on the last closed round (the same rule,
    /// `KPIService.breaches`, on the KPIs `rounds` measured and the drift measured here once).
    ///
    /// - Complexity: that of `rounds`, `AnnotatorService.list` and `DriftService.measure`.
    public static func document(store: any ProjectStore) throws -> ReportDocument {
        var rounds = try rounds(store: store)
        let baseline = try baseline(store: store)
        let scorecards = try AnnotatorService.list(store: store)
        let shadow = try shadowComparison(store: store)
        let agreement = try agreement(store: store)
        return try store.read { r in
            // Pool items imported since the last close are compared now, as `quorum check` does.
            let fresh = try DriftService.measure(r)
            if let fresh, !rounds.isEmpty { rounds[rounds.count - 1].kpis?.driftPSI = fresh.psi }
            let breaches = try rounds.last.map { last in
                try KPIService.breaches(r, round: last.round, kpis: last.kpis ?? RoundKPIs(), drift: fresh)
            } ?? []
            var document = ReportDocument(
                title: "Quorum report: \(try r.project().name)", baseline: baseline, rounds: rounds, agreement: agreement,
                thresholds: try KPIService.thresholds(r), breaches: breaches,
                stoppingRule: "round close recommends stopping when the predictions on the unlabelled pool are stable "
                    + "(Cohen's κ ≥ \(StoppingSignal.kappaThreshold) between successive models for \(StoppingSignal.stableRounds) rounds) "
                    + "or their mean uncertainty (1 − confidence) falls below \(StoppingSignal.uncertaintyBound).",
                shadow: shadow, scorecards: scorecards,
                classes: try classResults(r, baseline: baseline?.modelVersion),
                drift: try fresh ?? DriftService.latest(r))
            document.stoppingGuides = [(StoppingSignal.kappaThreshold, "stable at κ ≥ \(StoppingSignal.kappaThreshold)"),
                                       (StoppingSignal.uncertaintyBound, "sure below \(StoppingSignal.uncertaintyBound)")]
            return document
        }
    }

    /// Per-class precision, recall and F1 of the live model on the test
    /// items, as recorded when it was trained, beside the baseline model's F1.
    static func classResults(_ r: any StoreReader, baseline: String?) throws -> ReportDocument.ClassResults? {
        guard let live = try r.liveModel() else { return nil }
        func perClass(_ model: ModelVersion) throws -> [[String: Any]]? {
            try StoredJSON.object(model.metricsJSON, "metrics of model \(model.id)")["per_class"] as? [[String: Any]]
        }
        guard let rows = try perClass(live) else {
            let testItems = try StoredJSON.object(live.metricsJSON, "metrics of model \(live.id)")["test_items"] as? Int ?? 0
            return ReportDocument.ClassResults(model: live.id, baselineModel: nil, rows: [], missing: testItems == 0
                ? "No test items: import some with `quorum import FILE --as test`, then train."
                : "Model \(live.id) was trained before per-class figures were recorded; `quorum train` records them.")
        }
        var before: [String: Double] = [:]
        let baselineModel = baseline.flatMap { id in id == live.id ? nil : try? r.models().first { $0.id == id } }
        if let model = baselineModel, let rows = try perClass(model) {
            for row in rows { if let label = row["label"] as? String, let f1 = row["f1"] as? Double { before[label] = f1 } }
        }
        return ReportDocument.ClassResults(
            model: live.id, baselineModel: before.isEmpty ? nil : baselineModel?.id,
            rows: rows.compactMap { row in
                guard let label = row["label"] as? String else { return nil }
                return ReportDocument.ClassRow(label: label, support: row["support"] as? Int ?? 0, precision: row["precision"] as? Double,
                                               recall: row["recall"] as? Double, f1: row["f1"] as? Double, baselineF1: before[label])
            })
    }
}

extension RoundMetrics {
    /// The storage form (Codable JSON) of the metrics.
    func encodedJSON() throws -> String {
        String(decoding: try JSONEncoder().encode(self), as: UTF8.self)
    }

    static func decode(_ json: String) throws -> RoundMetrics {
        try JSONDecoder().decode(RoundMetrics.self, from: Data(json.utf8))
    }
}
