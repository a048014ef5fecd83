import Foundation
import QuorumCore
import QuorumStore

/// One transaction's view of the PostgreSQL store: the queries. Each is
/// SQLite's (`SQLiteSession`) in PostgreSQL's dialect, with the same results
/// in the same order; where SQLite's order among equal sort keys follows its
/// scan order, the query names that tie-breaker explicitly.
final class PostgresSession: StoreReader {
    let link: Link
    /// Which ids the store has staged (see `stage`).
    let staging: StagingMemory
    /// Staged items not yet sent (see `stage`), flushed before any other statement.
    var pendingStage: [PendingStage] = []
    /// The next `seq` of staged_items, once known in this transaction.
    var stageSeq: Int64?

    let now: Double
    /// `now` as recorded in rows.
    let timestamp: String

    init(link: Link, staging: StagingMemory, clock: Clock) {
        self.link = link
        self.staging = staging
        self.now = clock.now()
        self.timestamp = Timestamp.format(now)
    }

    /// Runs one statement of this transaction (after any staged rows still to send).
    /// A `prepared` statement is parsed and planned once per connection (see
    /// `Link.query(_:_:prepared:)`): for the hot statements of the labelling
    /// loop, whose planning cost the server more than running them.
    @discardableResult
    func query(_ sql: String, _ arguments: [any SQLBindable] = [], prepared: Bool = false) throws -> SQLResult {
        if !pendingStage.isEmpty { try flushStaged() }
        return prepared ? try link.query(sql, arguments, prepared: true) : try link.query(sql, arguments)
    }

    func rows(_ sql: String, _ arguments: [any SQLBindable] = [], prepared: Bool = false) throws -> [SQLRow] {
        try query(sql, arguments, prepared: prepared).all
    }

    func row(_ sql: String, _ arguments: [any SQLBindable] = [], prepared: Bool = false) throws -> SQLRow? {
        try query(sql, arguments, prepared: prepared).first
    }

    /// The first column of the first row (nil when there is no row or it is NULL).
    func value<T: SQLDecodable>(_ sql: String, _ arguments: [any SQLBindable] = [], as type: T.Type = T.self,
                                prepared: Bool = false) throws -> T? {
        try row(sql, arguments, prepared: prepared).flatMap { try $0[0, as: T?.self] }
    }

    /// Called before COMMIT: sends what is still buffered.
    func finish() throws {
        if !pendingStage.isEmpty { try flushStaged() }
    }

    func project() throws -> ProjectInfo {
        var values: [String: String] = [:]
        for row in try rows("SELECT key, value FROM project") {
            values[try row["key"]] = try row["value"]
        }
        let names: [String] = try rows("SELECT name FROM labels ORDER BY position").map { try $0[0] }
        return ProjectInfo(name: values["name"] ?? "", labels: try LabelSet(names),
                           vectorDimension: values["vector_dimension"].flatMap { Int($0) },
                           createdAt: values["created_at"] ?? "", ordered: values["ordered"] == "1",
                           task: try TaskType.stored(values[TaskType.projectKey]))
    }

    func setting(_ key: String) throws -> String? {
        try value("SELECT value FROM project WHERE key = $1", [key], prepared: true)
    }

    func counts() throws -> ProjectCounts {
        var items: [ItemKind: Int] = [:]
        for kind in ItemKind.allCases { items[kind] = 0 }
        for row in try rows("SELECT kind, COUNT(*) AS n FROM items GROUP BY kind") {
            if let kind = ItemKind(rawValue: try row["kind"]) { items[kind] = try row["n"] }
        }
        let openTasks: Int = try value("""
            SELECT COUNT(*) FROM tasks t JOIN rounds r ON r.id = t.round_id
            WHERE r.status = 'open' AND t.done < t.needed
            """) ?? 0
        return ProjectCounts(
            items: items, openTasks: openTasks,
            rounds: try value("SELECT COUNT(*) FROM rounds") ?? 0,
            snapshots: try value("SELECT COUNT(*) FROM snapshots") ?? 0,
            answers: try value("SELECT COUNT(*) FROM answers") ?? 0,
            consensus: try value("SELECT COUNT(*) FROM consensus WHERE NOT is_dispute") ?? 0)
    }

