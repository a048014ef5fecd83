/// What part an item plays in the project.
///
/// - `pool`: unlabelled; the sampler picks tasks from it.
/// - `seed`: labelled up front; used for training.
/// - `test`: held out; only ever used to evaluate, never sampled or trained on.
/// - `gold`: known answer; mixed into tasks to check annotators.
public enum ItemKind: String, CaseIterable, Sendable, Codable {
    case pool, seed, test, gold

    /// Whether items of this kind must carry a label when imported.
    public var requiresLabel: Bool { self != .pool }
}

/// The project's ordered set of labels. Index `i` is the model's class `i`
/// and the annotator's key `i + 1`.
public struct LabelSet: Sendable, Equatable {
    public let names: [String]
    private let index: [String: Int]

    /// Creates a label set, rejecting empty, duplicate or blank names.
    public init(_ names: [String]) throws(QuorumError) {
        let trimmed = names.map { $0.trimmingWhitespace().nfc }
        guard trimmed.count >= 2 else {
            throw QuorumError(.badInput, "a project needs at least two labels, got \(trimmed.count)",
                              hint: "pass them comma-separated, e.g. --labels cat,dog")
        }
        var index: [String: Int] = [:]
        for (i, name) in trimmed.enumerated() {
            guard !name.isEmpty else {
                throw QuorumError(.badInput, "label \(i + 1) is empty", hint: "remove the extra comma from --labels")
            }
            guard index[name] == nil else {
                throw QuorumError(.badInput, "label \"\(name)\" appears twice", hint: "list each label once in --labels")
            }
            index[name] = i
        }
        self.names = trimmed
        self.index = index
    }

    public var count: Int { names.count }

    /// The class index of `name`, or nil when the project has no such label.
    public func index(of name: String) -> Int? { index[name] }

    public static func == (a: LabelSet, b: LabelSet) -> Bool { a.names == b.names }
}

extension String {
    /// The string without leading and trailing spaces, tabs and newlines.
    public func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[first...last])
    }
}
