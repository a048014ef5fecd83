import Foundation
import Glibc
import QuorumCore
import QuorumPostgres
import QuorumStore

/// Opening and creating projects: the one place that knows the store's type.
///
/// A project directory holds either `quorum.sqlite` (the default: the data
/// lives in the directory) or `quorum.json`, which names a PostgreSQL database
/// (`{"database": "postgresql://user@host:port/dbname"}`) and nothing secret:
/// the password comes from `PGPASSWORD` or `~/.pgpass`.
public enum Project {
    /// The file that points a project directory at a PostgreSQL database.
    public static let configFileName = "quorum.json"

    /// Where a project's data lives.
    public enum Location: Sendable, Equatable {
        /// `DIR/quorum.sqlite`.
        case sqlite(path: String)
        /// The database named by `DIR/quorum.json`.
        case postgres(url: String)
    }

    /// The path of `quorum.json` in `directory`.
    public static func configPath(_ directory: String) -> String {
        (directory as NSString).appendingPathComponent(configFileName)
    }

    /// Where the project in `directory` keeps its data: the database named by
    /// its `quorum.json` when it has one, else its `quorum.sqlite`.
    public static func location(_ directory: String) throws -> Location {
        let config = configPath(directory)
        guard FileManager.default.fileExists(atPath: config) else {
            return .sqlite(path: SQLiteStore.databasePath(inProject: directory))
        }
        let shown = TerminalText.visible(config)
        let fix = "it should read {\"database\": \"postgresql://user@host:port/dbname\"}"
        guard let data = FileManager.default.contents(atPath: config) else {
            throw QuorumError(.environment, "\(shown): cannot read the file", hint: "check its permissions")
        }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw QuorumError(.badInput, "\(shown): not valid JSON", hint: fix)
        }
        guard let fields = object as? [String: Any] else {
            throw QuorumError(.badInput, "\(shown): not a JSON object", hint: fix)
        }
        guard let url = fields["database"] as? String, !url.isEmpty else {
            throw QuorumError(.badInput, "\(shown): field \"database\": missing or not a string", hint: fix)
        }
        do { _ = try PostgresURL(url) } catch let error as QuorumError {
            throw QuorumError(error.kind, "\(shown): field \"database\": \(error.message)", hint: error.hint)
        }
        return .postgres(url: url)
    }

    /// Opens the project in `directory`: its SQLite file, or the PostgreSQL
    /// database its `quorum.json` names. A `readOnly` open never writes to the project.
    public static func open(_ directory: String, readOnly: Bool = false) throws -> any ProjectStore {
        switch try location(directory) {
        case .sqlite: try SQLiteStore.open(project: directory, readOnly: readOnly)
        case .postgres(let url): try PostgresStore.open(url: url, readOnly: readOnly)
        }
    }

    /// `quorum init`: creates a project, refusing to overwrite one. `ordered`
    /// says the labels are a scale in list order (see `ProjectInfo.ordered`).
    /// With `database` (a `postgresql://` URL), the data lives in that
    /// (empty) database and `directory` gets a `quorum.json` naming it.
    /// `task` says what an answer is (one label, or a set of labels).
    public static func create(_ directory: String, name: String, labels: [String], ordered: Bool = false,
                              task: TaskType = .single, database: String? = nil) throws -> ProjectInfo {
        var labels = labels
        if task == .preference {
            guard labels.isEmpty || labels == TaskType.preferenceLabels else {
                throw QuorumError(.badInput, "a preference project's labels are always a, b and tie",
                                  hint: "leave out --labels with --task preference")
            }
            labels = TaskType.preferenceLabels
        }
        if task != .single && ordered {
            throw QuorumError(.badInput, "--ordered applies to single-label projects only",
                              hint: "a multi-label or preference answer is not a point on a scale; drop --ordered")
        }
        let labelSet = try LabelSet(labels)
        for label in labelSet.names where TerminalText.containsUnsafe(label) {
            throw QuorumError(.badInput, "label \"\(TerminalText.visible(label))\" contains a tab, a line break, a control or a bidi character",
                              hint: "use plain one-line label names of printable characters")
        }
        try refuseExisting(directory)
        let store: any ProjectStore
        if let database {
            store = try createInPostgres(directory, url: database, name: name, labels: labelSet, ordered: ordered, task: task)
        } else {
            store = try SQLiteStore.create(inProject: directory, name: name, labels: labelSet, ordered: ordered, task: task)
        }
        return try store.write { w in
            try w.appendEvent(EventRecord(kind: "init", detailJSON: JSONValue.object([
                ("name", .string(name)), ("labels", .array(labelSet.names.map { .string($0) })), ("ordered", .bool(ordered)),
                ("task", .string(task.rawValue)),
            ]).serialized()))
            return try w.project()
        }
    }

    /// Refuses a directory that already holds a project of either kind.
    static func refuseExisting(_ directory: String) throws {
        for path in [SQLiteStore.databasePath(inProject: directory), configPath(directory)]
        where FileManager.default.fileExists(atPath: path) {
            throw QuorumError(.state, "\(TerminalText.visible(path)): a Quorum project already exists here",
                              hint: "use another --project directory, or delete \(TerminalText.visible(path)) if you really mean to start over")
        }
    }

    /// Creates the project in PostgreSQL. `quorum.json` is claimed first (so
    /// two `init`s in one directory cannot both succeed) and removed again
    /// when the database refuses; it is written only once the project exists.
    static func createInPostgres(_ directory: String, url: String, name: String, labels: LabelSet, ordered: Bool,
                                 task: TaskType) throws -> PostgresStore {
        try pointingAtPostgres(directory, url: url) {
            try PostgresStore.create(url: url, name: name, labels: labels, ordered: ordered, task: task)
        }
    }

    /// Claims `directory`'s `quorum.json` (refusing one that exists), runs
    /// `body` (which puts the project into the database at `url`), then writes
    /// the file naming that database. When `body` throws, the claimed file is removed.
    static func pointingAtPostgres<T>(_ directory: String, url: String, _ body: () throws -> T) throws -> T {
        let parsed = try PostgresURL(url)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let config = configPath(directory)
        let fd = Glibc.open(config, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw QuorumError(.environment, "\(TerminalText.visible(config)): cannot create the file (\(reason))",
                              hint: "check that the directory is writable and has no quorum.json yet")
        }
        var written = false
        defer {
            close(fd)
            if !written { unlink(config) }
        }
        let result = try body()
        let text = JSONValue.object([("database", .string(parsed.description))]).serialized(pretty: true) + "\n"
        let bytes = Array(text.utf8)
        let ok = bytes.withUnsafeBytes { raw in Glibc.write(fd, raw.baseAddress!, raw.count) == raw.count && fsync(fd) == 0 }
        guard ok else {
            throw QuorumError(.environment, "\(TerminalText.visible(config)): cannot write the file (\(String(cString: strerror(errno))))",
                              hint: "the database \(parsed) now holds the project; free some disk space, then write that file by hand: {\"database\": \"\(parsed)\"}")
        }
        written = true
        return result
    }

    /// `quorum status`: the counts and the project's task type, in one read.
    public static func status(_ store: any ProjectStore) throws -> (counts: ProjectCounts, task: TaskType) {
        try store.read { r in (try r.counts(), try r.project().task) }
    }

    /// The JSON of `status --format json` (and `GET /api/v1/status`): the counts, and the project's task type.
    public static func statusJSON(_ counts: ProjectCounts, task: TaskType) -> JSONValue {
        guard case .object(let fields) = counts.json else { return counts.json }
        return .object(fields + [("task", .string(task.rawValue))])
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