    func contentDuplicates(keysAbove key: Int64) throws -> Int {
        try value("""
            SELECT COUNT(*) FROM items n WHERE n.key > $1
              AND EXISTS (SELECT 1 FROM items o WHERE o.content_hash = n.content_hash AND o.key <> n.key)
            """, [key]) ?? 0
    }

    func lastItemKey() throws -> Int64 {
        try value("SELECT COALESCE(MAX(key), 0) FROM items") ?? 0
    }

    static let itemColumns = "key, id, kind, content_hash, text, vector, meta, label"
    static let itemColumnsQualified = "i.key, i.id, i.kind, i.content_hash, i.text, i.vector, i.meta, i.label"

    static func item(_ row: SQLRow) throws -> StoredItem {
        let vector = try row["vector", as: Data?.self]
        return StoredItem(key: try row["key"], id: try row["id"], kind: ItemKind(rawValue: try row["kind"]) ?? .pool,
                          contentHash: try row["content_hash"], text: try row["text"],
                          vector: vector.map(StoreEncoding.floats), metaJSON: try row["meta"], label: try row["label"])
    }

    func items(kinds: [ItemKind]) throws -> [StoredItem] {
        try rows("SELECT \(Self.itemColumns) FROM items WHERE kind = ANY($1) ORDER BY key", [kinds.map(\.rawValue)]).map(Self.item)
    }

    func items(keys: [Int64]) throws -> [StoredItem] {
        guard !keys.isEmpty else { return [] }
        return try rows("SELECT \(Self.itemColumns) FROM items WHERE key = ANY($1) ORDER BY key", [keys]).map(Self.item)
    }

    static func model(_ row: SQLRow) throws -> ModelVersion {
        let state: Data = try row["state"]
        return ModelVersion(id: try row["id"], createdAt: try row["created_at"], kind: try row["kind"], settingsJSON: try row["settings"],
                            trainedOn: try row["trained_on"], metricsJSON: try row["metrics"], state: [UInt8](state),
                            isLive: try row["is_live"], isShadow: try row["is_shadow"])
    }

    func liveModel() throws -> ModelVersion? {
        try row("SELECT * FROM model_versions WHERE is_live").map(Self.model)
    }

    func latestAdjudication(adjudicator: String) throws -> Int64? {
        // SQLite's rowid of adjudications is its INTEGER PRIMARY KEY, item_key.
        try value("SELECT item_key FROM adjudications WHERE adjudicator = $1 ORDER BY at DESC, item_key DESC LIMIT 1", [adjudicator])
    }

    func itemKey(id: String) throws -> Int64? {
        try value("SELECT key FROM items WHERE id = $1", [id])
    }

    func liveModelID() throws -> String? {
        try value("SELECT id FROM model_versions WHERE is_live")
    }

    func shadowModel() throws -> ModelVersion? {
        try row("SELECT * FROM model_versions WHERE is_shadow").map(Self.model)
    }

    func models() throws -> [ModelVersion] {
        try rows("SELECT * FROM model_versions ORDER BY seq").map(Self.model)
    }

    func predictions(model: String) throws -> [Int64: Prediction] {
        var out: [Int64: Prediction] = [:]
        for row in try rows("SELECT * FROM predictions WHERE model_id = $1", [model]) {
            let key: Int64 = try row["item_key"]
            var measures: PredictionMeasures?
            if let label = try row["label", as: Int?.self] {
                func float(_ column: String) throws -> Float { Float(try row[column, as: Double?.self] ?? 0) }
                measures = PredictionMeasures(label: label, confidence: try float("confidence"), margin: try float("margin"),
                                              entropy: try float("entropy"), voteEntropy: try float("vote_entropy"),
                                              meanKL: try float("mean_kl"), mutualInformation: try float("mutual_information"))
            }
            out[key] = Prediction(itemKey: key, probabilities: StoreEncoding.floats(try row["probs"]), measures: measures)
        }
        return out
    }

    func autoLabels() throws -> [Int64: AutoLabel] {
        var out: [Int64: AutoLabel] = [:]
        for row in try rows("SELECT * FROM auto_labels") {
            let a = AutoLabel(itemKey: try row["item_key"], label: try row["label"], confidence: try row["confidence"],
                              roundID: try row["round_id"], modelVersion: try row["model_version"], audited: try row["audited"])
            out[a.itemKey] = a
        }
        return out
    }

