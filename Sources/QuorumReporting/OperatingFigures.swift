import QuorumCore

/// A round's operating figures (KPIs), as ../shared/PRODUCT.md ("Operating
/// figures") defines them. Each is nil where it does not apply (no suggestion
/// shown, no deadline, no auto-accepted item, …).
public struct RoundKPIs: Codable, Sendable, Equatable {
    /// Items of the round sent to an adjudicator (flagged or disputed) ÷ items of the round answered by people.
    public var escalationRate: Double?
    /// Answers that differ from the suggestion shown ÷ answers where a suggestion was shown.
    public var overrideRate: Double?
    /// Consensus labels that differ from the round model's prediction ÷ consensus labels.
    public var correctionRate: Double?
    /// Auto-accepted items ÷ items routed in the round (auto-accepted, or sent to people; gold excluded).
    public var autoAcceptRate: Double?
    /// Audited auto-accepted items whose consensus equals the auto label ÷ audited items.
    public var auditPassRate: Double?
    /// Seconds from the round's start (its tasks' creation) to each item's first answer: median and 90th percentile.
    public var timeToHumanP50: Double?
    public var timeToHumanP90: Double?
    /// Seconds from a flag or dispute to the adjudicator's ruling: median.
    public var adjudicationP50: Double?
    /// Tasks answered K times before their deadline ÷ tasks with a deadline.
    public var slaMetRate: Double?
    /// The round model's expected calibration error on the test items.
    public var ece: Double?
    /// Population stability index of the pool items imported since the model against its training labels
    /// (see `DriftService`), measured at the close.
    public var driftPSI: Double?

    public init() {}

    /// The contract's names, in the contract's order.
    public static let names = ["escalation_rate", "override_rate", "correction_rate", "auto_accept_rate", "audit_pass_rate",
                               "time_to_human_p50_s", "time_to_human_p90_s", "adjudication_p50_s", "sla_met_rate", "ece", "drift_psi"]

    /// The figure called `name` (one of `names`).
    public func value(_ name: String) -> Double? {
        switch name {
        case "escalation_rate": escalationRate
        case "override_rate": overrideRate
        case "correction_rate": correctionRate
        case "auto_accept_rate": autoAcceptRate
        case "audit_pass_rate": auditPassRate
        case "time_to_human_p50_s": timeToHumanP50
        case "time_to_human_p90_s": timeToHumanP90
        case "adjudication_p50_s": adjudicationP50
        case "sla_met_rate": slaMetRate
        case "ece": ece
        case "drift_psi": driftPSI
        default: nil
        }
    }

    /// `{"escalation_rate": x, …}` with every name present (null where it does not apply).
    public var json: JSONValue {
        .object(Self.names.map { ($0, .number(value($0))) })
    }
}

/// A bound a lead sets on one KPI (`quorum settings set kpi.override_rate.max 0.3`).
public struct KPIThreshold: Sendable, Equatable {
    public enum Bound: String, Sendable { case max, min }
    public var kpi: String
    public var bound: Bound
    public var value: Double

    public init(kpi: String, bound: Bound, value: Double) {
        self.kpi = kpi; self.bound = bound; self.value = value
    }

    /// The project setting that holds it, e.g. `kpi.override_rate.max`.
    public var settingKey: String { "kpi.\(kpi).\(bound.rawValue)" }

    /// Parses a setting key `kpi.NAME.max|min` naming a known KPI.
    public static func parse(key: String) -> (kpi: String, bound: Bound)? {
        let parts = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, parts[0] == "kpi", RoundKPIs.names.contains(parts[1]), let bound = Bound(rawValue: parts[2]) else { return nil }
        return (parts[1], bound)
    }

    /// The defaults, used until the lead sets a bound: at most 20% of items
    /// escalated, 30% of suggestions overridden and 30% of consensus labels
    /// corrected (above that the model is not helping the people), at least
    /// 90% of audits passed and of deadlines met, and ECE at most 0.1. Drift
    /// has no fixed default: `quorum check` uses the drift comparison's own
    /// sample-size-aware alarm unless the lead sets `kpi.drift_psi.max`.
    public static let defaults: [KPIThreshold] = [
        KPIThreshold(kpi: "escalation_rate", bound: .max, value: 0.2),
        KPIThreshold(kpi: "override_rate", bound: .max, value: 0.3),
        KPIThreshold(kpi: "correction_rate", bound: .max, value: 0.3),
        KPIThreshold(kpi: "audit_pass_rate", bound: .min, value: 0.9),
        KPIThreshold(kpi: "sla_met_rate", bound: .min, value: 0.9),
        KPIThreshold(kpi: "ece", bound: .max, value: 0.1),
    ]

