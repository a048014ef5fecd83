import Foundation
import QuorumCore
import QuorumStore

extension PostgresStore {
    /// How many rows of one table `copyProject` moved.
    public struct CopiedTable: Sendable {
        public var table: String
        public var rows: Int
    }

    /// `quorum migrate`: copies the SQLite project `source` into the empty
    /// database at `url`, every table as it is (keys, timestamps, hashes), so
    /// the event chain and the snapshot digests read the same on both sides.
    ///
    /// It is one PostgreSQL transaction: on any failure the database is left
    /// as it was (empty). The SQLite project is read inside one transaction
    /// that holds its write lock, so nothing changes it meanwhile; it is not
    /// written. Rows travel with `COPY … FROM STDIN` in chunks of about 4 MB.
    /// - Parameter progress: called with (table, rows copied, rows in the table).
    /// - Complexity: O(rows), memory O(chunk).
    public static func copyProject(from source: SQLiteStore, to url: String,
                                   progress: (String, Int, Int) -> Void = { _, _, _ in }) throws -> (store: PostgresStore, tables: [CopiedTable]) {
        try reportingBusy {
            let parsed = try PostgresURL(url)
            let store = try PostgresStore(url: parsed, readOnly: false)
            let copied = try store.pool.withConnection { link in
                try inWriteTransaction(link) { () -> [CopiedTable] in
                    let tables = try Self.tables(link)
                    guard tables.isEmpty else {
                        let what = tables.contains("quorum_migrations") ? "a Quorum project" : "tables (\(tables.sorted().prefix(5).joined(separator: ", ")))"
                        throw QuorumError(.state, "\(parsed): the database already holds \(what); quorum migrate copies into an empty database only",
                                          hint: "create an empty one (createdb NAME) and migrate into that")
                    }
                    try link.query(PostgresSchema.migrationsTable)
                    try migrate(link, through: PostgresSchema.steps.count)
                    let booleans = Set(try link.query("""
                        SELECT table_name::text || '.' || column_name::text FROM information_schema.columns
                        WHERE table_schema = current_schema() AND data_type = 'boolean'
                        """).all.map { (try $0[0]) as String })
                    return try copyTables(from: source, over: link, booleans: booleans, progress: progress)
                }
            }
            try store.pool.withConnection { link in
                for entry in copied where entry.rows > 0 { try link.query("ANALYZE \(entry.table)") }
            }
            return (store, copied)
        }
    }

    private static func copyTables(from source: SQLiteStore, over link: Link, booleans: Set<String>,
                                   progress: (String, Int, Int) -> Void) throws -> [CopiedTable] {
        let chunkBytes = 4 << 20
        var copied: [CopiedTable] = []
        var rows = CopyRows(capacity: chunkBytes + (1 << 16))
        var current: (table: String, columns: [String], isBoolean: [Bool], total: Int)?
        var sent = 0

        func flush() throws {
            guard let table = current, rows.rows > 0 else { return }
            let count = rows.rows
            try link.copy(into: table.table, columns: table.columns, rows.take())
            sent += count
            copied[copied.count - 1].rows = sent
            progress(table.table, sent, table.total)
        }

        try source.readAllTables(table: { name, total in
            try flush()
            let columns = ProjectTables.columns.first { $0.table == name }!.columns
            current = (name, columns, columns.map { booleans.contains("\(name).\($0)") }, total)
            copied.append(CopiedTable(table: name, rows: 0))
            sent = 0
            progress(name, 0, total)
        }, row: { cells in
            let isBoolean = current!.isBoolean
            for (i, cell) in cells.enumerated() { rows.value(cell, boolean: isBoolean[i]) }
            rows.endRow()
            if rows.byteCount >= chunkBytes { try flush() }
        })
        try flush()
        return copied
    }

    /// Rows per project table (`ProjectTables.columns`), for checking a copy.
    /// - Complexity: one COUNT per table.
    public func tableCounts() throws -> [String: Int] {
        try read { _ in () }   // fails early, in words, when the server is gone
        return try pool.withConnection { link in
            var counts: [String: Int] = [:]
            for (table, _, _) in ProjectTables.columns {
                counts[table] = Int(try link.query("SELECT COUNT(*) FROM \(table)").first?[0, as: Int64.self] ?? 0)
            }
            return counts
        }
    }
}
