import QuorumCore

/// Everything the HTML report shows, gathered by the pipeline (`ReportService.document`)
/// so that the page itself only lays it out.
public struct ReportDocument: Sendable {
    public var title: String
    /// The model the first round was sampled with: the point the curve starts from.
    public var baseline: RoundMetrics?
    /// The closed rounds, oldest first, each with its KPIs.
    public var rounds: [RoundMetrics]
    public var agreement: AgreementFigures?
    /// The KPI bounds in force (defaults and the lead's settings).
    public var thresholds: [KPIThreshold]
    /// `quorum check` on the last closed round: every KPI outside its bound (drift by its own alarm).
    public var breaches: [KPIBreach]
    /// When labelling stops paying, in words: the rule `round close` applies.
    public var stoppingRule: String
    /// The stopping rule's lines, drawn on the chart of its measures: (value, label).
    public var stoppingGuides: [(value: Double, label: String)] = []
    public var shadow: ShadowComparison?
    public var scorecards: [AnnotatorScorecard]
    public var classes: ClassResults?
    public var drift: DriftComparison?

    public init(title: String, baseline: RoundMetrics?, rounds: [RoundMetrics], agreement: AgreementFigures?,
                thresholds: [KPIThreshold] = KPIThreshold.defaults, breaches: [KPIBreach] = [], stoppingRule: String = "",
                shadow: ShadowComparison? = nil, scorecards: [AnnotatorScorecard] = [], classes: ClassResults? = nil, drift: DriftComparison? = nil) {
        self.title = title; self.baseline = baseline; self.rounds = rounds; self.agreement = agreement
        self.thresholds = thresholds; self.breaches = breaches; self.stoppingRule = stoppingRule
        self.shadow = shadow; self.scorecards = scorecards; self.classes = classes; self.drift = drift
    }

    /// Per class on the test items: the live model, and the baseline model's F1 beside it.
    public struct ClassResults: Sendable {
        public var model: String
        public var baselineModel: String?
        public var rows: [ClassRow]
        /// Why there are no rows (for instance a model recorded before per-class figures were kept).
        public var missing: String?

        public init(model: String, baselineModel: String?, rows: [ClassRow], missing: String? = nil) {
            self.model = model; self.baselineModel = baselineModel; self.rows = rows; self.missing = missing
        }
    }

    public struct ClassRow: Sendable {
        public var label: String
        public var support: Int
        public var precision: Double?
        public var recall: Double?
        public var f1: Double?
        public var baselineF1: Double?

        public init(label: String, support: Int, precision: Double?, recall: Double?, f1: Double?, baselineF1: Double?) {
            self.label = label; self.support = support; self.precision = precision; self.recall = recall
            self.f1 = f1; self.baselineF1 = baselineF1
        }
    }
}

/// How each KPI is named and written in the report.
enum KPIDisplay {
    enum Kind { case rate, seconds, number }

    static func describe(_ name: String) -> (title: String, kind: Kind) {
        switch name {
        case "escalation_rate": ("Escalation rate", .rate)
        case "override_rate": ("Override rate", .rate)
        case "correction_rate": ("Correction rate", .rate)
        case "auto_accept_rate": ("Auto-accept rate", .rate)
        case "audit_pass_rate": ("Audit pass rate", .rate)
        case "time_to_human_p50_s": ("Time to human, p50", .seconds)
        case "time_to_human_p90_s": ("Time to human, p90", .seconds)
        case "adjudication_p50_s": ("Adjudication, p50", .seconds)
        case "sla_met_rate": ("SLA met", .rate)
        case "ece": ("Calibration error (ECE)", .number)
        case "drift_psi": ("Drift (PSI)", .number)
        default: (name, .number)
        }
    }

    static func format(_ value: Double?, _ kind: Kind) -> String {
        guard let value, value.isFinite else { return "–" }
        switch kind {
        case .rate: return Report.percent(value)
        case .number: return Report.fixed(value)
        case .seconds:
            if value < 90 { return "\(Int(value.rounded())) s" }
            if value < 5400 { return Report.fixed(value / 60, digits: 1) + " min" }
            return Report.fixed(value / 3600, digits: 1) + " h"
        }
    }
}

