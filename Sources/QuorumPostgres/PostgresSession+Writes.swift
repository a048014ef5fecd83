import Foundation
import NIOConcurrencyHelpers
import QuorumCore
import QuorumStore

/// The changes, each SQLite's (`SQLiteSession+Writes`) in PostgreSQL's dialect.
///
/// Every write runs under the writer lock (see `PostgresStore`), so keys are
/// handed out as SQLite hands out rowids: the largest so far plus one.
/// Lists (tasks, predictions, consensus, snapshot rows, staged items) go in
/// multi-row INSERTs of up to `rowsPerStatement` rows, not one statement a row.
extension PostgresSession: StoreWriter {
    /// Rows per multi-row INSERT (and at most 65,535 bound values in all).
    static let rowsPerStatement = 2_000
    /// Staged items sent with one COPY.
    static let rowsPerCopy = 10_000

    /// Inserts `rows` into `table` in multi-row statements; `suffix` follows each
    /// (an ON CONFLICT clause). Returns how many rows were inserted.
    @discardableResult
    func insertRows(_ table: String, _ columns: [String], _ rows: [[any SQLBindable]], suffix: String = "") throws -> Int {
        let perStatement = max(1, min(Self.rowsPerStatement, 65_535 / columns.count))
        var inserted = 0
        var start = 0
        while start < rows.count {
            let chunk = rows[start..<min(start + perStatement, rows.count)]
            var placeholders: [String] = []
            placeholders.reserveCapacity(chunk.count)
            var n = 0
            for _ in chunk {
                placeholders.append("(" + columns.indices.map { _ in n += 1; return "$\(n)" }.joined(separator: ",") + ")")
            }
            let sql = "INSERT INTO \(table)(\(columns.joined(separator: ", "))) VALUES \(placeholders.joined(separator: ",")) \(suffix)"
            inserted += try query(sql, chunk.flatMap { $0 }).affected
            start += chunk.count
        }
        return inserted
    }

    /// After a bulk insert, refreshes the table's planner statistics (ANALYZE),
    /// so the next statements (a round's queue, the router's joins) are not
    /// planned for the empty table autovacuum last saw.
    func refreshStatistics(_ table: String, after rows: Int) throws {
        if rows >= 1_000 { try query("ANALYZE \(table)") }
    }

    /// `rows` keeping only the last of those with the same key (an upsert sees each key once per statement).
    static func lastPerKey<R, K: Hashable>(_ rows: [R], key: (R) -> K) -> [R] {
        var last: [K: Int] = [:]
        for (i, r) in rows.enumerated() { last[key(r)] = i }
        return rows.enumerated().filter { last[key($0.element)] == $0.offset }.map(\.element)
    }

    func setVectorDimension(_ d: Int) throws {
        try setSetting("vector_dimension", String(d))
    }

