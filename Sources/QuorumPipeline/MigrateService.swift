import Foundation
import QuorumCore
import QuorumPostgres
import QuorumStore

/// `quorum migrate --to URL`: a SQLite project moved into PostgreSQL.
public enum MigrateService {
    /// What a migration copied and checked.
    public struct Summary: Sendable {
        public var url: String
        /// Rows per table, equal on both sides.
        public var tables: [PostgresStore.CopiedTable]
        /// Events whose hash chain (and snapshot anchors, answers and rulings) verified on both sides.
        public var events: Int
        /// Snapshots whose content hash verified on both sides.
        public var snapshots: [String]
        /// Whether the project directory now points at PostgreSQL (its `quorum.json`).
        public var switched: Bool

        public var json: JSONValue {
            .object([
                ("database", .string(url)), ("switched", .bool(switched)),
                ("tables", .object(tables.map { ($0.table, .int($0.rows)) })),
                ("events_verified", .int(events)), ("snapshots_verified", .array(snapshots.map { .string($0) })),
            ])
        }
    }

    /// Copies the SQLite project in `directory` into the empty PostgreSQL
    /// database at `url`, then checks the copy: the same rows in every table,
    /// `audit verify` passing on both sides with the same chain head, and
    /// every snapshot verifying on both. Unless `copyOnly`, the directory then
    /// gets a `quorum.json` naming the database, and every later command uses
    /// PostgreSQL; `quorum.sqlite` is left as it was (a copy from before the move).
    ///
    /// Stop labelling (`label`, `serve`) on the project first: the SQLite
    /// project is locked against writes while it is copied, but a process that
    /// keeps running afterwards would still write to the SQLite file.
    /// - Complexity: O(rows) for the copy, then O(events + snapshot rows) per side for the checks.
    public static func run(directory: String, to url: String, copyOnly: Bool,
                           progress: (String, Int, Int) -> Void = { _, _, _ in }) throws -> Summary {
        guard case .sqlite = try Project.location(directory) else {
            throw QuorumError(.state, "\(TerminalText.visible(Project.configPath(directory))): this project already lives in PostgreSQL",
                              hint: "only a SQLite project can be migrated; to copy between PostgreSQL databases use pg_dump")
        }
        let source = try SQLiteStore.open(project: directory)
        func work() throws -> Summary {
            let (target, tables) = try PostgresStore.copyProject(from: source, to: url, progress: progress)
            defer { target.close() }
            let (events, snapshots) = try check(source: source, target: target)
            return Summary(url: target.url.description, tables: tables, events: events, snapshots: snapshots, switched: !copyOnly)
        }
        // The directory is pointed at PostgreSQL only once the copy has verified.
        return copyOnly ? try work() : try Project.pointingAtPostgres(directory, url: url, work)
    }

    /// Checks the copy; returns the events and snapshots verified on both sides.
    static func check(source: SQLiteStore, target: PostgresStore) throws -> (Int, [String]) {
        let (before, after) = (try source.tableCounts(), try target.tableCounts())
        for (table, _, _) in ProjectTables.columns where before[table] != after[table] {
            throw QuorumError(.failedCheck, "the copy of table \(table) has \(after[table] ?? 0) rows, the SQLite project \(before[table] ?? 0)",
                              hint: "drop the PostgreSQL database and run quorum migrate again")
        }
        let events = try AuditService.verify(store: source)
        guard try AuditService.verify(store: target) == events,
              try target.read({ try $0.eventHead() })?.hash == (try source.read { try $0.eventHead() })?.hash else {
            throw QuorumError(.failedCheck, "the copied audit chain differs from the SQLite project's",
                              hint: "drop the PostgreSQL database and run quorum migrate again")
        }
        var names: [String] = []
        for snapshot in try source.read({ try $0.snapshots() }) {
            let a = try SnapshotService.verify(store: source, name: snapshot.name)
            let b = try SnapshotService.verify(store: target, name: snapshot.name)
            guard a.hash == b.hash else {
                throw QuorumError(.failedCheck, "snapshot \(snapshot.name) hashes differently after the copy",
                                  hint: "drop the PostgreSQL database and run quorum migrate again")
            }
            names.append(snapshot.name)
        }
        return (events, names)
    }
}