/// One person's scorecard.
public struct AnnotatorScorecard: Sendable, Equatable {
    public var name: String
    public var role: String
    public var answers: Int
    public var skips: Int
    /// Items this person flagged for an adjudicator.
    public var flags: Int
    /// Gold items answered, and the share answered right.
    public var goldAnswered: Int
    public var goldAccuracy: Double?
    /// Share of answers on settled items that equal the consensus.
    public var consensusAgreement: Double?
    /// Share of answers that differ from the model's suggestion.
    public var overrideRate: Double?
    /// On gold items the model got wrong: the share where this person took the wrong suggestion.
    public var wrongSuggestionsAccepted: Double?
    /// Share of answers equal to the model's label: where the suggestion was shown, and on blind
    /// tasks where it was hidden. Shown far above blind suggests leaning on the suggestion.
    public var agreementWithSuggestionShown: Double?
    public var agreementWithModelBlind: Double?
    public var medianSeconds: Double?

    public init(name: String, role: String, answers: Int, skips: Int, flags: Int, goldAnswered: Int, goldAccuracy: Double?,
                consensusAgreement: Double?, overrideRate: Double?, wrongSuggestionsAccepted: Double?,
                agreementWithSuggestionShown: Double?, agreementWithModelBlind: Double?, medianSeconds: Double?) {
        self.name = name; self.role = role; self.answers = answers; self.skips = skips; self.flags = flags
        self.goldAnswered = goldAnswered; self.goldAccuracy = goldAccuracy; self.consensusAgreement = consensusAgreement
        self.overrideRate = overrideRate; self.wrongSuggestionsAccepted = wrongSuggestionsAccepted
        self.agreementWithSuggestionShown = agreementWithSuggestionShown; self.agreementWithModelBlind = agreementWithModelBlind
        self.medianSeconds = medianSeconds
    }

    public var json: JSONValue {
        .object([("name", .string(name)), ("role", .string(role)), ("answers", .int(answers)), ("skips", .int(skips)), ("flags", .int(flags)),
                 ("gold_answered", .int(goldAnswered)), ("gold_accuracy", .number(goldAccuracy)),
                 ("consensus_agreement", .number(consensusAgreement)), ("override_rate", .number(overrideRate)),
                 ("wrong_suggestions_accepted", .number(wrongSuggestionsAccepted)),
                 ("agreement_with_suggestion_shown", .number(agreementWithSuggestionShown)),
                 ("agreement_with_model_blind", .number(agreementWithModelBlind)),
                 ("median_seconds", .number(medianSeconds))])
    }
}

/// The live model set against the shadow model.
public struct ShadowComparison: Sendable, Equatable {
    public var live: String
    public var shadow: String
    /// Items both models scored.
    public var compared: Int
    /// Share of those on which they predict the same label.
    public var agreement: Double?
    public var liveTestAccuracy: Double?
    public var shadowTestAccuracy: Double?
    /// Items where the predicted labels differ, sorted by id.
    public var differing: [String]

    public init(live: String, shadow: String, compared: Int, agreement: Double?, liveTestAccuracy: Double?,
                shadowTestAccuracy: Double?, differing: [String]) {
        self.live = live; self.shadow = shadow; self.compared = compared; self.agreement = agreement
        self.liveTestAccuracy = liveTestAccuracy; self.shadowTestAccuracy = shadowTestAccuracy; self.differing = differing
    }

    public var json: JSONValue {
        .object([("live", .string(live)), ("shadow", .string(shadow)), ("compared", .int(compared)),
                 ("agreement", .number(agreement)), ("live_test_accuracy", .number(liveTestAccuracy)),
                 ("shadow_test_accuracy", .number(shadowTestAccuracy)), ("differing", .int(differing.count)),
                 ("differing_examples", .array(differing.prefix(20).map { .string($0) }))])
    }
}
