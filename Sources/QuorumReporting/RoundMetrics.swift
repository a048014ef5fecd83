import QuorumCore

/// What one round bought, recorded when the round closes.
public struct RoundMetrics: Sendable, Equatable, Codable {
    public var round: Int
    /// Labelled items the retrained model learned from (seed + consensus + auto).
    public var labelled: Int
    public var testAccuracy: Double?
    public var macroF1: Double?
    public var ece: Double?
    public var modelVersion: String?
    public var krippendorffAlpha: Double?
    public var fleissKappa: Double?
    /// Share of answer pairs on the same item that agree.
    public var percentAgreement: Double?
    /// Krippendorff's α, ordinal and interval: set only when the project's labels are ordered.
    public var krippendorffAlphaOrdinal: Double?
    public var krippendorffAlphaInterval: Double?
    /// Krippendorff's α with the MASI distance between label sets: set only in multi-label projects.
    public var krippendorffAlphaMASI: Double?
    /// Cohen's κ per pair of annotators who shared an item this round; nil in
    /// metrics recorded before pairs were measured.
    public var pairs: [PairAgreement]?
    public var autoAccepted: Int
    public var auditPassRate: Double?
    public var tasks: Int
    public var answers: Int
    public var disputes: Int
    /// Cohen's κ between this round's model and the previous one on the unlabelled pool.
    public var predictionStability: Double?
    /// Mean least-confidence (1 − max p) over the unlabelled pool under the new model.
    public var meanUncertainty: Double?
    /// Whether labelling can stop, and why.
    public var stop: Bool?
    public var stopReason: String?
    /// Per strategy: the held-out accuracy its settled picks bought per label
    /// (see `RoundService.strategyGains`); random's is the bar the others must clear.
    public var strategyGain: [String: Double]?
    /// The standard error of each gain in `strategyGain`.
    public var strategyGainError: [String: Double]?
    /// What `--blend auto` makes of the gains, in words (e.g. weight moving to random).
    public var blendNote: String?
    /// The blend this round was sampled with.
    public var blend: String?
    /// Items of the round an adjudicator ruled on (disputes and flags settled);
    /// counted when the report is made, as rulings may come after the close.
    public var adjudicated: Int?
    /// The round's operating figures (recorded at close; `report` measures them again).
    public var kpis: RoundKPIs?

    public init(round: Int, labelled: Int, testAccuracy: Double?, macroF1: Double?, ece: Double?,
                modelVersion: String?, krippendorffAlpha: Double? = nil, fleissKappa: Double? = nil,
                percentAgreement: Double?, autoAccepted: Int, auditPassRate: Double? = nil,
                tasks: Int, answers: Int, disputes: Int) {
        self.round = round; self.labelled = labelled; self.testAccuracy = testAccuracy; self.macroF1 = macroF1
        self.ece = ece; self.modelVersion = modelVersion; self.krippendorffAlpha = krippendorffAlpha
        self.fleissKappa = fleissKappa; self.percentAgreement = percentAgreement; self.autoAccepted = autoAccepted
        self.auditPassRate = auditPassRate; self.tasks = tasks; self.answers = answers; self.disputes = disputes
    }

    /// Records the round's agreement statistics.
    public mutating func record(_ agreement: AgreementFigures) {
        krippendorffAlpha = agreement.krippendorffAlpha
        fleissKappa = agreement.fleissKappa
        percentAgreement = agreement.percentAgreement
        krippendorffAlphaOrdinal = agreement.krippendorffAlphaOrdinal
        krippendorffAlphaInterval = agreement.krippendorffAlphaInterval
        krippendorffAlphaMASI = agreement.krippendorffAlphaMASI
        pairs = agreement.pairs
    }

    /// The contract's JSON shape (`report --format json`); absent values are `null`, never left out.
    public var json: JSONValue {
        .object([
            ("round", .int(round)), ("labelled", .int(labelled)),
            ("test_accuracy", .number(testAccuracy)), ("macro_f1", .number(macroF1)), ("ece", .number(ece)),
            ("model_version", .text(modelVersion)),
            ("agreement", .object([
                ("krippendorff_alpha", .number(krippendorffAlpha)), ("fleiss_kappa", .number(fleissKappa)),
                ("percent_agreement", .number(percentAgreement)),
                ("krippendorff_alpha_ordinal", .number(krippendorffAlphaOrdinal)),
                ("krippendorff_alpha_interval", .number(krippendorffAlphaInterval)),
                ("krippendorff_alpha_masi", .number(krippendorffAlphaMASI)),
                ("pairs", pairs.map { .array($0.map(\.json)) } ?? .null),
            ])),
            ("auto_accepted", .int(autoAccepted)), ("audit_pass_rate", .number(auditPassRate)),
            ("tasks", .int(tasks)), ("answers", .int(answers)), ("disputes", .int(disputes)),
            ("adjudicated", adjudicated.map { .int($0) } ?? .null),
            ("prediction_stability", .number(predictionStability)), ("mean_uncertainty", .number(meanUncertainty)),
            ("stop", stop.map { .bool($0) } ?? .null), ("stop_reason", .text(stopReason)),
            ("blend", .text(blend)), ("blend_note", .text(blendNote)),
            ("strategy_gain", strategyGain.map { g in .object(g.sorted { $0.key < $1.key }.map { ($0.key, .double($0.value)) }) } ?? .null),
            ("kpis", (kpis ?? RoundKPIs()).json),
            ("strategy_gain_se", strategyGainError.map { g in .object(g.sorted { $0.key < $1.key }.map { ($0.key, .double($0.value)) }) } ?? .null),
        ])
    }
}