    func setSetting(_ key: String, _ value: String) throws {
        try query("INSERT INTO project(key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [key, value])
    }

    /// PostgreSQL's text cannot hold U+0000, which SQLite stores; such an item is refused by name.
    static func checkStorable(_ item: NewItem, line: Int?) throws {
        for (field, value) in [("id", item.id), ("text", item.text), ("label", item.label), ("meta", item.metaJSON)] {
            guard let value, value.utf8.contains(0) else { continue }
            let at = line.map { "line \($0): " } ?? ""
            throw QuorumError(.badInput, "\(at)item \(TerminalText.visible(item.id)): its \(field) holds a NUL character (\\u0000), which PostgreSQL cannot store",
                              hint: "remove the NUL characters from the file")
        }
    }

    func insert(_ item: NewItem) throws -> InsertOutcome {
        try Self.checkStorable(item, line: nil)
        let inserted = try query("""
            INSERT INTO items(key, id, kind, content_hash, text, vector, meta, label)
            VALUES ((SELECT COALESCE(MAX(key), 0) + 1 FROM items), $1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (id) DO NOTHING
            """, [item.id, item.kind.rawValue, item.contentHash, item.text, item.vector.map(StoreEncoding.blob), item.metaJSON, item.label])
        if inserted.affected == 1 { return .inserted }
        return try compareExisting(item, "SELECT kind, content_hash, label FROM items WHERE id = $1", [item.id]) ?? .duplicate
    }

    /// The outcome of inserting `item` when a row with its id exists (nil when none does).
    private func compareExisting(_ item: NewItem, _ sql: String, _ arguments: [any SQLBindable]) throws -> InsertOutcome? {
        guard let existing = try row(sql, arguments) else { return nil }
        return StoreEncoding.compare(item, kind: ItemKind(rawValue: try existing["kind"]) ?? .pool,
                                     hash: try existing["content_hash"], label: try existing["label"])
    }

    /// Stages an item. The hot path of an import: an item whose id this store
    /// has not staged in the batch is only buffered (and sent with the others,
    /// `rowsPerCopy` a COPY, before the next other statement or the
    /// commit); an id it may have staged (buffered ones included) is checked
    /// against the table, after the buffer is sent.
    func stage(_ item: NewItem, batch: Int64, line: Int) throws -> InsertOutcome {
        try Self.checkStorable(item, line: line)
        let seq = try nextStageSeq()
        let stagedAt = now
        if try staging.isNew(item.id, batch: batch, orAsk: {
            try value("SELECT EXISTS (SELECT 1 FROM staged_items WHERE batch = $1)", [batch], as: Bool.self) == true
        }) {
            pendingStage.append(PendingStage(seq: seq, batch: batch, line: line, item: item, stagedAt: stagedAt))
            if pendingStage.count >= Self.rowsPerCopy { try flushStaged() }
            return .inserted
        }
        let inserted = try query("""
            INSERT INTO staged_items(seq, batch, line, id, kind, content_hash, text, vector, meta, label, staged_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (batch, id) DO NOTHING
            """, Self.stagedValues(PendingStage(seq: seq, batch: batch, line: line, item: item, stagedAt: stagedAt)))
        if inserted.affected == 1 { return .inserted }
        // The id came earlier in the same file.
        return try compareExisting(item, "SELECT kind, content_hash, label FROM staged_items WHERE batch = $1 AND id = $2",
                                   [batch, item.id]) ?? .duplicate
    }

    static func stagedValues(_ p: PendingStage) -> [any SQLBindable] {
        [p.seq, p.batch, p.line, p.item.id, p.item.kind.rawValue, p.item.contentHash, p.item.text,
         p.item.vector.map(StoreEncoding.blob), p.item.metaJSON, p.item.label, p.stagedAt]
    }

    /// The next `seq` of staged_items (the file's order), counted here after the first.
    private func nextStageSeq() throws -> Int64 {
        let seq: Int64
        if let known = stageSeq {
            seq = known
        } else {
            let last = try value("SELECT COALESCE(MAX(seq), 0) FROM staged_items", as: Int64.self) ?? 0
            seq = max(last, pendingStage.last?.seq ?? 0) + 1
        }
        stageSeq = seq + 1
        return seq
    }

    /// Sends the buffered staged items, with one `COPY staged_items FROM STDIN`.
    func flushStaged() throws {
        let pending = pendingStage
        pendingStage = []
        var rows = CopyRows(capacity: pending.count * 256)
        for p in pending {
            rows.integer(p.seq); rows.integer(p.batch); rows.integer(Int64(p.line)); rows.text(p.item.id)
            rows.text(p.item.kind.rawValue); rows.integer(p.item.contentHash)
            if let text = p.item.text { rows.text(text) } else { rows.null() }
            if let vector = p.item.vector { vector.withUnsafeBytes { rows.bytes($0) } } else { rows.null() }   // StoreEncoding.blob's bytes
            if let meta = p.item.metaJSON { rows.text(meta) } else { rows.null() }
            if let label = p.item.label { rows.text(label) } else { rows.null() }
            rows.real(p.stagedAt)
            rows.endRow()
        }
        do {
            try link.copy(into: "staged_items", columns: ["seq", "batch", "line", "id", "kind", "content_hash", "text", "vector", "meta", "label", "staged_at"],
                          rows.take())
        } catch where link.failedSQLState == "23505" {
            throw QuorumError(.state, "\(link.url): another process staged items into this import's batch meanwhile",
                              hint: "run the import again")
        }
    }

    func stagedClashes(batch: Int64) throws -> (duplicates: Int, conflict: (line: Int, id: String, outcome: InsertOutcome)?) {
        let rows = try rows("""
            SELECT s.line, s.id, s.kind AS new_kind, s.content_hash AS new_hash, s.label AS new_label,
                   i.kind, i.content_hash, i.label
            FROM staged_items s JOIN items i ON i.id = s.id WHERE s.batch = $1 ORDER BY s.seq
            """, [batch])
        var duplicates = 0
        for row in rows {
            let staged = NewItem(id: try row["id"], kind: ItemKind(rawValue: try row["new_kind"]) ?? .pool, contentHash: try row["new_hash"],
                                 text: nil, vector: nil, metaJSON: nil, label: try row["new_label"])
            let outcome = StoreEncoding.compare(staged, kind: ItemKind(rawValue: try row["kind"]) ?? .pool,
                                                hash: try row["content_hash"], label: try row["label"])
            guard outcome == .duplicate else { return (duplicates, (try row["line"], staged.id, outcome)) }
            duplicates += 1
        }
        return (duplicates, nil)
    }

    func publishStaged(batch: Int64) throws -> Int {
        // Keys continue from the largest, in file order, as SQLite's INSERT … SELECT … ORDER BY seq gives them.
        let published = try query("""
            INSERT INTO items(key, id, kind, content_hash, text, vector, meta, label)
            SELECT (SELECT COALESCE(MAX(key), 0) FROM items) + ROW_NUMBER() OVER (ORDER BY seq),
                   id, kind, content_hash, text, vector, meta, label
            FROM staged_items s
            WHERE batch = $1 AND NOT EXISTS (SELECT 1 FROM items i WHERE i.id = s.id)
            ORDER BY seq
            """, [batch]).affected
        try query("DELETE FROM staged_items WHERE batch = $1", [batch])
        staging.forget(batch)
        stageSeq = nil
        try refreshStatistics("items", after: published)
        return published
    }

    func dropStaged(batch: Int64, staleAfter: Double) throws {
        try query("DELETE FROM staged_items WHERE batch = $1 OR staged_at < $2", [batch, now - staleAfter])
        staging.forget(batch)
        stageSeq = nil
    }

    func insertModel(_ model: ModelVersion) throws {
        if model.isLive { try query("UPDATE model_versions SET is_live = FALSE WHERE is_live") }
        if model.isShadow { try query("UPDATE model_versions SET is_shadow = FALSE WHERE is_shadow") }
        try query("""
            INSERT INTO model_versions(id, seq, created_at, kind, settings, trained_on, metrics, state, is_live, is_shadow)
            VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM model_versions), $2, $3, $4, $5, $6, $7, $8, $9)
            """, [model.id, model.createdAt, model.kind, model.settingsJSON, model.trainedOn,
                  model.metricsJSON, Data(model.state), model.isLive, model.isShadow])
    }

    func promoteModel(_ id: String) throws {
        try query("UPDATE model_versions SET is_live = FALSE WHERE is_live AND id <> $1", [id])
        try query("UPDATE model_versions SET is_live = TRUE, is_shadow = FALSE WHERE id = $1", [id])
    }

    func nextModelID() throws -> String {
        "m\((try value("SELECT COALESCE(MAX(seq), 0) FROM model_versions", as: Int64.self) ?? 0) + 1)"
    }

    func insertPredictions(model: String, _ predictions: [Prediction]) throws {
        let rows: [[any SQLBindable]] = Self.lastPerKey(predictions, key: \.itemKey).map { p in
            let m = p.measures
            return [model, p.itemKey, StoreEncoding.blob(p.probabilities), m?.label, m?.confidence, m?.margin,
                    m?.entropy, m?.voteEntropy, m?.meanKL, m?.mutualInformation]
        }
        try insertRows("predictions", ["model_id", "item_key", "probs", "label", "confidence", "margin", "entropy",
                                       "vote_entropy", "mean_kl", "mutual_information"], rows, suffix: """
            ON CONFLICT (model_id, item_key) DO UPDATE SET probs = excluded.probs, label = excluded.label,
                confidence = excluded.confidence, margin = excluded.margin, entropy = excluded.entropy,
                vote_entropy = excluded.vote_entropy, mean_kl = excluded.mean_kl, mutual_information = excluded.mutual_information
            """)
        try refreshStatistics("predictions", after: rows.count)
    }

    func createRound(modelVersion: String?, overlap: Int, settingsJSON: String, picks: [TaskPick]) throws -> Int {
        let round: Int = try value("""
            INSERT INTO rounds(id, status, created_at, model_version, overlap, settings)
            VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM rounds), 'open', $1, $2, $3, $4) RETURNING id
            """, [timestamp, modelVersion, overlap, settingsJSON]) ?? 0
        let last = try value("SELECT COALESCE(MAX(id), 0) FROM tasks", as: Int64.self) ?? 0
        let rows: [[any SQLBindable]] = picks.enumerated().map { i, pick in
            [last + 1 + Int64(i), round, pick.itemKey, pick.strategy.rawValue, pick.score, pick.rank,
             pick.uncertainty, pick.deadline ?? StoreEncoding.noDeadline, pick.blind, overlap]
        }
        try insertRows("tasks", ["id", "round_id", "item_key", "strategy", "score", "rank", "uncertainty", "deadline", "blind", "needed"], rows)
        try refreshStatistics("tasks", after: rows.count)
        return round
    }

    func cancelRound(_ id: Int) throws {
        try query("DELETE FROM claims WHERE task_id IN (SELECT id FROM tasks WHERE round_id = $1)", [id])
        try query("DELETE FROM tasks WHERE round_id = $1", [id])
        try query("DELETE FROM auto_labels WHERE round_id = $1", [id])
        try query("UPDATE rounds SET status = 'cancelled', closed_at = $1 WHERE id = $2", [timestamp, id])
    }

    func closeRound(_ id: Int, metricsJSON: String) throws {
        try query("UPDATE rounds SET status = 'closed', closed_at = $1, metrics = $2 WHERE id = $3", [timestamp, metricsJSON, id])
    }

    func insertAutoLabels(_ labels: [AutoLabel]) throws {
        try insertRows("auto_labels", ["item_key", "label", "confidence", "round_id", "model_version", "audited"],
                       labels.map { [$0.itemKey, $0.label, $0.confidence, $0.roundID, $0.modelVersion, $0.audited] })
    }

    func ensureAnnotator(_ name: String, role: String) throws {
        try query("INSERT INTO annotators(name, role, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
                  [name, role, timestamp])
    }

    func insertAdjudication(itemKey: Int64, label: String, adjudicator: String) throws {
        try query("""
            INSERT INTO adjudications(item_key, label, adjudicator, at) VALUES ($1, $2, $3, $4)
            ON CONFLICT (item_key) DO UPDATE SET label = excluded.label, adjudicator = excluded.adjudicator, at = excluded.at
            """, [itemKey, label, adjudicator, timestamp])
    }

    func deleteAdjudication(itemKey: Int64) throws -> Bool {
        try query("DELETE FROM adjudications WHERE item_key = $1", [itemKey]).affected == 1
    }

    func setAnnotator(_ name: String, role: String) throws {
        try query("""
            INSERT INTO annotators(name, role, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET role = excluded.role
            """, [name, role, timestamp])
    }

    func setTokenHash(_ name: String, _ hash: String) throws {
        try query("UPDATE annotators SET token_hash = $1 WHERE name = $2", [hash, name])
    }

    func upsertConsensus(_ records: [ConsensusRecord]) throws {
        let now = timestamp
        try insertRows("consensus", ["item_key", "label", "confidence", "method", "answers", "is_dispute", "updated_at"],
                       Self.lastPerKey(records, key: \.itemKey).map { [$0.itemKey, $0.label, $0.confidence, $0.method, $0.answers, $0.isDispute, now] },
                       suffix: """
            ON CONFLICT (item_key) DO UPDATE SET label = excluded.label, confidence = excluded.confidence, method = excluded.method,
                answers = excluded.answers, is_dispute = excluded.is_dispute, updated_at = excluded.updated_at
            """)
    }

    func insertSnapshot(_ info: SnapshotInfo, rows: [SnapshotRow], rowHashes: [String]) throws {
        precondition(rows.count == rowHashes.count, "one digest per snapshot row")
        try query("""
            INSERT INTO snapshots(number, parent, hash, items, created_at, created_by, message, model_version, method, rounds,
                                  audit_seq, audit_hash)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
            """, [info.number, info.parent, info.hash, info.items, info.createdAt, info.createdBy,
                  info.message, info.modelVersion, info.consensusMethod,
                  info.rounds.map(String.init).joined(separator: ","), info.auditSeq, info.auditHash])
        try insertRows("snapshot_rows", ["snapshot", "item_id", "label", "source", "confidence", "split", "answers", "row_hash"],
                       zip(rows, rowHashes).map { row, digest in
                           [info.number, row.id, row.label, row.source.rawValue, row.confidence, row.split.rawValue,
                            StoreEncoding.encodeAnswers(row.answers), digest]
                       })
    }

    /// The chain's head is read and extended under the writer lock, so two
    /// writers never extend the same head (and a unique index on `prev_hash`
    /// would refuse a second successor anyway).
    func appendEvent(_ event: EventRecord) throws {
        let head = try eventHead()
        let previous = head?.hash ?? EventChain.genesis
        let at = timestamp
        let hash = EventChain.hash(previous: previous, at: at, event: event)
        try query("""
            INSERT INTO events(seq, at, kind, item_id, annotator, model_version, confidence, detail, prev_hash, hash)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            """, [(head?.seq ?? 0) + 1, at, event.kind, event.itemID, event.annotator, event.modelVersion, event.confidence,
                  event.detailJSON, previous, hash], prepared: true)
    }
}

/// An item staged but not yet sent.
struct PendingStage {
    var seq: Int64
    var batch: Int64
    var line: Int
    var item: NewItem
    var stagedAt: Double
}

/// Which ids a store has staged in each import batch, so that staging an id
/// it has not staged needs no look-up (see `PostgresSession.stage`). It holds
/// a hash of each id: a false match only costs a look-up. A batch is known
/// only when this store staged all of it (it had no rows when first seen);
/// batch ids are random per import, so no other process stages into one.
final class StagingMemory: @unchecked Sendable {
    private let lock = NIOLock()
    private var batches: [Int64: Set<Int>] = [:]
    private var foreign: Set<Int64> = []

    /// True when `id` is surely not staged in `batch` yet (and remembers it as
    /// staged); false when it may be. `hasRows` tells whether a batch first
    /// seen here already has rows (staged elsewhere).
    func isNew(_ id: String, batch: Int64, orAsk hasRows: () throws -> Bool) throws -> Bool {
        let state: Bool? = lock.withLock { foreign.contains(batch) ? false : (batches[batch] == nil ? nil : true) }
        if state == nil {
            let staged = try hasRows()
            lock.withLock {
                if staged { foreign.insert(batch) } else if batches[batch] == nil { batches[batch] = [] }
            }
        }
        return lock.withLock {
            guard !foreign.contains(batch) else { return false }
            return batches[batch, default: []].insert(id.hashValue).inserted
        }
    }

    /// The batch was published or dropped.
    func forget(_ batch: Int64) {
        lock.withLock {
            batches[batch] = nil
            foreign.remove(batch)
        }
    }
}
