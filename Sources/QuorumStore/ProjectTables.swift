import Foundation
import GRDB
import QuorumCore

/// One cell of a project table, as `quorum migrate` carries it from one
/// backend to the other: the table's own values, untouched (timestamps,
/// hashes and keys included), so the audit chain and snapshot digests stay valid.
public enum TableValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// The tables a project's data lives in, in an order where every row's
/// references come before it, each with its primary key (rows are read in
/// key order, so both backends give them in the same order). Both backends have these tables with these
/// columns (PostgreSQL's booleans are SQLite's 0/1 integers). `staged_items`
/// is left out: it only holds the rows of an import under way.
public enum ProjectTables {
    public static let columns: [(table: String, key: String, columns: [String])] = [
        ("project", "key", ["key", "value"]),
        ("labels", "position", ["position", "name"]),
        ("items", "key", ["key", "id", "kind", "content_hash", "text", "vector", "meta", "label"]),
        ("annotators", "name", ["name", "role", "created_at", "token_hash"]),
        ("model_versions", "seq", ["id", "seq", "created_at", "kind", "settings", "trained_on", "metrics", "state", "is_live", "is_shadow"]),
        ("predictions", "model_id, item_key", ["model_id", "item_key", "probs", "label", "confidence", "margin", "entropy", "vote_entropy", "mean_kl", "mutual_information"]),
        ("rounds", "id", ["id", "status", "created_at", "closed_at", "model_version", "overlap", "settings", "metrics"]),
        ("tasks", "id", ["id", "round_id", "item_key", "strategy", "score", "rank", "uncertainty", "deadline", "blind", "needed", "done"]),
        ("answers", "id", ["id", "task_id", "annotator", "label", "seconds", "note", "flagged", "created_at"]),
        ("claims", "task_id, annotator", ["task_id", "annotator", "expires_at"]),
        ("consensus", "item_key", ["item_key", "label", "confidence", "method", "answers", "is_dispute", "updated_at"]),
        ("auto_labels", "item_key", ["item_key", "label", "confidence", "round_id", "model_version", "audited"]),
        ("adjudications", "item_key", ["item_key", "label", "adjudicator", "at"]),
        ("snapshots", "number", ["number", "parent", "hash", "items", "created_at", "created_by", "message", "model_version", "method", "rounds", "audit_seq", "audit_hash"]),
        ("snapshot_rows", "snapshot, item_id", ["snapshot", "item_id", "label", "source", "confidence", "split", "answers", "row_hash"]),
        ("events", "seq", ["seq", "at", "kind", "item_id", "annotator", "model_version", "confidence", "detail", "prev_hash", "hash"]),
    ]
}

extension SQLiteStore {
    /// Rows per project table (`ProjectTables.columns`), for checking a copy.
    /// - Complexity: one COUNT per table.
    public func tableCounts() throws -> [String: Int] {
        try pool.read { db in
            var counts: [String: Int] = [:]
            for (table, _, _) in ProjectTables.columns {
                counts[table] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0
            }
            return counts
        }
    }

    /// Reads every project table (`ProjectTables.columns`, in that order) in
    /// one transaction that also holds the write lock, so no other process
    /// changes the project while it is read. `table` is called once per table
    /// before its rows; `row` once per row, with the cells in column order.
    /// The cell array is reused: copy what must outlive the call.
    /// - Complexity: O(rows); memory O(one row).
    public func readAllTables(table: (String, Int) throws -> Void, row: ([TableValue]) throws -> Void) throws {
        try pool.write { db in
            var cells: [TableValue] = []
            for (name, key, columns) in ProjectTables.columns {
                let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(name)") ?? 0
                try table(name, count)
                let cursor = try Row.fetchCursor(db, sql: "SELECT \(columns.joined(separator: ", ")) FROM \(name) ORDER BY \(key)")
                while let r = try cursor.next() {
                    cells.removeAll(keepingCapacity: true)
                    for i in 0..<columns.count {
                        let v: DatabaseValue = r[i]
                        let value: TableValue = switch v.storage {
                        case .null: .null
                        case .int64(let n): .integer(n)
                        case .double(let d): .real(d)
                        case .string(let s): .text(s)
                        case .blob(let data): .blob([UInt8](data))
                        }
                        cells.append(value)
                    }
                    try row(cells)
                }
            }
        }
    }
}
