import Foundation
import GRDB
import QuorumCore

/// The SQLite project store: one file, `DIR/quorum.sqlite`, in WAL mode.
///
/// Several processes may use one project at once; a busy database is waited
/// for (up to `busyTimeout`) rather than reported as a failure.
public final class SQLiteStore: ProjectStore {
    /// The file name of a project's database inside its directory.
    public static let fileName = "quorum.sqlite"
    /// How long a writer waits for another process's transaction (30 s;
    /// `QUORUM_BUSY_TIMEOUT` seconds when set, for tests).
    public static let busyTimeout: TimeInterval = {
        guard let text = ProcessInfo.processInfo.environment["QUORUM_BUSY_TIMEOUT"], let s = Double(text), s > 0 else { return 30 }
        return s
    }()

    let pool: any DatabaseWriter
    /// The database file's path.
    public let path: String
    /// Opened read-only: every write fails, and nothing (not even a schema
    /// upgrade) is written to the file.
    public let isReadOnly: Bool
    public let clock: Clock

    private init(path: String, readOnly: Bool = false, clock: Clock = .system) throws {
        self.clock = clock
        var config = Configuration()
        // A busy database is retried, not reported: short sleeps first (another
        // annotator's write takes well under a millisecond), growing to 2 ms, for
        // up to `busyTimeout` in all. SQLite's own timeout handler sleeps in steps
        // of up to 100 ms, which under contention shows as a stall on screen.
        let limit = Int(SQLiteStore.busyTimeout * 1000 / 2)
        config.busyMode = .callback { tries in
            guard tries < limit else { return false }
            usleep(UInt32(min(2_000, 50 << min(tries, 5))))
            return true
        }
        config.foreignKeysEnabled = true
        config.prepareDatabase { db in
            // WAL with synchronous=NORMAL keeps every committed transaction
            // through a killed process (only a power cut can lose the last ones),
            // and a 128 MB page cache keeps large imports off the disk.
            try db.execute(sql: "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -131072; PRAGMA temp_store = MEMORY")
        }
        if readOnly {
            config.readonly = true
            pool = try DatabaseQueue(path: path, configuration: config)
        } else {
            pool = try DatabasePool(path: path, configuration: config)
        }
        self.path = path
        self.isReadOnly = readOnly
    }

    /// A read-only connection. On a read-only file system (or directory) a
    /// WAL database without its `-shm` file cannot be opened read-only; then,
    /// when no `-wal` file holds unmerged writes, the file is opened as
    /// immutable (SQLite's `immutable=1`: nothing can change it underneath).
    static func openReadOnly(_ path: String, clock: Clock = .system) throws -> SQLiteStore {
        do {
            return try SQLiteStore(path: path, readOnly: true, clock: clock)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CANTOPEN {
            let wal = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
            guard wal == 0, let encoded = path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) else { throw error }
            let store = try SQLiteStore(path: "file:\(encoded.replacingOccurrences(of: "?", with: "%3F"))?immutable=1", readOnly: true, clock: clock)
            return store
        }
    }

    /// The 16 bytes every SQLite database file starts with.
    static let sqliteHeader = Data("SQLite format 3\0".utf8)

