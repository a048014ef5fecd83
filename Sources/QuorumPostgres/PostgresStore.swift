import Foundation
import QuorumCore
import QuorumStore

/// The PostgreSQL project store: the same protocols, and the same results in
/// the same order, as `SQLiteStore`, for teams whose annotators and services
/// work from many machines at once.
///
/// Transactions:
/// - `read` runs in `REPEATABLE READ READ ONLY`: one snapshot, like a SQLite read.
/// - `write` runs in `READ COMMITTED` and first takes a transaction-scoped
///   advisory lock (`pg_advisory_xact_lock`) that every writer of the database
///   takes: writers run one at a time, as SQLite's single writer does, so the
///   claim queue, the task counters, the keys handed out as "largest plus one"
///   and the event chain's head are read and written by one writer at a time.
///   Each statement after the lock sees every write committed before it (a
///   per-statement snapshot), and readers never wait for writers.
/// - A writer waits for the lock up to `busyTimeout` (the `QUORUM_BUSY_TIMEOUT`
///   of SQLite's store), then fails; `writePatiently` keeps waiting.
///
/// Claims need no row locks (`FOR UPDATE SKIP LOCKED`): the writer lock is
/// stronger, and claims are a few statements each.
///
/// Connections: see `BlockingPool` (one event loop thread, up to four
/// connections opened on demand, callers block on each statement).
///
/// A statement the server refuses ends the transaction (PostgreSQL aborts it),
/// so a failing statement fails the whole `write`; the store never relies on
/// catching one and going on (a second answer to a task, for instance, is found
/// with `ON CONFLICT DO NOTHING`, not by a failed INSERT).
public final class PostgresStore: ProjectStore {
    /// Every Quorum writer of a database takes this advisory lock (the bytes of "quorum").
    static let writerLock: Int64 = 0x71756F72756D
    /// This build's schema version: the number of schema steps it knows. A
    /// project with a step it does not know is refused.
    public static var schemaVersion: Int { PostgresSchema.version }
    /// How long a writer waits for another's transaction: the same setting as SQLite's store.
    public static var busyTimeout: Double { SQLiteStore.busyTimeout }

    let pool: BlockingPool
    /// Which ids this store staged in each import batch.
    let staging = StagingMemory()
    /// The database, as a URL without a password.
    public let url: PostgresURL
    /// Opened read-only: every write fails, and nothing (not even a schema upgrade) is written.
    public let isReadOnly: Bool
    public let clock: Clock

    init(url: PostgresURL, readOnly: Bool, clock: Clock = .system) throws {
        self.url = url
        self.clock = clock
        self.isReadOnly = readOnly
        self.pool = try BlockingPool(url: url, lockTimeout: Self.busyTimeout, readOnly: readOnly)
    }

    /// Closes the store's connections (also done when the store is released).
    public func close() { pool.close() }

    /// Creates a new project in the (empty) database at `url`. Refuses a
    /// database that already holds a Quorum project, or any other tables.
    /// `ordered` labels are recorded as the project key `ordered` = "1", a
    /// task type other than `single` as the key `task`.
    public static func create(url text: String, name: String, labels: LabelSet, ordered: Bool = false,
                              task: TaskType = .single, clock: Clock = .system) throws -> PostgresStore {
        try reportingBusy { try makeProject(url: text, name: name, labels: labels, ordered: ordered, task: task, clock: clock) }
    }

