import QuorumConsensus
import QuorumCore

/// Answers arranged for the agreement statistics: per unit, each annotator's
/// label index. Kept sparse (an annotator who did not answer a unit has no
/// entry), so memory grows with the answers, not units × annotators.
public struct Ratings: Sendable {
    /// The annotators, sorted: the columns.
    public let annotators: [String]
    /// The labels whose indices the cells hold: the project's labels in their
    /// order, then any other label an answer used, sorted.
    public let labels: [String]
    /// One entry per unit that has at least one answer, in unit order: its
    /// answers as (annotator index, label index), by annotator.
    public let units: [[(rater: Int, category: Int)]]

    /// Builds the matrix from answers. A unit is whatever was answered once
    /// per annotator (a task; or an item in a snapshot). When one annotator
    /// answered a unit twice, the later answer counts.
    ///
    /// - Complexity: O(a log a + Σ_units r_u²) for a answers, r_u of them on unit u.
    public init<Unit: Comparable & Hashable>(_ answers: [(unit: Unit, annotator: String, label: String)], labels: [String]) {
        let known = Set(labels)
        let extra = Set(answers.map(\.label)).subtracting(known).sorted()
        let allLabels = labels + extra
        let labelIndex = Dictionary(allLabels.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let annotators = Array(Set(answers.map(\.annotator))).sorted()
        let column = Dictionary(uniqueKeysWithValues: annotators.enumerated().map { ($1, $0) })
        var rows: [Unit: [(rater: Int, category: Int)]] = [:]
        for a in answers {
            let rating = (rater: column[a.annotator]!, category: labelIndex[a.label]!)
            if let i = rows[a.unit]?.firstIndex(where: { $0.rater == rating.rater }) {
                rows[a.unit]![i] = rating
            } else {
                rows[a.unit, default: []].append(rating)
            }
        }
        self.annotators = annotators
        self.labels = allLabels
        self.units = rows.keys.sorted().map { rows[$0]!.sorted { $0.rater < $1.rater } }
    }

    /// The answers counted (one per annotator and unit).
    public var answers: Int { units.map(\.count).reduce(0, +) }

    /// Per unit, its label indices alone.
    public var categories: [[Int]] { units.map { $0.map(\.category) } }
}

/// One pair of annotators' agreement over the units both answered.
public struct PairAgreement: Sendable, Equatable, Codable {
    public var a: String
    public var b: String
    /// Units both answered.
    public var items: Int
    public var cohenKappa: Double?
    public var percentAgreement: Double

    public init(a: String, b: String, items: Int, cohenKappa: Double?, percentAgreement: Double) {
        self.a = a; self.b = b; self.items = items; self.cohenKappa = cohenKappa; self.percentAgreement = percentAgreement
    }

    /// `{"a":…,"b":…,"items":n,"cohen_kappa":k,"percent_agreement":p}`.
    public var json: JSONValue {
        .object([("a", .string(a)), ("b", .string(b)), ("items", .int(items)),
                 ("cohen_kappa", .number(cohenKappa)), ("percent_agreement", .double(percentAgreement))])
    }
}

/// Every agreement statistic over one set of answers.
public struct AgreementFigures: Sendable, Equatable {
    /// Krippendorff's α, nominal.
    public var krippendorffAlpha: Double?
    public var fleissKappa: Double?
    /// Share of pairs of answers on the same unit that agree.
    public var percentAgreement: Double?
    /// Krippendorff's α with ranks as distances; only for ordered labels.
    public var krippendorffAlphaOrdinal: Double?
    /// Krippendorff's α with squared differences; only for ordered labels.
    public var krippendorffAlphaInterval: Double?
    /// Krippendorff's α with the MASI distance; only for multi-label answers (sets of labels).
    public var krippendorffAlphaMASI: Double?
    /// Every pair of annotators with at least one shared unit, sorted by (a, b).
    public var pairs: [PairAgreement]