    static func round(_ row: SQLRow) throws -> RoundRecord {
        RoundRecord(id: try row["id"], status: RoundRecord.Status(rawValue: try row["status"]) ?? .open,
                    createdAt: try row["created_at"], closedAt: try row["closed_at"], modelVersion: try row["model_version"],
                    overlap: try row["overlap"], settingsJSON: try row["settings"], metricsJSON: try row["metrics"])
    }

    func rounds() throws -> [RoundRecord] {
        try rows("SELECT * FROM rounds ORDER BY id").map(Self.round)
    }

    /// The columns a `RoundRecord` is read from (named, so that a prepared statement's result never changes shape).
    static let roundColumns = "id, status, created_at, closed_at, model_version, overlap, settings, metrics"

    func openRound() throws -> RoundRecord? {
        try row("SELECT \(Self.roundColumns) FROM rounds WHERE status = 'open' ORDER BY id DESC LIMIT 1", prepared: true).map(Self.round)
    }

    func round(_ id: Int) throws -> RoundRecord? {
        try row("SELECT * FROM rounds WHERE id = $1", [id]).map(Self.round)
    }

    func taskedItemKeys() throws -> Set<Int64> {
        Set(try rows("SELECT DISTINCT item_key FROM tasks").map { try $0[0] })
    }

    func picks(round: Int) throws -> [(itemID: String, pick: TaskPick)] {
        try rows("""
            SELECT i.id, t.item_key, t.strategy, t.score, t.rank, t.uncertainty, t.deadline, t.blind
            FROM tasks t JOIN items i ON i.key = t.item_key
            WHERE t.round_id = $1 ORDER BY t.strategy, t.rank, t.id
            """, [round]).map { row in
            let deadline: Double = try row["deadline"]
            let stored: String = try row["strategy"]
            let id: String = try row["id"]
            guard let strategy = PickReason(rawValue: stored) else {
                throw QuorumError(.failedCheck, "round \(round): the task for item \(id) has an unknown strategy \"\(stored)\"",
                                  hint: "the database was changed outside Quorum; run `quorum audit verify`")
            }
            return (id, TaskPick(itemKey: try row["item_key"], strategy: strategy, score: try row["score"], rank: try row["rank"],
                                 uncertainty: try row["uncertainty"], deadline: deadline < 1e300 ? deadline : nil,
                                 blind: try row["blind"]))
        }
    }

    func answers(round: Int?) throws -> [AnswerRecord] {
        try answers(where: round == nil ? "" : "WHERE t.round_id = $1", round.map { [$0] } ?? [])
    }

    func answer(_ id: Int64) throws -> AnswerRecord? {
        try answers(where: "WHERE a.id = $1", [id]).first
    }

    func answers(itemKey: Int64) throws -> [AnswerRecord] {
        try answers(where: "WHERE t.item_key = $1", [itemKey])
    }

    func latestAnswer(round: Int, annotator: String) throws -> AnswerRecord? {
        try value("""
            SELECT MAX(a.id) FROM answers a JOIN tasks t ON t.id = a.task_id WHERE t.round_id = $1 AND a.annotator = $2
            """, [round, annotator], as: Int64.self).flatMap { try answer($0) }
    }

    func answerCount(round: Int, annotator: String) throws -> Int {
        // The annotator's answers (index answers_by_annotator), each one's task looked up by its key: every
        // answer has exactly one task (a NOT NULL foreign key), so this counts what the join with tasks counted,
        // without reading the round's every task.
        try value("""
            SELECT COUNT(*) FROM answers a
            WHERE a.annotator = $2 AND (a.label IS NOT NULL OR a.flagged)
              AND (SELECT t.round_id FROM tasks t WHERE t.id = a.task_id) = $1
            """, [round, annotator], prepared: true) ?? 0
    }

    private func answers(where filter: String, _ arguments: [any SQLBindable]) throws -> [AnswerRecord] {
        try rows("""
            SELECT a.id, a.task_id, t.round_id, t.item_key, i.id AS item_id, a.annotator, a.label, a.seconds, a.note, a.flagged, t.blind
            FROM answers a JOIN tasks t ON t.id = a.task_id JOIN items i ON i.key = t.item_key
            \(filter) ORDER BY a.id
            """, arguments).map { row in
            AnswerRecord(answerID: try row["id"], taskID: try row["task_id"], roundID: try row["round_id"], itemKey: try row["item_key"],
                         itemID: try row["item_id"], annotator: try row["annotator"], label: try row["label"],
                         seconds: try row["seconds"], note: try row["note"], flagged: try row["flagged"], blind: try row["blind"])
        }
    }

