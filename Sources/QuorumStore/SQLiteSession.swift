import Foundation
import GRDB
import QuorumCore

/// One transaction's view of the SQLite store: the queries.
struct SQLiteSession: StoreReader {
    let db: Database
    let now: Double
    /// `now` as recorded in rows.
    let timestamp: String

    init(db: Database, clock: Clock) {
        self.db = db
        self.now = clock.now()
        self.timestamp = Timestamp.format(now)
    }

    func project() throws -> ProjectInfo {
        var values: [String: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT key, value FROM project") {
            values[row["key"]] = row["value"]
        }
        let names = try String.fetchAll(db, sql: "SELECT name FROM labels ORDER BY position")
        return ProjectInfo(name: values["name"] ?? "", labels: try LabelSet(names),
                           vectorDimension: values["vector_dimension"].flatMap { Int($0) },
                           createdAt: values["created_at"] ?? "", ordered: values["ordered"] == "1",
                           task: try TaskType.stored(values[TaskType.projectKey]))
    }

    func setting(_ key: String) throws -> String? {
        try String.fetchOne(db, sql: "SELECT value FROM project WHERE key = ?", arguments: [key])
    }

    func counts() throws -> ProjectCounts {
        var items: [ItemKind: Int] = [:]
        for kind in ItemKind.allCases { items[kind] = 0 }
        for row in try Row.fetchAll(db, sql: "SELECT kind, COUNT(*) AS n FROM items GROUP BY kind") {
            if let kind = ItemKind(rawValue: row["kind"]) { items[kind] = row["n"] }
        }
        let openTasks = try Int.fetchOne(db, sql: """
            SELECT COUNT(*) FROM tasks t JOIN rounds r ON r.id = t.round_id
            WHERE r.status = 'open' AND t.done < t.needed
            """) ?? 0
        return ProjectCounts(
            items: items, openTasks: openTasks,
            rounds: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM rounds") ?? 0,
            snapshots: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM snapshots") ?? 0,
            answers: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM answers") ?? 0,
            consensus: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM consensus WHERE is_dispute = 0") ?? 0)
    }

    func contentDuplicates(keysAbove key: Int64) throws -> Int {
        try Int.fetchOne(db, sql: """
            SELECT COUNT(*) FROM items n WHERE n.key > ?
              AND EXISTS (SELECT 1 FROM items o WHERE o.content_hash = n.content_hash AND o.key != n.key)
            """, arguments: [key]) ?? 0
    }

    func lastItemKey() throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(key), 0) FROM items") ?? 0
    }

    static let itemColumns = "key, id, kind, content_hash, text, vector, meta, label"
    static let itemColumnsQualified = "i.key, i.id, i.kind, i.content_hash, i.text, i.vector, i.meta, i.label"

    static func item(_ row: Row) -> StoredItem {
        let vector: Data? = row["vector"]
        return StoredItem(key: row["key"], id: row["id"], kind: ItemKind(rawValue: row["kind"]) ?? .pool,
                          contentHash: row["content_hash"], text: row["text"],
                          vector: vector.map { [Float](blob: $0) }, metaJSON: row["meta"], label: row["label"])
    }

    func items(kinds: [ItemKind]) throws -> [StoredItem] {
        let placeholders = kinds.map { _ in "?" }.joined(separator: ",")
        let cursor = try Row.fetchCursor(db, sql: "SELECT \(Self.itemColumns) FROM items WHERE kind IN (\(placeholders)) ORDER BY key",
                                         arguments: StatementArguments(kinds.map(\.rawValue)))
        var out: [StoredItem] = []
        while let row = try cursor.next() { out.append(Self.item(row)) }
        return out
    }

    func items(keys: [Int64]) throws -> [StoredItem] {
        var out: [StoredItem] = []
        let sorted = keys.sorted()
        var start = 0
        while start < sorted.count {   // in chunks, under SQLite's limit on bound variables
            let chunk = sorted[start..<min(start + 10_000, sorted.count)]
            let placeholders = chunk.map { _ in "?" }.joined(separator: ",")
            out += try Row.fetchAll(db, sql: "SELECT \(Self.itemColumns) FROM items WHERE key IN (\(placeholders)) ORDER BY key",
                                    arguments: StatementArguments(Array(chunk))).map(Self.item)
            start += chunk.count
        }
        return out
    }

    static func model(_ row: Row) -> ModelVersion {
        let state: Data = row["state"]
        return ModelVersion(id: row["id"], createdAt: row["created_at"], kind: row["kind"], settingsJSON: row["settings"],
                            trainedOn: row["trained_on"], metricsJSON: row["metrics"], state: [UInt8](state),
                            isLive: row["is_live"], isShadow: row["is_shadow"])
    }

    func liveModel() throws -> ModelVersion? {
        try Row.fetchOne(db, sql: "SELECT * FROM model_versions WHERE is_live = 1").map(Self.model)
    }

    func latestAdjudication(adjudicator: String) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT item_key FROM adjudications WHERE adjudicator = ? ORDER BY at DESC, rowid DESC LIMIT 1",
                           arguments: [adjudicator])
    }

    func itemKey(id: String) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT key FROM items WHERE id = ?", arguments: [id])
    }

    func liveModelID() throws -> String? {
        try String.fetchOne(db, sql: "SELECT id FROM model_versions WHERE is_live = 1")
    }

    func shadowModel() throws -> ModelVersion? {
        try Row.fetchOne(db, sql: "SELECT * FROM model_versions WHERE is_shadow = 1").map(Self.model)
    }

    func models() throws -> [ModelVersion] {
        try Row.fetchAll(db, sql: "SELECT * FROM model_versions ORDER BY seq").map(Self.model)
    }

    func predictions(model: String) throws -> [Int64: Prediction] {
        var out: [Int64: Prediction] = [:]
        let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM predictions WHERE model_id = ?", arguments: [model])
        while let row = try cursor.next() {
            let blob: Data = row["probs"]
            let key: Int64 = row["item_key"]
            var measures: PredictionMeasures?
            if let label: Int = row["label"] {
                measures = PredictionMeasures(label: label, confidence: row["confidence"], margin: row["margin"],
                                              entropy: row["entropy"], voteEntropy: row["vote_entropy"],
                                              meanKL: row["mean_kl"], mutualInformation: row["mutual_information"])
            }
            out[key] = Prediction(itemKey: key, probabilities: [Float](blob: blob), measures: measures)
        }
        return out
    }

    func autoLabels() throws -> [Int64: AutoLabel] {
        var out: [Int64: AutoLabel] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT * FROM auto_labels") {
            let a = AutoLabel(itemKey: row["item_key"], label: row["label"], confidence: row["confidence"],
                              roundID: row["round_id"], modelVersion: row["model_version"], audited: row["audited"])
            out[a.itemKey] = a
        }
        return out
    }

    static func round(_ row: Row) -> RoundRecord {
        RoundRecord(id: row["id"], status: RoundRecord.Status(rawValue: row["status"]) ?? .open,
                    createdAt: row["created_at"], closedAt: row["closed_at"], modelVersion: row["model_version"],
                    overlap: row["overlap"], settingsJSON: row["settings"], metricsJSON: row["metrics"])
    }

    func rounds() throws -> [RoundRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM rounds ORDER BY id").map(Self.round)
    }

    func openRound() throws -> RoundRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM rounds WHERE status = 'open' ORDER BY id DESC LIMIT 1").map(Self.round)
    }

    func round(_ id: Int) throws -> RoundRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM rounds WHERE id = ?", arguments: [id]).map(Self.round)
    }

    func taskedItemKeys() throws -> Set<Int64> {
        Set(try Int64.fetchAll(db, sql: "SELECT DISTINCT item_key FROM tasks"))
    }

    func picks(round: Int) throws -> [(itemID: String, pick: TaskPick)] {
        try Row.fetchAll(db, sql: """
            SELECT i.id, t.item_key, t.strategy, t.score, t.rank, t.uncertainty, t.deadline, t.blind
            FROM tasks t JOIN items i ON i.key = t.item_key
            WHERE t.round_id = ? ORDER BY t.strategy, t.rank
            """, arguments: [round]).map { row in
            let deadline: Double = row["deadline"]
            let stored: String = row["strategy"]
            guard let strategy = PickReason(rawValue: stored) else {
                throw QuorumError(.failedCheck, "round \(round): the task for item \(row["id"] as String) has an unknown strategy \"\(stored)\"",
                                  hint: "the database was changed outside Quorum; run `quorum audit verify`")
            }
            return (row["id"], TaskPick(itemKey: row["item_key"], strategy: strategy, score: row["score"], rank: row["rank"],
                                        uncertainty: row["uncertainty"], deadline: deadline < 1e300 ? deadline : nil,
                                        blind: row["blind"]))
        }
    }

    func answers(round: Int?) throws -> [AnswerRecord] {
        try answers(where: round == nil ? "" : "WHERE t.round_id = ?", round.map { [$0] } ?? [])
    }

    func answer(_ id: Int64) throws -> AnswerRecord? {
        try answers(where: "WHERE a.id = ?", [id]).first
    }

    func answers(itemKey: Int64) throws -> [AnswerRecord] {
        try answers(where: "WHERE t.item_key = ?", [itemKey])
    }

    func latestAnswer(round: Int, annotator: String) throws -> AnswerRecord? {
        try Int64.fetchOne(db, sql: """
            SELECT MAX(a.id) FROM answers a JOIN tasks t ON t.id = a.task_id WHERE t.round_id = ? AND a.annotator = ?
            """, arguments: [round, annotator]).flatMap { try answer($0) }
    }

    func answerCount(round: Int, annotator: String) throws -> Int {
        try Int.fetchOne(db, sql: """
            SELECT COUNT(*) FROM answers a JOIN tasks t ON t.id = a.task_id
            WHERE t.round_id = ? AND a.annotator = ? AND (a.label IS NOT NULL OR a.flagged)
            """, arguments: [round, annotator]) ?? 0
    }

    private func answers(where filter: String, _ arguments: StatementArguments) throws -> [AnswerRecord] {
        try Row.fetchAll(db, sql: """
            SELECT a.id, a.task_id, t.round_id, t.item_key, i.id AS item_id, a.annotator, a.label, a.seconds, a.note, a.flagged, t.blind
            FROM answers a JOIN tasks t ON t.id = a.task_id JOIN items i ON i.key = t.item_key
            \(filter) ORDER BY a.id
            """, arguments: arguments).map { row in
            AnswerRecord(answerID: row["id"], taskID: row["task_id"], roundID: row["round_id"], itemKey: row["item_key"],
                         itemID: row["item_id"], annotator: row["annotator"], label: row["label"],
                         seconds: row["seconds"], note: row["note"], flagged: row["flagged"], blind: row["blind"])
        }
    }

    func consensus() throws -> [Int64: ConsensusRecord] {
        var out: [Int64: ConsensusRecord] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT * FROM consensus") {
            let r = ConsensusRecord(itemKey: row["item_key"], label: row["label"], confidence: row["confidence"],
                                    method: row["method"], answers: row["answers"], isDispute: row["is_dispute"])
            out[r.itemKey] = r
        }
        return out
    }

    func events(itemID: String?) throws -> [StoredEvent] {
        try events(where: itemID == nil ? "" : "WHERE item_id = ?", itemID.map { [$0] } ?? [])
    }

    func events(kinds: [String]) throws -> [StoredEvent] {
        guard !kinds.isEmpty else { return [] }
        return try events(where: "WHERE kind IN (\(kinds.map { _ in "?" }.joined(separator: ", ")))", StatementArguments(kinds))
    }

    private func events(where filter: String, _ arguments: StatementArguments) throws -> [StoredEvent] {
        try Row.fetchAll(db, sql: "SELECT * FROM events \(filter) ORDER BY seq", arguments: arguments).map { row in
            StoredEvent(seq: row["seq"], at: row["at"],
                        event: EventRecord(kind: row["kind"], itemID: row["item_id"], annotator: row["annotator"],
                                           modelVersion: row["model_version"], confidence: row["confidence"],
                                           detailJSON: row["detail"]),
                        previousHash: row["prev_hash"], hash: row["hash"])
        }
    }

    func adjudications() throws -> [Int64: (label: String, adjudicator: String)] {
        var out: [Int64: (label: String, adjudicator: String)] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT item_key, label, adjudicator FROM adjudications") {
            out[row["item_key"]] = (row["label"], row["adjudicator"])
        }
        return out
    }

    func annotators() throws -> [(name: String, role: String)] {
        try Row.fetchAll(db, sql: "SELECT name, role FROM annotators ORDER BY name").map { ($0["name"], $0["role"]) }
    }

    func annotator(tokenHash hash: String) throws -> (name: String, role: String)? {
        try Row.fetchOne(db, sql: "SELECT name, role FROM annotators WHERE token_hash = ?", arguments: [hash]).map { ($0["name"], $0["role"]) }
    }

    static func snapshot(_ row: Row) -> SnapshotInfo {
        let rounds: String = row["rounds"]
        var info = SnapshotInfo(number: row["number"], parent: row["parent"], hash: row["hash"], items: row["items"],
                            createdAt: row["created_at"], createdBy: row["created_by"], message: row["message"],
                            modelVersion: row["model_version"], consensusMethod: row["method"],
                            rounds: rounds.split(separator: ",").compactMap { Int($0) })
        info.auditSeq = row["audit_seq"]
        info.auditHash = row["audit_hash"]
        return info
    }

    func eventHead() throws -> (seq: Int64, hash: String)? {
        try Row.fetchOne(db, sql: "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").map { ($0["seq"], $0["hash"]) }
    }

    func snapshots() throws -> [SnapshotInfo] {
        try Row.fetchAll(db, sql: "SELECT * FROM snapshots ORDER BY number").map(Self.snapshot)
    }

    func snapshot(number: Int) throws -> SnapshotInfo? {
        try Row.fetchOne(db, sql: "SELECT * FROM snapshots WHERE number = ?", arguments: [number]).map(Self.snapshot)
    }

    func snapshotRowHashes(number: Int) throws -> [String: String] {
        var out: [String: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT item_id, row_hash FROM snapshot_rows WHERE snapshot = ?", arguments: [number]) {
            if let hash: String = row["row_hash"] { out[row["item_id"]] = hash }
        }
        return out
    }

    func snapshotRows(number: Int) throws -> [SnapshotRow] {
        try Row.fetchAll(db, sql: "SELECT * FROM snapshot_rows WHERE snapshot = ? ORDER BY item_id",
                         arguments: [number]).map { row in
            let answers: String = row["answers"]
            return SnapshotRow(id: row["item_id"], label: row["label"],
                               source: LabelSource(rawValue: row["source"]) ?? .consensus,
                               confidence: row["confidence"], split: Split(rawValue: row["split"]) ?? .train,
                               answers: StoreEncoding.decodeAnswers(answers))
        }
    }
}
