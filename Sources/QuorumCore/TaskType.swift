import Foundation

/// What one answer is in a project, fixed by `quorum init --task`.
///
/// - `single`: one label of the project's labels (the default).
/// - `multiLabel`: a set of the project's labels, possibly empty.
/// - `preference`: which of two responses is better: `a`, `b` or `tie`.
public enum TaskType: String, Sendable, CaseIterable, Codable {
    case single
    case multiLabel = "multi-label"
    case preference

    /// The project key that records a non-default task type.
    public static let projectKey = "task"

    /// The field of seed, gold and test items (and of `--answers` lines) that holds the known answer.
    public var labelField: String { self == .multiLabel ? "labels" : "label" }

    /// The field of an item that holds its text: a preference item's prompt.
    public var textField: String { self == .preference ? "prompt" : "text" }

    /// The labels of a preference project, always these three, in this order.
    public static let preferenceLabels = ["a", "b", "tie"]
}

/// A multi-label answer as the store keeps it in a label column: the chosen
/// labels as a compact JSON array of strings in the project's label order,
/// `["cat","dog"]`, or `[]` for none. One set has exactly one text, so equal
/// answers compare equal as strings and a snapshot's content hash is stable.
public enum LabelSetText {
    /// The stored text of a set of label indices.
    public static func encode(_ indices: some Sequence<Int>, labels: LabelSet) -> String {
        JSONValue.array(Set(indices).sorted().map { .string(labels.names[$0]) }).serialized()
    }

    /// The stored text of a set of label names, each checked against the project's labels.
    ///
    /// - Throws: `QuorumError` (bad input) naming the first unknown or repeated label.
    public static func encode(names: [String], labels: LabelSet) throws(QuorumError) -> String {
        var indices = Set<Int>()
        for raw in names {
            let name = raw.nfc
            guard let i = labels.index(of: name) else {
                throw QuorumError(.badInput, "\"\(TerminalText.visible(name))\" is not one of the project's labels (\(labels.names.joined(separator: ", ")))",
                                  hint: "use the project's labels")
            }
            guard indices.insert(i).inserted else {
                throw QuorumError(.badInput, "label \"\(TerminalText.visible(name))\" appears twice in one set", hint: "list each label once")
            }
        }
        return encode(indices, labels: labels)
    }

    /// The label indices of a stored text, in the project's order; nil when the
    /// text is not a list of the project's labels.
    public static func indices(_ text: String, labels: LabelSet) -> [Int]? {
        guard text.hasPrefix("["),
              let array = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [Any] else { return nil }
        var out: [Int] = []
        out.reserveCapacity(array.count)
        for element in array {
            guard let name = element as? String, let i = labels.index(of: name) else { return nil }
            out.append(i)
        }
        return Array(Set(out)).sorted()
    }

    /// The label names of a stored text, in the project's order; nil when malformed.
    public static func names(_ text: String, labels: LabelSet) -> [String]? {
        indices(text, labels: labels).map { $0.map { labels.names[$0] } }
    }
}

extension TaskType {
    /// The task type recorded under the project key `task` (absent: `single`).
    ///
    /// - Throws: a failed check for a value this version does not know.
    public static func stored(_ value: String?) throws(QuorumError) -> TaskType {
        guard let value else { return .single }
        guard let task = TaskType(rawValue: value) else {
            throw QuorumError(.failedCheck, "the project's task type \"\(TerminalText.visible(value))\" is not one this version of Quorum knows",
                              hint: "use the Quorum version that created the project")
        }
        return task
    }
}
