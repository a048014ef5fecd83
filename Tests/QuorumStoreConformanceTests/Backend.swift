import Foundation
import QuorumCore
import QuorumPostgres
import QuorumStore
import Testing

/// A store backend the conformance suite runs against. SQLite always runs;
/// PostgreSQL runs when `QUORUM_TEST_POSTGRES_URL` names a server (each test
/// then makes a database of its own there and drops it at the end).
enum Backend: String, CustomStringConvertible, Sendable {
    case sqlite, postgres

    /// The server the PostgreSQL cases use, e.g. `postgresql://postgres@127.0.0.1:5433/quorum`.
    static let postgresURL: String? = {
        guard let url = ProcessInfo.processInfo.environment["QUORUM_TEST_POSTGRES_URL"], !url.isEmpty else { return nil }
        return url
    }()

    /// The backends this run tests.
    static var available: [Backend] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    var description: String { rawValue }

    /// Runs `body` with a fresh, empty place for a project, removed afterwards.
    func withPlace<T>(_ body: (Place) throws -> T) throws -> T {
        let place = try Place(self)
        defer { place.remove() }
        return try body(place)
    }

    /// Runs `body` with a new project (labels a and b, unless told).
    func withProject<T>(labels: [String] = ["a", "b"], _ body: (any ProjectStore, Place) throws -> T) throws -> T {
        try withPlace { place in try body(try place.create(labels: labels), place) }
    }
}

/// Where one test's project lives: a temporary directory (SQLite) or a new
/// database on the test server (PostgreSQL).
final class Place: Sendable {
    let backend: Backend
    /// The project directory, or the database's URL.
    let location: String
    private let database: String?

    init(_ backend: Backend) throws {
        self.backend = backend
        switch backend {
        case .sqlite:
            location = FileManager.default.temporaryDirectory.appendingPathComponent("quorum-conformance-\(UUID().uuidString)").path
            database = nil
        case .postgres:
            let server = try #require(Backend.postgresURL)
            let name = "quorum_t_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16))"
            try PostgresStore.executeForTesting(url: server, "CREATE DATABASE \(name)")
            database = name
            location = try PostgresURL(server).with(database: name).description
        }
    }

    func remove() {
        switch backend {
        case .sqlite:
            try? FileManager.default.removeItem(atPath: location)
        case .postgres:
            if let server = Backend.postgresURL, let database {
                try? PostgresStore.executeForTesting(url: server, "DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
            }
        }
    }

    func create(name: String = "t", labels: [String] = ["a", "b"], ordered: Bool = false, clock: Clock = .system) throws -> any ProjectStore {
        switch backend {
        case .sqlite: try SQLiteStore.create(inProject: location, name: name, labels: try LabelSet(labels), ordered: ordered, clock: clock)
        case .postgres: try PostgresStore.create(url: location, name: name, labels: try LabelSet(labels), ordered: ordered, clock: clock)
        }
    }

    /// Another store on the same project (another process, or another machine).
    func open(readOnly: Bool = false, clock: Clock = .system) throws -> any ProjectStore {
        switch backend {
        case .sqlite: try SQLiteStore.open(project: location, readOnly: readOnly, clock: clock)
        case .postgres: try PostgresStore.open(url: location, readOnly: readOnly, clock: clock)
        }
    }

    /// Runs raw SQL statements on the project, bypassing the store (tampering).
    func tamper(_ statements: String...) throws {
        switch backend {
        case .sqlite:
            let store = try SQLiteStore.open(project: location)
            for sql in statements { try store.executeForTesting(sql) }
        case .postgres:
            let store = try PostgresStore.open(url: location)
            defer { store.close() }
            for sql in statements { try store.executeForTesting(sql) }
        }
    }

    /// Records a schema step this build does not know, as a newer Quorum would.
    func addUnknownSchemaStep() throws {
        switch backend {
        case .sqlite: try tamper("INSERT INTO grdb_migrations(identifier) VALUES ('v99-from-the-future')")
        case .postgres: try tamper("INSERT INTO quorum_migrations(step, identifier, applied_at) VALUES (99, 'pg99-from-the-future', 'later')")
        }
    }

    /// Takes back the newest schema step, as if an older Quorum had made the project.
    func undoLastSchemaStep() throws {
        switch backend {
        case .sqlite:
            try tamper("DELETE FROM grdb_migrations WHERE identifier = 'v9-annotator-tokens'")
        case .postgres:
            try tamper("DROP FUNCTION quorum_refuse() CASCADE", "DROP INDEX events_one_successor",
                       "DELETE FROM quorum_migrations WHERE identifier = 'pg2-append-only'")
        }
    }

    /// Makes the place hold something that is not a Quorum project: an empty
    /// file or database, or (`foreign`) one with other tables.
    func makeNonProject(foreign: Bool) throws {
        switch backend {
        case .sqlite:
            try FileManager.default.createDirectory(atPath: location, withIntermediateDirectories: true)
            if foreign {
                _ = try SQLiteStore.create(inProject: location, name: "x", labels: try LabelSet(["a", "b"]))
                try tamper("CREATE TABLE other(x)", "DROP TABLE labels")
            } else {
                _ = FileManager.default.createFile(atPath: SQLiteStore.databasePath(inProject: location), contents: Data())
            }
        case .postgres:
            if foreign { try PostgresStore.executeForTesting(url: location, "CREATE TABLE other(x INTEGER)") }
        }
    }
}

/// The same items, rounds and annotators on every backend.
enum Fixture {
    static func item(_ id: String, _ text: String, kind: ItemKind = .pool, label: String? = nil) -> NewItem {
        NewItem(id: id, kind: kind, contentHash: Int64(text.utf8.count * 1000 + Int(text.utf8.first ?? 0)), text: text, vector: nil,
                metaJSON: nil, label: label)
    }

