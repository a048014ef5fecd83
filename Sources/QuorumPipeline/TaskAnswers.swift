import Foundation
import QuorumCore
import QuorumImport

/// What an answer or a known label looks like in each task type, read from a
/// file record and written to the store's label columns.
extension ProjectInfo {
    /// The stored label text of `record`'s label field: one of the project's
    /// labels (single-label), or the set of them as `LabelSetText` (multi-label:
    /// a JSON list, in CSV a cell holding one such as `["a","b"]`). nil when the
    /// record has none.
    ///
    /// - Throws: `QuorumError` (bad input) reading `FILE:LINE: field: problem`, through `fail`.
    func storedLabel(of record: ItemRecord, field: String,
                     fail: (Int, String, String, String) -> QuorumError) throws -> String? {
        let line = record.line
        switch task {
        case .multiLabel:
            var names = record.labelList
            if names == nil, let cell = record.label {
                guard cell.hasPrefix("["), let data = cell.data(using: .utf8),
                      let array = try? JSONSerialization.jsonObject(with: data) as? [Any],
                      array.allSatisfy({ $0 is String }) else {
                    throw fail(line, field, "\"\(field)\" must be a list of labels in a multi-label project, but found \"\(TerminalText.visible(cell))\"",
                               "write the labels as a list, e.g. \"\(field)\": [\"\(labels.names[0])\"] (or [] for none)")
                }
                names = array.map { ($0 as! String).nfc }
            }
            guard let names else { return nil }
            do { return try LabelSetText.encode(names: names, labels: labels) } catch {
                throw fail(line, field, error.message, "fix the labels, or create the project with the labels your data uses")
            }
        case .single, .preference:
            if record.labelList != nil {
                throw fail(line, field, "\"\(field)\" is a list, but this project takes one label per item",
                           "give one label; a project whose answers are sets is created with `quorum init --task multi-label`")
            }
            guard let given = record.label else { return nil }
            guard labels.index(of: given) != nil else {
                throw fail(line, field, "\"\(TerminalText.visible(given))\" is not one of the project's labels (\(labels.names.joined(separator: ", ")))",
                           "fix the label, or create the project with the labels your data uses")
            }
            return given
        }
    }

    /// Whether `text` is an answer this project accepts: one of its labels, or (multi-label) a stored label set.
    func accepts(answer text: String) -> Bool {
        switch task {
        case .multiLabel: LabelSetText.indices(text, labels: labels).map { LabelSetText.encode($0, labels: labels) == text } ?? false
        case .single, .preference: labels.index(of: text) != nil
        }
    }

    /// A stored label as JSON output shows it: a string, or (multi-label) the list of labels.
    public func labelJSON(_ text: String) -> JSONValue {
        guard task == .multiLabel, let names = LabelSetText.names(text, labels: labels) else { return .string(text) }
        return .array(names.map { .string($0) })
    }
}

extension Prediction {
    /// How sure the model is of the item's whole answer: the measured
    /// confidence (for a multi-label model, its least sure label's), else the top probability.
    var itemConfidence: Float { measures?.confidence ?? confidence }
}

extension ProjectInfo {
    /// The model's answer as stored: its most probable label, or (multi-label)
    /// the set of labels whose probability is above 0.5.
    func suggestedLabel(_ p: Prediction) -> String {
        switch task {
        case .multiLabel: LabelSetText.encode(p.probabilities.indices.filter { p.probabilities[$0] > 0.5 }, labels: labels)
        case .single, .preference: labels.names[p.label]
        }
    }
}

/// A preference item: a prompt and two responses, `a` and `b`. The prompt is
/// the item's text; the responses are its metadata fields `a` and `b`.
struct PreferencePair {
    var prompt: String
    var a: String
    var b: String

    /// The pair of an import record, checked: both responses present as strings.
    init(_ record: ItemRecord, fail: (Int, String, String, String) -> QuorumError) throws {
        prompt = record.text ?? ""
        func response(_ key: String) throws -> String {
            guard let json = record.meta.first(where: { $0.key == key })?.json else {
                throw fail(record.line, key, "missing response \"\(key)\"; a preference item has a prompt and two responses, \"a\" and \"b\"",
                           "give every item {\"id\": …, \"prompt\": …, \"a\": …, \"b\": …} (and keep a and b if you pass --meta-fields)")
            }
            guard let text = try? JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed]) as? String else {
                throw fail(record.line, key, "response \"\(key)\" must be a string", "write the response as a JSON string")
            }
            return text
        }
        a = try response("a")
        b = try response("b")
    }

    /// The pair of a stored item; nil when it lacks either response.
    init?(_ item: StoredItem) {
        self.init(prompt: item.text, metaJSON: item.metaJSON)
    }

    /// The pair of an item's prompt (its text) and metadata; nil when the metadata lacks either response.
    init?(prompt: String?, metaJSON: String?) {
        guard let json = metaJSON,
              let meta = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let a = meta["a"] as? String, let b = meta["b"] as? String else { return nil }
        self.prompt = prompt ?? ""
        self.a = a
        self.b = b
    }
}

extension StoredItem {
    /// A preference item with its two responses as its text (what its model
    /// compares, so what diversity should measure distance on); other items as they are.
    var comparedText: StoredItem {
        guard let pair = PreferencePair(self) else { return self }
        var item = self
        item.text = pair.a + "\n" + pair.b
        return item
    }
}
