import Crypto
import Foundation
import GRDB
import GRDBSQLite
import QuorumCore

extension SQLiteSession: StoreWriter {
    func setVectorDimension(_ d: Int) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO project(key, value) VALUES ('vector_dimension', ?)", arguments: [String(d)])
    }

    func setSetting(_ key: String, _ value: String) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO project(key, value) VALUES (?, ?)", arguments: [key, value])
    }

    /// The import hot path: binds straight to SQLite (no per-row argument
    /// boxing), which roughly doubles import throughput over `execute(arguments:)`.
    func insert(_ item: NewItem) throws -> InsertOutcome {
        let insert = try db.cachedStatement(sql: """
            INSERT INTO items(id, kind, content_hash, text, vector, meta, label) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(id) DO NOTHING
            """)
        let s = insert.sqliteStatement
        sqlite3_reset(s)
        Self.bind(s, 1, item.id)
        Self.bind(s, 2, item.kind.rawValue)
        sqlite3_bind_int64(s, 3, item.contentHash)
        Self.bind(s, 4, item.text)
        if let vector = item.vector {
            vector.withUnsafeBytes { raw in
                _ = sqlite3_bind_blob(s, 5, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(raw.count), SQLITE_TRANSIENT)
            }
        } else {
            sqlite3_bind_null(s, 5)
        }
        Self.bind(s, 6, item.metaJSON)
        Self.bind(s, 7, item.label)
        let rc = sqlite3_step(s)
        sqlite3_reset(s)
        guard rc == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
        if sqlite3_changes(db.sqliteConnection) == 1 { return .inserted }
        return try compareExisting(item, sql: "SELECT kind, content_hash, label FROM items WHERE id = ?", [item.id]) ?? .duplicate
    }

    func stage(_ item: NewItem, batch: Int64, line: Int) throws -> InsertOutcome {
        try db.cachedStatement(sql: """
            INSERT INTO staged_items(batch, line, id, kind, content_hash, text, vector, meta, label, staged_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(batch, id) DO NOTHING
            """).execute(arguments: [batch, line, item.id, item.kind.rawValue, item.contentHash, item.text,
                                     item.vector?.blob, item.metaJSON, item.label, now])
        if db.changesCount == 1 { return .inserted }
        // The id came earlier in the same file.
        return try compareExisting(item, sql: "SELECT kind, content_hash, label FROM staged_items WHERE batch = ? AND id = ?",
                                   [batch, item.id]) ?? .duplicate
    }

    /// The outcome of inserting `item` when a row with its id exists (nil when
    /// none does): a duplicate only with the same content, kind and label
    /// (compared byte-wise: ids and labels are NFC where they enter).
    private func compareExisting(_ item: NewItem, sql: String, _ arguments: StatementArguments) throws -> InsertOutcome? {
        guard let existing = try Row.fetchOne(db.cachedStatement(sql: sql), arguments: arguments) else { return nil }
        return StoreEncoding.compare(item, kind: ItemKind(rawValue: existing["kind"]) ?? .pool, hash: existing["content_hash"], label: existing["label"])
    }

    func stagedClashes(batch: Int64) throws -> (duplicates: Int, conflict: (line: Int, id: String, outcome: InsertOutcome)?) {
        let rows = try Row.fetchCursor(db, sql: """
            SELECT s.line, s.id, s.kind AS new_kind, s.content_hash AS new_hash, s.label AS new_label,
                   i.kind, i.content_hash, i.label
            FROM staged_items s JOIN items i ON i.id = s.id WHERE s.batch = ? ORDER BY s.seq
            """, arguments: [batch])
        var duplicates = 0
        while let row = try rows.next() {
            let newKind = ItemKind(rawValue: row["new_kind"]) ?? .pool
            let staged = NewItem(id: row["id"], kind: newKind, contentHash: row["new_hash"], text: nil, vector: nil,
                                 metaJSON: nil, label: row["new_label"])
            let outcome = StoreEncoding.compare(staged, kind: ItemKind(rawValue: row["kind"]) ?? .pool, hash: row["content_hash"], label: row["label"])
            guard outcome == .duplicate else { return (duplicates, (row["line"], staged.id, outcome)) }
            duplicates += 1
        }
        return (duplicates, nil)
    }

    func publishStaged(batch: Int64) throws -> Int {
        try db.execute(sql: """
            INSERT INTO items(id, kind, content_hash, text, vector, meta, label)
            SELECT id, kind, content_hash, text, vector, meta, label FROM staged_items s
            WHERE batch = ? AND NOT EXISTS (SELECT 1 FROM items i WHERE i.id = s.id) ORDER BY seq
            """, arguments: [batch])
        let published = db.changesCount
        // Usually the only batch: an unqualified DELETE truncates the table in one step.
        let others = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM staged_items WHERE batch <> ?)", arguments: [batch]) ?? false
        try db.execute(sql: others ? "DELETE FROM staged_items WHERE batch = ?" : "DELETE FROM staged_items",
                       arguments: others ? [batch] : [])
        return published
    }

    func dropStaged(batch: Int64, staleAfter: Double) throws {
        try db.execute(sql: "DELETE FROM staged_items WHERE batch = ? OR staged_at < ?",
                       arguments: [batch, now - staleAfter])
    }

    static func bind(_ s: SQLiteStatement, _ index: Int32, _ text: String?) {
        guard var text else { sqlite3_bind_null(s, index); return }
        text.withUTF8 { bytes in
            if bytes.isEmpty {
                _ = sqlite3_bind_text(s, index, "", 0, nil)
            } else {
                _ = bytes.withMemoryRebound(to: CChar.self) { sqlite3_bind_text(s, index, $0.baseAddress, Int32($0.count), SQLITE_TRANSIENT) }
            }
        }
    }

    func insertModel(_ model: ModelVersion) throws {
        if model.isLive { try db.execute(sql: "UPDATE model_versions SET is_live = 0 WHERE is_live = 1") }
        if model.isShadow { try db.execute(sql: "UPDATE model_versions SET is_shadow = 0 WHERE is_shadow = 1") }
        let seq = (try Int.fetchOne(db, sql: "SELECT MAX(seq) FROM model_versions") ?? 0) + 1
        try db.execute(sql: """
            INSERT INTO model_versions(id, seq, created_at, kind, settings, trained_on, metrics, state, is_live, is_shadow)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [model.id, seq, model.createdAt, model.kind, model.settingsJSON, model.trainedOn,
                             model.metricsJSON, Data(model.state), model.isLive, model.isShadow])
    }

    func promoteModel(_ id: String) throws {
        try db.execute(sql: "UPDATE model_versions SET is_live = 0 WHERE is_live = 1 AND id <> ?", arguments: [id])
        try db.execute(sql: "UPDATE model_versions SET is_live = 1, is_shadow = 0 WHERE id = ?", arguments: [id])
    }

    func nextModelID() throws -> String {
        "m\((try Int.fetchOne(db, sql: "SELECT MAX(seq) FROM model_versions") ?? 0) + 1)"
    }

    func insertPredictions(model: String, _ predictions: [Prediction]) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO predictions(model_id, item_key, probs, label, confidence, margin, entropy,
                                               vote_entropy, mean_kl, mutual_information)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for p in predictions {
            let m = p.measures
            try statement.execute(arguments: [model, p.itemKey, p.probabilities.blob, m?.label, m?.confidence, m?.margin,
                                              m?.entropy, m?.voteEntropy, m?.meanKL, m?.mutualInformation])
        }
    }

    func createRound(modelVersion: String?, overlap: Int, settingsJSON: String, picks: [TaskPick]) throws -> Int {
        try db.execute(sql: """
            INSERT INTO rounds(status, created_at, model_version, overlap, settings) VALUES ('open', ?, ?, ?, ?)
            """, arguments: [timestamp, modelVersion, overlap, settingsJSON])
        let round = Int(db.lastInsertedRowID)
        let statement = try db.cachedStatement(sql: """
            INSERT INTO tasks(round_id, item_key, strategy, score, rank, uncertainty, deadline, blind, needed)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for pick in picks {
            try statement.execute(arguments: [round, pick.itemKey, pick.strategy.rawValue, pick.score, pick.rank,
                                              pick.uncertainty, pick.deadline ?? StoreEncoding.noDeadline, pick.blind, overlap])
        }
        return round
    }

    func cancelRound(_ id: Int) throws {
        try db.execute(sql: "DELETE FROM claims WHERE task_id IN (SELECT id FROM tasks WHERE round_id = ?)", arguments: [id])
        try db.execute(sql: "DELETE FROM tasks WHERE round_id = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM auto_labels WHERE round_id = ?", arguments: [id])
        try db.execute(sql: "UPDATE rounds SET status = 'cancelled', closed_at = ? WHERE id = ?", arguments: [timestamp, id])
    }

    func closeRound(_ id: Int, metricsJSON: String) throws {
        try db.execute(sql: "UPDATE rounds SET status = 'closed', closed_at = ?, metrics = ? WHERE id = ?",
                       arguments: [timestamp, metricsJSON, id])
    }

    func insertAutoLabels(_ labels: [AutoLabel]) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO auto_labels(item_key, label, confidence, round_id, model_version, audited) VALUES (?, ?, ?, ?, ?, ?)
            """)
        for a in labels {
            try statement.execute(arguments: [a.itemKey, a.label, a.confidence, a.roundID, a.modelVersion, a.audited])
        }
    }

    func ensureAnnotator(_ name: String, role: String) throws {
        try db.execute(sql: "INSERT INTO annotators(name, role, created_at) VALUES (?, ?, ?) ON CONFLICT(name) DO NOTHING",
                       arguments: [name, role, timestamp])
    }

    func insertAdjudication(itemKey: Int64, label: String, adjudicator: String) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO adjudications(item_key, label, adjudicator, at) VALUES (?, ?, ?, ?)",
                       arguments: [itemKey, label, adjudicator, timestamp])
    }

    func deleteAdjudication(itemKey: Int64) throws -> Bool {
        try db.execute(sql: "DELETE FROM adjudications WHERE item_key = ?", arguments: [itemKey])
        return db.changesCount == 1
    }

    func setAnnotator(_ name: String, role: String) throws {
        try db.execute(sql: """
            INSERT INTO annotators(name, role, created_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET role = excluded.role
            """, arguments: [name, role, timestamp])
    }

    func setTokenHash(_ name: String, _ hash: String) throws {
        try db.execute(sql: "UPDATE annotators SET token_hash = ? WHERE name = ?", arguments: [hash, name])
    }

    func upsertConsensus(_ records: [ConsensusRecord]) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO consensus(item_key, label, confidence, method, answers, is_dispute, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """)
        let now = timestamp
        for r in records {
            try statement.execute(arguments: [r.itemKey, r.label, r.confidence, r.method, r.answers, r.isDispute, now])
        }
    }

    func insertSnapshot(_ info: SnapshotInfo, rows: [SnapshotRow], rowHashes: [String]) throws {
        precondition(rows.count == rowHashes.count, "one digest per snapshot row")
        try db.execute(sql: """
            INSERT INTO snapshots(number, parent, hash, items, created_at, created_by, message, model_version, method, rounds,
                                  audit_seq, audit_hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [info.number, info.parent, info.hash, info.items, info.createdAt, info.createdBy,
                             info.message, info.modelVersion, info.consensusMethod,
                             info.rounds.map(String.init).joined(separator: ","), info.auditSeq, info.auditHash])
        let statement = try db.cachedStatement(sql: """
            INSERT INTO snapshot_rows(snapshot, item_id, label, source, confidence, split, answers, row_hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for (row, digest) in zip(rows, rowHashes) {
            try statement.execute(arguments: [info.number, row.id, row.label, row.source.rawValue, row.confidence,
                                              row.split.rawValue, StoreEncoding.encodeAnswers(row.answers), digest])
        }
    }

    func appendEvent(_ event: EventRecord) throws {
        let previous = try String.fetchOne(db, sql: "SELECT hash FROM events ORDER BY seq DESC LIMIT 1") ?? EventChain.genesis
        let at = timestamp
        let hash = EventChain.hash(previous: previous, at: at, event: event)
        try db.execute(sql: """
            INSERT INTO events(at, kind, item_id, annotator, model_version, confidence, detail, prev_hash, hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [at, event.kind, event.itemID, event.annotator, event.modelVersion, event.confidence,
                             event.detailJSON, previous, hash])
    }
}

/// The event log's hash chain: each entry's SHA-256 covers the previous
/// entry's hash and every field of its own, so an edit or a deletion breaks
/// every hash after it.
public enum EventChain {
    /// The `prev_hash` of the first event.
    public static let genesis = String(repeating: "0", count: 64)

    /// Why a log fails verification, naming the first event that does not check out.
    public enum Break: Equatable, Sendable {
        /// The event's fields no longer produce its hash: it was edited.
        case edited(seq: Int64, kind: String)
        /// The event does not follow the one before it: events were deleted, inserted or reordered.
        case unlinked(seq: Int64, expectedPrevious: String)
        /// The sequence numbers jump: events were deleted.
        case gap(after: Int64, next: Int64)
    }

    /// Checks every link and every hash of the whole log, in order.
    ///
    /// - Complexity: O(events).
    public static func verify(_ events: [StoredEvent]) -> Break? {
        var previous = genesis
        var lastSeq: Int64 = 0
        for e in events {
            if e.seq != lastSeq + 1 { return .gap(after: lastSeq, next: e.seq) }
            if e.previousHash != previous { return .unlinked(seq: e.seq, expectedPrevious: previous) }
            if hash(previous: e.previousHash, at: e.at, event: e.event) != e.hash { return .edited(seq: e.seq, kind: e.event.kind) }
            previous = e.hash
            lastSeq = e.seq
        }
        return nil
    }

    public static func hash(previous: String, at: String, event: EventRecord) -> String {
        let fields: [JSONValue] = [
            .string(previous), .string(at), .string(event.kind), .text(event.itemID), .text(event.annotator),
            .text(event.modelVersion), .number(event.confidence), .string(event.detailJSON),
        ]
        let digest = SHA256.hash(data: Array(JSONValue.array(fields).serialized().utf8))
        return hexString(digest)
    }
}

/// SQLite's "copy the bytes now" destructor, which does not import into Swift as a constant.
let SQLITE_TRANSIENT = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