    /// Three pool items in one round with overlap `overlap`; uncertainties 0.9,
    /// 0.5, 0.5 with deadlines on the last two (the third blind); annotators ann, bo, cy.
    static func queue(_ store: any ProjectStore, overlap: Int) throws -> Int {
        try store.write { w throws in
            for (i, text) in ["alpha item", "beta item", "gamma item"].enumerated() {
                _ = try w.insert(NewItem(id: "i\(i)", kind: .pool, contentHash: Int64(i + 1), text: text, vector: nil,
                                         metaJSON: nil, label: nil))
            }
            let keys = try w.items(kinds: [.pool]).map(\.key)
            for name in ["ann", "bo", "cy"] { try w.ensureAnnotator(name, role: "annotator") }
            return try w.createRound(modelVersion: nil, overlap: overlap, settingsJSON: "{}", picks: [
                TaskPick(itemKey: keys[0], strategy: .random, score: 0, rank: 1, uncertainty: 0.9, deadline: 500),
                TaskPick(itemKey: keys[1], strategy: .random, score: 0, rank: 2, uncertainty: 0.5, deadline: 2_000),
                TaskPick(itemKey: keys[2], strategy: .random, score: 0, rank: 3, uncertainty: 0.5, deadline: 1_000, blind: true),
            ])
        }
    }

    static func claim(_ store: any ProjectStore, _ round: Int, _ who: String, at now: Double, lease: Double = 600,
                      keeping: Int64? = nil) throws -> ClaimOutcome {
        try store.write { w in try w.claimTask(round: round, annotator: who, leaseSeconds: lease, now: now, keeping: keeping) }
    }

    static func itemID(_ outcome: ClaimOutcome) -> String? {
        if case .claimed(let task) = outcome { return task.item.id }
        return nil
    }

    /// The message of the QuorumError `body` throws (nil when it throws none).
    static func quorumError(_ body: () throws -> Void) -> QuorumError? {
        do { try body() } catch let error as QuorumError { return error } catch { return nil }
        return nil
    }
}

/// Says so, loudly, when the PostgreSQL backend was not part of this run.
@Suite struct PostgresCoverage {
    @Test(.enabled(if: Backend.postgresURL == nil, "only when QUORUM_TEST_POSTGRES_URL is unset"))
    func postgresWasNotTested() {
        let note = "PostgreSQL was NOT tested: QUORUM_TEST_POSTGRES_URL is unset (scripts/test.sh starts a server when PostgreSQL is installed)"
        FileHandle.standardError.write(Data("warning: \(note)\n".utf8))
        withKnownIssue { Issue.record(Comment(rawValue: note)) }
    }
}