    /// The file's first 16 bytes (fewer for a shorter file), or nil when it cannot be read.
    static func leadingBytes(_ path: String) -> Data? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: 16)) ?? Data()
    }

    /// Whether the file at `path` is a SQLite database (by its header).
    public static func isSQLiteFile(_ path: String) -> Bool {
        leadingBytes(path) == sqliteHeader
    }

    /// The database path for a project directory.
    public static func databasePath(inProject directory: String) -> String {
        (directory as NSString).appendingPathComponent(fileName)
    }

    /// Creates a new project in `directory`. Refuses to overwrite an existing one.
    /// `ordered` labels are recorded as the project key `ordered` = "1", a
    /// task type other than `single` as the key `task`.
    public static func create(inProject directory: String, name: String, labels: LabelSet, ordered: Bool = false,
                              task: TaskType = .single, clock: Clock = .system) throws -> SQLiteStore {
        let path = databasePath(inProject: directory)
        if FileManager.default.fileExists(atPath: path) {
            throw QuorumError(.state, "\(path): a Quorum project already exists here",
                              hint: "use another --project directory, or delete \(path) if you really mean to start over")
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: path, clock: clock)
        try Schema.migrator.migrate(store.pool)
        try store.pool.write { db in
            let now = Timestamp.format(clock.now())
            for (key, value) in [("name", name), ("created_at", now), ("schema", "1")] + (ordered ? [("ordered", "1")] : [])
                + (task == .single ? [] : [(TaskType.projectKey, task.rawValue)]) {
                try db.execute(sql: "INSERT INTO project(key, value) VALUES (?, ?)", arguments: [key, value])
            }
            for (i, label) in labels.names.enumerated() {
                try db.execute(sql: "INSERT INTO labels(position, name) VALUES (?, ?)", arguments: [i, label])
            }
        }
        return store
    }

    /// Opens the project in `directory`. A writable open applies any schema
    /// steps the project lacks; a `readOnly` open writes nothing and refuses a
    /// project whose schema is behind (run a command that writes, once).
    /// Either way, a file that is not a Quorum project (empty, not SQLite, or
    /// a SQLite database without Quorum's tables) and a project written by a
    /// newer Quorum (a schema step this version does not know) are refused
    /// before anything is written.
    public static func open(project directory: String, readOnly: Bool = false, clock: Clock = .system) throws -> SQLiteStore {
        let path = databasePath(inProject: directory)
        guard FileManager.default.fileExists(atPath: path) else {
            throw QuorumError(.state, "\(directory): no Quorum project here (\(fileName) not found)",
                              hint: "run `quorum init --labels A,B` to create one, or pass --project DIR or set QUORUM_PROJECT")
        }
        let shown = TerminalText.visible(path)
        let notAProject = "move it away, or pass --project with the directory of a Quorum project"
        guard let header = leadingBytes(path), !header.isEmpty else {
            throw QuorumError(.state, "\(shown) is not a Quorum project (the file is empty)", hint: notAProject)
        }
        guard header == sqliteHeader else {
            throw QuorumError(.state, "\(shown) is not a Quorum project (not a SQLite database)", hint: notAProject)
        }
        let probe = try openReadOnly(path, clock: clock)
        let (isQuorum, unknown, pending) = try probe.pool.read { db -> (Bool, [String], Bool) in
            let tables = Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'"))
            guard tables.isSuperset(of: ["grdb_migrations", "project", "labels", "items"]) else { return (false, [], false) }
            let applied = try Schema.migrator.appliedIdentifiers(db)
            let known = Set(Schema.migrator.migrations)
            return (true, applied.subtracting(known).sorted(), !known.isSubset(of: applied))
        }
        guard isQuorum else {
            throw QuorumError(.state, "\(shown) is not a Quorum project (a SQLite database without Quorum's tables)", hint: notAProject)
        }
        guard unknown.isEmpty else {
            throw QuorumError(.state, "\(shown) was written by a newer Quorum (schema steps \(unknown.map { TerminalText.visible($0) }.joined(separator: ", ")) are unknown to this version)",
                              hint: "use that Quorum version or a newer one; this one will not write to the project")
        }
        if readOnly {
            guard !pending else {
                throw QuorumError(.state, "\(shown) was made by an older Quorum and needs a schema upgrade, which this read-only command will not write",
                                  hint: "run `quorum upgrade` once (it needs write access), then try again")
            }
            return probe
        }
        let store: SQLiteStore
        do {
            store = try SQLiteStore(path: path, clock: clock)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CANTOPEN || error.resultCode == .SQLITE_READONLY {
            throw QuorumError(.environment, "\(shown): this command changes the project, but the project is read-only here",
                              hint: "read-only commands (status, report, snapshot export, …) still work; run this one where the project's directory is writable")
        }
        try Schema.migrator.migrate(store.pool)
        return store
    }

    public func read<T>(_ body: (any StoreReader) throws -> T) throws -> T {
        try pool.read { db in try body(SQLiteSession(db: db, clock: clock)) }
    }

    public func write<T>(_ body: (any StoreWriter) throws -> T) throws -> T {
        try Self.transaction(pool, clock: clock, ending: .commit, body)
    }

    /// One immediate transaction on `pool` running `body`, ended with `ending`
    /// (`.commit` for `write`, `.rollback` for a rehearsal).
    static func transaction<T>(_ pool: any DatabaseWriter, clock: Clock, ending: Database.TransactionCompletion,
                               _ body: (any StoreWriter) throws -> T) throws -> T {
        try pool.writeWithoutTransaction { db in
            var result: T?
            try db.inTransaction(.immediate) {
                result = try body(SQLiteSession(db: db, clock: clock))
                return ending
            }
            return result!
        }
    }

    public func writePatiently<T>(_ body: (any StoreWriter) throws -> T) throws -> T {
        while true {
            do {
                return try Self.transaction(pool, clock: clock, ending: .commit, body)
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
                usleep(10_000)   // the busy handler already waited `busyTimeout`; try again
            }
        }
    }

    public func rehearsal() -> any ProjectStore { Rehearsal(pool: pool, clock: clock) }

    /// A store whose writes always roll back (see `ProjectStore.rehearsal`).
    final class Rehearsal: ProjectStore {
        let pool: any DatabaseWriter
        let clock: Clock
        init(pool: any DatabaseWriter, clock: Clock) { self.pool = pool; self.clock = clock }

        func read<T>(_ body: (any StoreReader) throws -> T) throws -> T {
            try pool.read { db in try body(SQLiteSession(db: db, clock: clock)) }
        }

        func write<T>(_ body: (any StoreWriter) throws -> T) throws -> T {
            try SQLiteStore.transaction(pool, clock: clock, ending: .rollback, body)
        }

        func writePatiently<T>(_ body: (any StoreWriter) throws -> T) throws -> T { try write(body) }

        func rehearsal() -> any ProjectStore { self }
    }

    /// The SQLite library version, for `quorum doctor`.
    public func sqliteVersion() throws -> String {
        try pool.read { db in try String.fetchOne(db, sql: "SELECT sqlite_version()") ?? "unknown" }
    }

    /// Runs raw SQL against the file. For tests that need to tamper with a project.
    public func executeForTesting(_ sql: String) throws {
        try pool.writeWithoutTransaction { db in try db.execute(sql: sql) }
    }
}

extension SQLiteStore {
    /// The linked SQLite library's version, without opening a project.
    public static var libraryVersion: String? {
        try? DatabaseQueue().read { db in try String.fetchOne(db, sql: "SELECT sqlite_version()") }
    }
}