    public init(krippendorffAlpha: Double? = nil, fleissKappa: Double? = nil, percentAgreement: Double? = nil,
                krippendorffAlphaOrdinal: Double? = nil, krippendorffAlphaInterval: Double? = nil, pairs: [PairAgreement] = []) {
        self.krippendorffAlpha = krippendorffAlpha; self.fleissKappa = fleissKappa; self.percentAgreement = percentAgreement
        self.krippendorffAlphaOrdinal = krippendorffAlphaOrdinal; self.krippendorffAlphaInterval = krippendorffAlphaInterval
        self.pairs = pairs
    }

    /// Measures the ratings. With `ordered` labels, ordinal α ranks labels in
    /// their list order, and interval α uses the labels' numeric values when
    /// every label is a number (e.g. 1–5), else their positions.
    ///
    /// - Complexity: O(Σ_units r_u² + labels³ + pairs × labels²), r_u the answers on unit u.
    public static func measure(_ ratings: Ratings, ordered: Bool) -> AgreementFigures {
        let categories = ratings.categories
        let positions = categories.map { $0.map(Double.init) }
        var figures = AgreementFigures(
            krippendorffAlpha: Agreement.krippendorffAlpha(units: positions, metric: .nominal),
            fleissKappa: Agreement.fleissKappa(units: categories),
            percentAgreement: Agreement.percentAgreement(units: categories),
            pairs: Agreement.pairwise(units: ratings.units, raters: ratings.annotators.count, categories: ratings.labels.count).map {
                PairAgreement(a: ratings.annotators[$0.a], b: ratings.annotators[$0.b], items: $0.units,
                              cohenKappa: $0.cohenKappa, percentAgreement: $0.percentAgreement)
            })
        if ordered {
            let numeric = ratings.labels.compactMap(Double.init)
            let values = numeric.count == ratings.labels.count && numeric.allSatisfy(\.isFinite)
                ? categories.map { $0.map { numeric[$0] } } : positions
            figures.krippendorffAlphaOrdinal = Agreement.krippendorffAlpha(units: positions, metric: .ordinal)
            figures.krippendorffAlphaInterval = Agreement.krippendorffAlpha(units: values, metric: .interval)
        }
        return figures
    }

    /// The agreement object: `krippendorff_alpha`, `fleiss_kappa`, `percent_agreement`,
    /// `krippendorff_alpha_ordinal`, `krippendorff_alpha_interval` (null when the labels
    /// are not ordered) and `pairs`.
    public var json: JSONValue {
        .object([
            ("krippendorff_alpha", .number(krippendorffAlpha)), ("fleiss_kappa", .number(fleissKappa)),
            ("percent_agreement", .number(percentAgreement)),
            ("krippendorff_alpha_ordinal", .number(krippendorffAlphaOrdinal)),
            ("krippendorff_alpha_interval", .number(krippendorffAlphaInterval)),
            ("pairs", .array(pairs.map(\.json))),
        ])
    }

    /// A table of the pairs, one line each, and a line with the overall figures.
    public var text: String {
        var lines = ["α nominal \(Report.fixed(krippendorffAlpha)) · Fleiss κ \(Report.fixed(fleissKappa)) · agreement \(Report.percent(percentAgreement))"
            + (krippendorffAlphaOrdinal == nil && krippendorffAlphaInterval == nil ? ""
               : " · α ordinal \(Report.fixed(krippendorffAlphaOrdinal)) · α interval \(Report.fixed(krippendorffAlphaInterval))")]
        guard !pairs.isEmpty else { return lines[0] + "\nNo two annotators answered the same item.\n" }
        let width = max(9, pairs.map { max($0.a.count, $0.b.count) }.max() ?? 0)
        func cell(_ s: String, _ w: Int, left: Bool = false) -> String {
            let fill = String(repeating: " ", count: max(0, w - s.count))
            return left ? s + fill : fill + s
        }
        lines.append([cell("annotator", width, left: true), cell("annotator", width, left: true),
                      cell("items", 6), cell("Cohen κ", 8), cell("agree", 7)].joined(separator: " "))
        for p in pairs {
            lines.append([cell(p.a, width, left: true), cell(p.b, width, left: true), cell(String(p.items), 6),
                          cell(Report.fixed(p.cohenKappa), 8), cell(Report.percent(p.percentAgreement), 7)].joined(separator: " "))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