    func consensus() throws -> [Int64: ConsensusRecord] {
        var out: [Int64: ConsensusRecord] = [:]
        for row in try rows("SELECT * FROM consensus") {
            let r = ConsensusRecord(itemKey: try row["item_key"], label: try row["label"], confidence: try row["confidence"],
                                    method: try row["method"], answers: try row["answers"], isDispute: try row["is_dispute"])
            out[r.itemKey] = r
        }
        return out
    }

    func events(itemID: String?) throws -> [StoredEvent] {
        try events(where: itemID == nil ? "" : "WHERE item_id = $1", itemID.map { [$0] } ?? [])
    }

    func events(kinds: [String]) throws -> [StoredEvent] {
        guard !kinds.isEmpty else { return [] }
        return try events(where: "WHERE kind IN (\(kinds.indices.map { "$\($0 + 1)" }.joined(separator: ", ")))", kinds)
    }

    private func events(where filter: String, _ arguments: [any SQLBindable]) throws -> [StoredEvent] {
        try rows("SELECT * FROM events \(filter) ORDER BY seq", arguments).map { row in
            StoredEvent(seq: try row["seq"], at: try row["at"],
                        event: EventRecord(kind: try row["kind"], itemID: try row["item_id"], annotator: try row["annotator"],
                                           modelVersion: try row["model_version"], confidence: try row["confidence"],
                                           detailJSON: try row["detail"]),
                        previousHash: try row["prev_hash"], hash: try row["hash"])
        }
    }

    func adjudications() throws -> [Int64: (label: String, adjudicator: String)] {
        var out: [Int64: (label: String, adjudicator: String)] = [:]
        for row in try rows("SELECT item_key, label, adjudicator FROM adjudications") {
            out[try row["item_key"]] = (try row["label"], try row["adjudicator"])
        }
        return out
    }

    func annotators() throws -> [(name: String, role: String)] {
        try rows("SELECT name, role FROM annotators ORDER BY name").map { (try $0["name"], try $0["role"]) }
    }

    func annotator(tokenHash hash: String) throws -> (name: String, role: String)? {
        try row("SELECT name, role FROM annotators WHERE token_hash = $1", [hash], prepared: true).map { (try $0["name"], try $0["role"]) }
    }

    static func snapshot(_ row: SQLRow) throws -> SnapshotInfo {
        let rounds: String = try row["rounds"]
        var info = SnapshotInfo(number: try row["number"], parent: try row["parent"], hash: try row["hash"], items: try row["items"],
                                createdAt: try row["created_at"], createdBy: try row["created_by"], message: try row["message"],
                                modelVersion: try row["model_version"], consensusMethod: try row["method"],
                                rounds: rounds.split(separator: ",").compactMap { Int($0) })
        info.auditSeq = try row["audit_seq"]
        info.auditHash = try row["audit_hash"]
        return info
    }

    func eventHead() throws -> (seq: Int64, hash: String)? {
        try row("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1", prepared: true).map { (try $0["seq"], try $0["hash"]) }
    }

    func snapshots() throws -> [SnapshotInfo] {
        try rows("SELECT * FROM snapshots ORDER BY number").map(Self.snapshot)
    }

    func snapshot(number: Int) throws -> SnapshotInfo? {
        try row("SELECT * FROM snapshots WHERE number = $1", [number]).map(Self.snapshot)
    }

    func snapshotRowHashes(number: Int) throws -> [String: String] {
        var out: [String: String] = [:]
        for row in try rows("SELECT item_id, row_hash FROM snapshot_rows WHERE snapshot = $1", [number]) {
            if let hash = try row["row_hash", as: String?.self] { out[try row["item_id"]] = hash }
        }
        return out
    }

    func snapshotRows(number: Int) throws -> [SnapshotRow] {
        try rows("SELECT * FROM snapshot_rows WHERE snapshot = $1 ORDER BY item_id", [number]).map { row in
            SnapshotRow(id: try row["item_id"], label: try row["label"],
                        source: LabelSource(rawValue: try row["source"]) ?? .consensus,
                        confidence: try row["confidence"], split: Split(rawValue: try row["split"]) ?? .train,
                        answers: StoreEncoding.decodeAnswers(try row["answers"]))
        }
    }
}
