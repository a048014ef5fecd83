import QuorumCore

/// A text that can only be read redacted: the labelling service wraps every
/// item text in one, so no view (terminal or web) can show the raw text.
///
/// A view that shows only part of a long text (the terminal shows a
/// screenful) cuts the raw text first and redacts the part it shows, so the
/// cost follows what is shown, not the length of the text.
public struct RedactedText: Sendable {
    private let raw: String
    private let redactor: Redactor

    public init(_ raw: String, redactor: Redactor) {
        self.raw = raw
        self.redactor = redactor
    }

    /// The whole text, redacted.
    ///
    /// - Complexity: O(n) in the length of the text (the redaction patterns).
    public var full: String { redactor.apply(raw) }

    /// The part of the text `cut` keeps (e.g. a screenful), redacted, and
    /// whether `cut` dropped anything.
    public func prefix(_ cut: (String) -> (text: String, isCut: Bool)) -> (text: String, isCut: Bool) {
        let (shown, wasCut) = cut(raw)
        return (redactor.apply(shown), wasCut)
    }

}

/// The model's suggestion for a task, as a view shows it.
public struct Suggestion: Sendable, Equatable {
    public var label: String
    /// The label's index in the project's labels.
    public var index: Int
    public var confidence: Double
    /// The next most likely labels, most likely first (at most two).
    public var alternatives: [(label: String, confidence: Double)]

    public init(label: String, index: Int, confidence: Double, alternatives: [(label: String, confidence: Double)]) {
        self.label = label; self.index = index; self.confidence = confidence; self.alternatives = alternatives
    }

    public static func == (a: Suggestion, b: Suggestion) -> Bool {
        a.label == b.label && a.index == b.index && a.confidence == b.confidence
            && a.alternatives.map(\.label) == b.alternatives.map(\.label)
            && a.alternatives.map(\.confidence) == b.alternatives.map(\.confidence)
    }

    /// The suggestion from a model's probabilities over `labels`; nil when
    /// they do not cover the labels.
    public init?(probabilities p: [Float], labels: [String]) {
        guard p.count == labels.count, let best = p.indices.max(by: { p[$0] < p[$1] }) else { return nil }
        label = labels[best]
        index = best
        confidence = Double(p[best])
        alternatives = p.indices.sorted { p[$0] > p[$1] }.dropFirst().prefix(2).map { (labels[$0], Double(p[$0])) }
    }
}

/// One task as an annotator sees it, in any view: what the labelling service
/// hands the terminal loop and the HTTP API. Everything people wrote is
/// already redacted (text, metadata, the lead's fields); escaping for the
/// medium (terminal control characters, HTML) is the view's job.
public struct TaskView: Sendable {
    public var taskID: Int64
    public var roundID: Int
    public var itemID: String
    /// The item's text; nil when the item has none.
    public var text: RedactedText?
    /// What to show when there is no text: the metadata, or the vector drawn as text (redacted).
    public var content: String
    /// The item's metadata, redacted value by value (strings only; numbers as they are).
    public var meta: [(key: String, value: JSONValue)]
    /// The metadata fields the round shows above the text, as "field: value" lines (redacted).
    public var fields: [String]
    /// The model's suggestion; nil without a model, and always nil on blind tasks.
    public var suggestion: Suggestion?
    /// Whether the suggestion (and any evidence) is hidden for this task.
    public var blind: Bool
    /// The labels an annotator may give, in the project's order.
    public var labels: [String]
    /// For an adjudicator: everyone's answers, with notes and flag reasons (redacted).
    public var answers: [PersonAnswer]
    /// Whether an answer is a set of labels (a multi-label project): keys toggle labels, Enter submits the set.
    public var labelSets = false
    /// Multi-label: the model's P(label applies) per label, in the project's order; nil without a model and on blind tasks.
    public var labelProbabilities: [Float]?

    /// Preference: the prompt and the two responses (redacted); `text` then shows all three, one above the other.
    public var pair: (prompt: String, a: String, b: String)?

    /// Multi-label: the labels the suggestion pre-selects (probability above 0.5), by index.
    public var preselected: Set<Int> {
        guard let p = labelProbabilities, !blind else { return [] }
        return Set(p.indices.filter { p[$0] > 0.5 })
    }

    public init(taskID: Int64, roundID: Int, itemID: String, text: RedactedText?, content: String,
                meta: [(key: String, value: JSONValue)], fields: [String], suggestion: Suggestion?, blind: Bool,
                labels: [String], answers: [PersonAnswer] = []) {
        self.taskID = taskID; self.roundID = roundID; self.itemID = itemID; self.text = text; self.content = content
        self.meta = meta; self.fields = fields; self.suggestion = blind ? nil : suggestion; self.blind = blind
        self.labels = labels; self.answers = answers
    }

    /// A vector as text: a shaded grid when it is a square image (e.g. 8×8
    /// pixels), else its leading values.
    public static func describe(_ v: [Float]) -> String {
        let side = Int(Double(v.count).squareRoot())
        if side * side == v.count, (4...24).contains(side), let top = v.max(), top > 0, v.allSatisfy({ $0 >= 0 }) {
            let shades = Array(" .:-=+*#%@")
            var rows: [String] = []
            for r in 0..<side {
                rows.append(String((0..<side).flatMap { c -> [Character] in
                    let s = shades[min(shades.count - 1, Int(v[r * side + c] / top * Float(shades.count - 1)))]
                    return [s, s]
                }))
            }
            return "vector, \(v.count) values, drawn as \(side)×\(side):\n" + rows.joined(separator: "\n")
        }
        let shown = v.prefix(12).map { JSONValue.format(Double($0)) }.joined(separator: " ")
        return "vector, \(v.count) values: \(shown)\(v.count > 12 ? " …" : "")"
    }
}

/// One person's answer to an item, as an adjudicator sees it.
public struct PersonAnswer: Sendable, Equatable {
    public var annotator: String
    /// nil for a skip or a flag without a label.
    public var label: String?
    public var flagged: Bool
    /// The note, or "flag reason | note" (redacted).
    public var note: String?

    public init(annotator: String, label: String?, flagged: Bool, note: String?) {
        self.annotator = annotator; self.label = label; self.flagged = flagged; self.note = note
    }
}

/// What a view gets when it asks for the next task.
public enum NextTask: Sendable {
    /// A task, now claimed by this person until its lease ends.
    case task(TaskView)
    /// Every open task is held by someone else; the earliest lease ends at this time (seconds since 1970).
    case waiting(until: Double)
    /// Nothing left for this person.
    case finished
}