/// Renders the per-round report.
public enum Report {
    /// `{"rounds":[…]}`, and with `agreement` the figures over all rounds under
    /// `"agreement"`; `"baseline"` is the model before round 1 (round 0), or null.
    public static func json(_ rounds: [RoundMetrics], agreement: AgreementFigures? = nil, baseline: RoundMetrics? = nil) -> JSONValue {
        .object([("rounds", .array(rounds.map(\.json))), ("baseline", baseline?.json ?? .null)]
                + (agreement.map { [("agreement", $0.json)] } ?? []))
    }

    /// A fixed-width table that fits 80 columns; then, with `agreement`, the
    /// figures over all rounds and a table of the annotator pairs.
    /// The table starts with `baseline` (the model before round 1) when given.
    public static func text(_ rounds: [RoundMetrics], agreement: AgreementFigures? = nil, baseline: RoundMetrics? = nil) -> String {
        let body = table(rounds, baseline: baseline) + kpiTable(rounds)
        guard let agreement, agreement.percentAgreement != nil || !agreement.pairs.isEmpty else { return body }
        return body + "\nAgreement over all rounds: " + agreement.text
    }

    /// The operating figures per round, in 80 columns: escalated, overridden,
    /// corrected, auto-accepted, audits passed, time to human (p50/p90 s),
    /// adjudication p50 s, SLA met.
    static func kpiTable(_ rounds: [RoundMetrics]) -> String {
        let measured = rounds.filter { $0.kpis != nil }
        guard !measured.isEmpty else { return "" }
        let widths = [5, 8, 8, 8, 6, 6, 13, 7, 6]
        func row(_ cells: [String]) -> String {
            zip(cells, widths).map { String(repeating: " ", count: max(0, $1 - $0.count)) + $0 }.joined(separator: " ")
        }
        var lines = ["\nKPIs", row(["round", "escalate", "override", "correct", "auto", "audit", "to human p50/90", "adjud.", "SLA"])]
        for r in measured {
            let k = r.kpis!
            let human = k.timeToHumanP50.map { "\(Int($0.rounded()))/\(Int((k.timeToHumanP90 ?? $0).rounded()))s" } ?? "-"
            lines.append(row([String(r.round), percent(k.escalationRate), percent(k.overrideRate), percent(k.correctionRate),
                              percent(k.autoAcceptRate), percent(k.auditPassRate), human,
                              k.adjudicationP50.map { "\(Int($0.rounded()))s" } ?? "-", percent(k.slaMetRate)]))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Columns: round, labelled, answers, disputes/settled by adjudication,
    /// test accuracy, macro F1, ECE, agreement, auto-accepted, audit pass rate, model.
    static func table(_ rounds: [RoundMetrics], baseline: RoundMetrics? = nil) -> String {
        var lines = [pad(["round", "labelled", "answers", "disp/adj", "test acc", "mac F1", "ECE", "agree", "auto", "audit", "model"])]
        if let b = baseline {
            lines.append(pad(["0", String(b.labelled), "-", "-", percent(b.testAccuracy), percent(b.macroF1), fixed(b.ece),
                              "-", "-", "-", b.modelVersion ?? "-"]))
        }
        guard !rounds.isEmpty else {
            return (baseline == nil ? "" : lines.joined(separator: "\n") + "\n")
                + "No closed rounds yet. Close one with `quorum round close`.\n"
        }
        for r in rounds {
            lines.append(pad([String(r.round), String(r.labelled), String(r.answers), "\(r.disputes)/\(r.adjudicated.map(String.init) ?? "-")",
                              percent(r.testAccuracy), percent(r.macroF1), fixed(r.ece), percent(r.percentAgreement),
                              String(r.autoAccepted), percent(r.auditPassRate), r.modelVersion ?? "-"]))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func pad(_ cells: [String]) -> String {
        let widths = [5, 8, 7, 8, 8, 6, 5, 6, 5, 6, 5]
        return zip(cells, widths).map { cell, w in
            String(repeating: " ", count: max(0, w - cell.count)) + cell
        }.joined(separator: " ")
    }

    /// "91.3%" or "-".
    public static func percent(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "-" }
        return fixed(v * 100, digits: 1) + "%"
    }

    /// A number with `digits` decimals, or "-".
    public static func fixed(_ v: Double?, digits: Int = 3) -> String {
        guard let v, v.isFinite else { return "-" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let r = (v * scale).rounded() / scale
        var s = String(r)
        if let dot = s.firstIndex(of: ".") {
            let decimals = s.distance(from: dot, to: s.endIndex) - 1
            if decimals < digits { s += String(repeating: "0", count: digits - decimals) }
        } else if digits > 0 {
            s += "." + String(repeating: "0", count: digits)
        }
        return s
    }
}