    /// Whether `value` breaks this bound.
    public func isBroken(by value: Double) -> Bool {
        bound == .max ? value > self.value : value < self.value
    }
}

/// One KPI of one round outside its bound.
public struct KPIBreach: Sendable, Equatable {
    public var round: Int
    public var threshold: KPIThreshold
    public var value: Double

    public init(round: Int, threshold: KPIThreshold, value: Double) {
        self.round = round; self.threshold = threshold; self.value = value
    }

    public var json: JSONValue {
        .object([("round", .int(round)), ("kpi", .string(threshold.kpi)), ("value", .double(value)),
                 ("bound", .string(threshold.bound.rawValue)), ("threshold", .double(threshold.value))])
    }
    public var text: String {
        "round \(round): \(threshold.kpi) \(Report.fixed(value)) is \(threshold.bound == .max ? "above" : "below") its \(threshold.bound.rawValue) \(Report.fixed(threshold.value)) (\(threshold.settingKey))"
    }
}

/// The p-th percentile (0…100) of `values`, by linear interpolation between
/// closest ranks (numpy's default); nil for no values.
public func percentile(_ values: [Double], _ p: Double) -> Double? {
    guard !values.isEmpty else { return nil }
    let sorted = values.sorted()
    let position = p / 100 * Double(sorted.count - 1)
    let low = Int(position.rounded(.down)), high = Int(position.rounded(.up))
    return sorted[low] + (sorted[high] - sorted[low]) * (position - Double(low))
}

/// One drift comparison (`quorum drift`, see `DriftService`): the PSI of the live model's
/// predicted classes on new pool items against a reference, and its sample-size-aware alarm.
public struct DriftComparison: Sendable, Equatable {
    public var psi: Double
    public var referenceItems: Int
    public var currentItems: Int
    /// The PSI that random splits of the reference reach 1 time in 100 at these sizes (at least 0.1).
    public var threshold: Double
    public var alarm: Bool
    public var model: String
    /// Per predicted class: items on each side, and the class's term of the PSI.
    public var classes: [DriftClassShift] = []
    /// When it was recorded (nil for a comparison measured now).
    public var at: String?

    public init(psi: Double, referenceItems: Int, currentItems: Int, threshold: Double, alarm: Bool, model: String,
                classes: [DriftClassShift] = [], at: String? = nil) {
        self.psi = psi; self.referenceItems = referenceItems; self.currentItems = currentItems; self.threshold = threshold
        self.alarm = alarm; self.model = model; self.classes = classes; self.at = at
    }

    public var json: JSONValue {
        .object([("psi", .double(driftRounded(psi))), ("reference_items", .int(referenceItems)),
                 ("current_items", .int(currentItems)), ("alarm", .bool(alarm)),
                 ("threshold", .double(driftRounded(threshold))), ("model", .string(model)),
                 ("classes", .array(classes.map(\.json)))] + (at.map { [("at", .string($0))] } ?? []))
    }
}

/// One predicted class in a drift comparison.
public struct DriftClassShift: Sendable, Equatable {
    public var label: String
    public var reference: Int
    public var current: Int
    /// (c − r) ln(c / r) over the shares: what this class adds to the PSI.
    public var psi: Double

    public var json: JSONValue {
        .object([("label", .string(label)), ("reference", .int(reference)), ("current", .int(current)),
                 ("psi", .double(driftRounded(psi)))])
    }

    /// Reads a class from a recorded drift event.
    public init?(_ fields: [String: Any]) {
        guard let label = fields["label"] as? String, let reference = fields["reference"] as? Int,
              let current = fields["current"] as? Int else { return nil }
        self.init(label: label, reference: reference, current: current, psi: fields["psi"] as? Double ?? 0)
    }

    public init(label: String, reference: Int, current: Int, psi: Double) {
        (self.label, self.reference, self.current, self.psi) = (label, reference, current, psi)
    }
}

/// Six decimals, as drift figures are stored.
func driftRounded(_ x: Double) -> Double { (x * 1e6).rounded() / 1e6 }