    /// Runs `body`, reporting a lock wait that timed out as a `QuorumError`.
    static func reportingBusy<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let busy as BusyError { throw busy.asQuorumError }
    }

    private static func makeProject(url text: String, name: String, labels: LabelSet, ordered: Bool, task: TaskType,
                                    clock: Clock) throws -> PostgresStore {
        let url = try PostgresURL(text)
        let store = try PostgresStore(url: url, readOnly: false, clock: clock)
        try store.pool.withConnection { link in
            try inWriteTransaction(link) {
                let tables = try Self.tables(link)
                if tables.contains("quorum_migrations") || tables.contains("project") {
                    throw QuorumError(.state, "\(url): a Quorum project already exists in this database",
                                      hint: "use another database, or drop this one if you really mean to start over")
                }
                guard tables.isEmpty else {
                    throw QuorumError(.state, "\(url): the database already has tables (\(tables.sorted().prefix(5).joined(separator: ", ")))",
                                      hint: "give Quorum a database of its own (createdb NAME)")
                }
                try link.query(PostgresSchema.migrationsTable)
                try migrate(link, through: PostgresSchema.steps.count)
                let now = Timestamp.format(clock.now())
                for (key, value) in [("name", name), ("created_at", now), ("schema", "1")] + (ordered ? [("ordered", "1")] : [])
                    + (task == .single ? [] : [(TaskType.projectKey, task.rawValue)]) {
                    try link.query("INSERT INTO project(key, value) VALUES ($1, $2)", [key, value])
                }
                for (i, label) in labels.names.enumerated() {
                    try link.query("INSERT INTO labels(position, name) VALUES ($1, $2)", [i, label])
                }
            }
        }
        return store
    }

    /// Opens the project in the database at `url`. A writable open applies any
    /// schema steps the project lacks; a `readOnly` open writes nothing and
    /// refuses a project whose schema is behind. Either way, a database that is
    /// not a Quorum project (empty, or other tables) and a project written by a
    /// newer Quorum (a schema step this version does not know) are refused
    /// before anything is written.
    public static func open(url text: String, readOnly: Bool = false, clock: Clock = .system) throws -> PostgresStore {
        let url = try PostgresURL(text)
        let store = try PostgresStore(url: url, readOnly: readOnly, clock: clock)
        let notAProject = "check the URL, or run `quorum init --database URL` to create a project there"
        let (tables, applied) = try store.pool.withConnection { link -> (Set<String>, [String]) in
            try link.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            defer { _ = try? link.query("ROLLBACK") }
            let tables = try Self.tables(link)
            guard tables.contains("quorum_migrations") else { return (tables, []) }
            return (tables, try link.query("SELECT identifier FROM quorum_migrations ORDER BY step").all.map { try $0[0] })
        }
        guard !tables.isEmpty else {
            throw QuorumError(.state, "\(url) is not a Quorum project (the database is empty)", hint: notAProject)
        }
        guard tables.isSuperset(of: ["quorum_migrations", "project", "labels", "items"]) else {
            throw QuorumError(.state, "\(url) is not a Quorum project (a PostgreSQL database without Quorum's tables)", hint: notAProject)
        }
        let known = PostgresSchema.steps.map(\.identifier)
        let unknown = applied.filter { !known.contains($0) }
        guard unknown.isEmpty else {
            throw QuorumError(.state, "\(url) was written by a newer Quorum (schema steps \(unknown.map { TerminalText.visible($0) }.joined(separator: ", ")) are unknown to this version)",
                              hint: "use that Quorum version or a newer one; this one will not write to the project")
        }
        if applied.count < known.count {
            guard !readOnly else {
                throw QuorumError(.state, "\(url) was made by an older Quorum and needs a schema upgrade, which this read-only command will not write",
                                  hint: "run `quorum upgrade` once (it needs write access), then try again")
            }
            try reportingBusy {
                try store.pool.withConnection { link in
                    try inWriteTransaction(link) { try migrate(link, through: known.count) }
                }
            }
        }
        return store
    }

    /// The tables of the database's current schema.
    static func tables(_ link: Link) throws -> Set<String> {
        Set(try link.query("SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()").all.map { try $0[0] })
    }

    /// Applies the steps not applied yet, in order, up to step `last` (a
    /// project made by an older Quorum lacks the newest; each is looked up by
    /// number, not taken to be every step after the highest applied one). Runs
    /// inside a write transaction (under the writer lock, so two processes
    /// opening an old project do not both upgrade it).
    static func migrate(_ link: Link, through last: Int) throws {
        let done = Set(try link.query("SELECT step FROM quorum_migrations").all.map { try $0[0, as: Int64.self] })
        for (index, step) in PostgresSchema.steps.enumerated().prefix(last) where !done.contains(Int64(index + 1)) {
            for statement in step.sql { try link.query(statement) }
            try link.query("INSERT INTO quorum_migrations(step, identifier, applied_at) VALUES ($1, $2, $3)",
                           [index + 1, step.identifier, Timestamp.now()])
        }
    }

    /// Runs `body` between BEGIN (with the writer lock) and COMMIT; ROLLBACK when it throws.
    static func inWriteTransaction<T>(_ link: Link, commit: Bool = true, _ body: () throws -> T) throws -> T {
        try link.query("BEGIN")
        do {
            try link.query("SELECT pg_advisory_xact_lock($1)", [writerLock])
            let result = try body()
            try link.query(commit ? "COMMIT" : "ROLLBACK")
            return result
        } catch {
            if link.healthy { _ = try? link.query("ROLLBACK") }
            if link.failedSQLState == "55P03" {
                throw BusyError(url: link.url)
            }
            throw error
        }
    }

    /// The writer lock stayed taken past `busyTimeout`.
    struct BusyError: Error, CustomStringConvertible {
        let url: PostgresURL
        var asQuorumError: QuorumError {
            QuorumError(.state, "\(url): another Quorum process has held the project's write lock for more than \(Int(PostgresStore.busyTimeout)) s",
                        hint: "try again when it is done (a long import or training run, perhaps)")
        }
        var description: String { asQuorumError.description }
    }

    public func read<T>(_ body: (any StoreReader) throws -> T) throws -> T {
        try pool.withConnection { link in
            try link.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            do {
                let result = try body(PostgresSession(link: link, staging: staging, clock: clock))
                try link.query("COMMIT")
                return result
            } catch {
                if link.healthy { _ = try? link.query("ROLLBACK") }
                throw error
            }
        }
    }

    public func write<T>(_ body: (any StoreWriter) throws -> T) throws -> T {
        try Self.reportingBusy { try Self.transaction(self, commit: true, body) }
    }

    /// One write transaction on `store`'s pool running `body`, committed or
    /// (for a rehearsal) rolled back.
    static func transaction<T>(_ store: PostgresStore, commit: Bool, _ body: (any StoreWriter) throws -> T) throws -> T {
        guard !store.isReadOnly else {
            throw QuorumError(.state, "\(store.url): this command changes the project, but the project was opened read-only")
        }
        return try store.pool.withConnection { link in
            try inWriteTransaction(link, commit: commit) {
                let session = PostgresSession(link: link, staging: store.staging, clock: store.clock)
                let result = try body(session)
                try session.finish()
                return result
            }
        }
    }

    public func writePatiently<T>(_ body: (any StoreWriter) throws -> T) throws -> T {
        while true {
            do {
                return try Self.transaction(self, commit: true, body)
            } catch is BusyError {
                usleep(10_000)   // the lock wait already lasted `busyTimeout`; wait again
            }
        }
    }

    public func rehearsal() -> any ProjectStore { Rehearsal(store: self) }

    /// A store whose writes always roll back (see `ProjectStore.rehearsal`).
    final class Rehearsal: ProjectStore {
        let store: PostgresStore
        init(store: PostgresStore) { self.store = store }
        var clock: Clock { store.clock }

        func read<T>(_ body: (any StoreReader) throws -> T) throws -> T { try store.read(body) }

        func write<T>(_ body: (any StoreWriter) throws -> T) throws -> T {
            try PostgresStore.reportingBusy { try PostgresStore.transaction(store, commit: false, body) }
        }

        func writePatiently<T>(_ body: (any StoreWriter) throws -> T) throws -> T { try write(body) }

        func rehearsal() -> any ProjectStore { self }
    }

    /// The server's version, for `quorum doctor`.
    public func serverVersion() throws -> String {
        try pool.withConnection { link in try link.query("SHOW server_version").first?[0] ?? "unknown" }
    }

    /// What `quorum doctor` reports about the server and the connection to it.
    public struct Diagnosis: Sendable {
        /// The database, as a URL without a password.
        public var url: String
        /// `server_version`, e.g. "17.6 (Debian 17.6-0+deb13u1)".
        public var serverVersion: String
        /// Whether the connection is encrypted (TLS).
        public var tls: Bool
        /// The most connections this process's pool opens, and how many are open now.
        public var poolLimit: Int
        public var poolOpen: Int
        /// The server's `max_connections`, and how many sessions it has now.
        public var serverMaxConnections: Int
        public var serverConnections: Int
        /// Round-trip times of `SELECT 1` on an open connection, in milliseconds.
        public var roundTripMillis: [Double]
    }

    /// Measures the round trip (`samples` times `SELECT 1`, after a first one
    /// that opens the connection) and reads the server's version and limits.
    /// - Complexity: `samples` + 4 round trips.
    public func diagnose(samples: Int = 20) throws -> Diagnosis {
        try pool.withConnection { link in
            let version: String = try link.query("SHOW server_version").first?[0] ?? "unknown"
            let maxConnections = Int(try link.query("SHOW max_connections").first?[0, as: String.self] ?? "") ?? 0
            let sessions = try link.query("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'").first?[0, as: Int64.self] ?? 0
            let tls = try link.query("SELECT COALESCE((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)").first?[0, as: Bool.self] ?? false
            var times: [Double] = []
            times.reserveCapacity(samples)
            for _ in 0..<samples {
                let start = DispatchTime.now().uptimeNanoseconds
                try link.query("SELECT 1")
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
            return Diagnosis(url: url.description, serverVersion: version, tls: tls, poolLimit: pool.limit, poolOpen: pool.openConnections,
                             serverMaxConnections: maxConnections, serverConnections: Int(sessions), roundTripMillis: times)
        }
    }

    /// Runs one statement on the server at `url`, outside any project (tests
    /// create and drop their databases with it).
    public static func executeForTesting(url: String, _ sql: String) throws {
        let pool = try BlockingPool(url: PostgresURL(url), limit: 1, lockTimeout: busyTimeout, readOnly: false)
        defer { pool.close() }
        try pool.withConnection { link in _ = try link.query(sql) }
    }

    /// Runs raw SQL against the database, outside any transaction. For tests
    /// that need to tamper with a project.
    public func executeForTesting(_ sql: String) throws {
        try pool.withConnection { link in _ = try link.query(sql) }
    }
}
