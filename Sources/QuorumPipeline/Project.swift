import QuorumCore
import QuorumStore

/// Opening and creating projects: the one place that knows the store's type.
public enum Project {
    /// Opens the project in `directory` (the SQLite store today). A
    /// `readOnly` open never writes to the project.
    public static func open(_ directory: String, readOnly: Bool = false) throws -> any ProjectStore {
        try SQLiteStore.open(project: directory, readOnly: readOnly)
    }

    /// `quorum init`: creates a project, refusing to overwrite one. `ordered`
    /// says the labels are a scale in list order (see `ProjectInfo.ordered`).
    public static func create(_ directory: String, name: String, labels: [String], ordered: Bool = false) throws -> ProjectInfo {
        let labelSet = try LabelSet(labels)
        for label in labelSet.names where TerminalText.containsUnsafe(label) {
            throw QuorumError(.badInput, "label \"\(TerminalText.visible(label))\" contains a tab, a line break, a control or a bidi character",
                              hint: "use plain one-line label names of printable characters")
        }
        let store = try SQLiteStore.create(inProject: directory, name: name, labels: labelSet, ordered: ordered)
        return try store.write { w in
            try w.appendEvent(EventRecord(kind: "init", detailJSON: JSONValue.object([
                ("name", .string(name)), ("labels", .array(labelSet.names.map { .string($0) })), ("ordered", .bool(ordered)),
            ]).serialized()))
            return try w.project()
        }
    }

    /// `quorum status`.
    public static func counts(_ store: any ProjectStore) throws -> ProjectCounts {
        try store.read { try $0.counts() }
    }
}

extension ProjectCounts {
    /// The contract's JSON shape for `status --format json`.
    public var json: JSONValue {
        .object([
            ("items", .object(ItemKind.allCases.map { ($0.rawValue, .int(items[$0] ?? 0)) })),
            ("open_tasks", .int(openTasks)), ("rounds", .int(rounds)), ("snapshots", .int(snapshots)),
            ("answers", .int(answers)), ("consensus_labels", .int(consensus)),
        ])
    }
}

/// Validates a person's name as given to `--annotator`.
public func validateAnnotatorName(_ name: String) throws(QuorumError) {
    guard !name.isEmpty, name.count <= 64,
          name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.@".contains($0) }) else {
        throw QuorumError(.badInput, "annotator name \"\(name)\" is not allowed",
                          hint: "use 1–64 letters, digits, '-', '_', '.' or '@'")
    }
}
