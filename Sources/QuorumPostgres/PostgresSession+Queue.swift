import Foundation
import QuorumCore
import QuorumStore

/// The task queue, as `SQLiteSession+Queue` defines it: which task an
/// annotator gets next, leases on claimed tasks, and the answers that fill a
/// task's slots.
///
/// Claims need no row locks (`FOR UPDATE SKIP LOCKED`): every claim runs in a
/// write transaction, and writers hold the database's writer lock one at a
/// time, so a slot is never handed out twice; readers are never blocked.
extension PostgresSession {
    /// The columns an `OpenTask` is built from; `p` is the live model's prediction.
    static let openTaskColumns = "t.id AS task_id, t.round_id, t.blind, \(itemColumnsQualified), p.probs"
    static let openTaskJoins = """
        JOIN items i ON i.key = t.item_key
        LEFT JOIN predictions p ON p.item_key = t.item_key
             AND p.model_id = (SELECT id FROM model_versions WHERE is_live)
        """
    /// True when `$1` (an annotator) may take task `t` at time `$2`.
    static let freeForAnnotator = """
        t.done < t.needed
        AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.task_id = t.id AND a.annotator = $1)
        AND t.done + (SELECT COUNT(*) FROM claims c
                      WHERE c.task_id = t.id AND c.annotator <> $1 AND c.expires_at > $2) < t.needed
        """

    static func openTask(_ row: SQLRow) throws -> OpenTask {
        let probs = try row["probs", as: Data?.self]
        return OpenTask(taskID: try row["task_id"], roundID: try row["round_id"], item: try item(row),
                        probabilities: probs.map(StoreEncoding.floats), blind: try row["blind"])
    }

    func openTasks(round: Int, annotator: String, limit: Int?, now: Double) throws -> [OpenTask] {
        try rows("""
            SELECT \(Self.openTaskColumns)
            FROM tasks t JOIN rounds r ON r.id = t.round_id \(Self.openTaskJoins)
            WHERE t.round_id = $3 AND r.status = 'open' AND \(Self.freeForAnnotator)
            ORDER BY t.deadline, t.uncertainty DESC, t.id
            LIMIT $4
            """, [annotator, now, round, limit]).map(Self.openTask)
    }

    func taskProgress(round: Int) throws -> TaskProgress {
        let row = try row("""
            SELECT COUNT(*) AS tasks, COUNT(*) FILTER (WHERE done >= needed) AS complete,
                   COALESCE(SUM(done), 0)::BIGINT AS answers, COALESCE(SUM(needed), 0)::BIGINT AS wanted
            FROM tasks WHERE round_id = $1
            """, [round], prepared: true)
        return TaskProgress(tasks: try row?["tasks"] ?? 0, complete: try row?["complete"] ?? 0,
                            answers: try row?["answers"] ?? 0, wanted: try row?["wanted"] ?? 0)
    }

    func taskStates(round: Int) throws -> [TaskState] {
        try rows("SELECT id, item_key, needed, done FROM tasks WHERE round_id = $1 ORDER BY id", [round]).map {
            TaskState(taskID: try $0["id"], itemKey: try $0["item_key"], needed: try $0["needed"], done: try $0["done"])
        }
    }

    func activeClaims(round: Int, now: Double) throws -> [(annotator: String, itemID: String, expiresAt: Double)] {
        try rows("""
            SELECT c.annotator, i.id, c.expires_at FROM claims c JOIN tasks t ON t.id = c.task_id JOIN items i ON i.key = t.item_key
            WHERE t.round_id = $1 AND c.expires_at > $2 ORDER BY c.annotator, c.task_id
            """, [round, now]).map { (try $0["annotator"], try $0["id"], try $0["expires_at"]) }
    }

    func claimTask(round: Int, annotator: String, leaseSeconds: Double, now: Double, keeping kept: Int64?) throws -> ClaimOutcome {
        guard try value("SELECT status = 'open' FROM rounds WHERE id = $1", [round], as: Bool.self, prepared: true) == true else {
            return .finished
        }
        // The task the caller keeps (the one on their screen while this one is fetched ahead) is never the answer.
        let notKept = kept == nil ? "" : "AND t.id <> $4"
        let arguments: [any SQLBindable] = kept.map { [annotator, now, round, $0] } ?? [annotator, now, round]
        // Pick up where they left off: a task this annotator still holds.
        var found = try row("""
            SELECT \(Self.openTaskColumns)
            FROM claims c JOIN tasks t ON t.id = c.task_id \(Self.openTaskJoins)
            WHERE c.annotator = $1 AND t.round_id = $3 AND \(Self.freeForAnnotator) \(notKept)
            ORDER BY c.expires_at DESC, t.id LIMIT 1
            """, arguments, prepared: true)
        if found == nil {
            found = try row("""
                SELECT \(Self.openTaskColumns)
                FROM tasks t \(Self.openTaskJoins)
                WHERE t.round_id = $3 AND \(Self.freeForAnnotator) \(notKept)
                ORDER BY t.deadline, t.uncertainty DESC, t.id
                LIMIT 1
                """, arguments, prepared: true)
        }
        guard let found else {
            try query("DELETE FROM claims WHERE annotator = $1 AND task_id IS DISTINCT FROM $2::BIGINT", [annotator, kept])
            let until = try value("""
                SELECT MIN(c.expires_at) FROM claims c JOIN tasks t ON t.id = c.task_id
                WHERE t.round_id = $3 AND c.annotator <> $1 AND c.expires_at > $2 AND t.done < t.needed
                  AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.task_id = t.id AND a.annotator = $1)
                """, [annotator, now, round], as: Double.self)
            return until.map { .waiting(until: $0) } ?? .finished
        }
        let task = try Self.openTask(found)
        try claim(taskID: task.taskID, annotator: annotator, until: now + leaseSeconds, keeping: kept.map { [$0] } ?? [], now: now)
        return .claimed(task)
    }

    func claim(taskID: Int64, annotator: String, until: Double, keeping: [Int64], now: Double) throws {
        // Expired claims are swept as we go; the annotator's other claims go, except those kept.
        try query("DELETE FROM claims WHERE (annotator = $1 AND NOT (task_id = ANY($3))) OR expires_at <= $2", [annotator, now, keeping],
                  prepared: true)
        try query("""
            INSERT INTO claims(task_id, annotator, expires_at) VALUES ($1, $2, $3)
            ON CONFLICT (task_id, annotator) DO UPDATE SET expires_at = excluded.expires_at
            """, [taskID, annotator, until], prepared: true)
    }

    func heldTask(round: Int, annotator: String, itemID: String, now: Double) throws -> OpenTask? {
        try row("""
            SELECT \(Self.openTaskColumns)
            FROM claims c JOIN tasks t ON t.id = c.task_id \(Self.openTaskJoins)
            WHERE c.annotator = $1 AND t.round_id = $3 AND i.id = $4 AND \(Self.freeForAnnotator)
            """, [annotator, now, round, itemID], prepared: true).map(Self.openTask)
    }

    func heldClaims(round: Int, annotator: String, now: Double) throws -> [(taskID: Int64, itemID: String)] {
        try rows("""
            SELECT t.id AS task_id, i.id FROM claims c JOIN tasks t ON t.id = c.task_id JOIN items i ON i.key = t.item_key
            WHERE c.annotator = $1 AND t.round_id = $2 AND c.expires_at > $3 ORDER BY c.expires_at, t.id
            """, [annotator, round, now]).map { (try $0["task_id"], try $0["id"]) }
    }

    func releaseClaims(annotator: String) throws {
        try query("DELETE FROM claims WHERE annotator = $1", [annotator])
    }

    func insertAnswer(taskID: Int64, annotator: String, label: String?, seconds: Double,
                      note: String?, flagged: Bool) throws -> Int64 {
        guard let id = try value("""
            INSERT INTO answers(id, task_id, annotator, label, seconds, note, flagged, created_at)
            VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM answers), $1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (task_id, annotator) DO NOTHING RETURNING id
            """, [taskID, annotator, label, seconds, note, flagged, timestamp], as: Int64.self, prepared: true) else {
            throw QuorumError(.state, "\(annotator) has already answered task \(taskID)",
                              hint: "each annotator answers a given item at most once")
        }
        if label != nil || flagged {
            try query("UPDATE tasks SET done = done + 1 WHERE id = $1", [taskID], prepared: true)
        }
        try query("DELETE FROM claims WHERE task_id = $1 AND annotator = $2", [taskID, annotator], prepared: true)
        return id
    }

    func deleteAnswer(_ answerID: Int64) throws -> Bool {
        guard let row = try row("DELETE FROM answers WHERE id = $1 RETURNING task_id, label, flagged", [answerID]) else { return false }
        let label = try row["label", as: String?.self]
        let flagged: Bool = try row["flagged"]
        if label != nil || flagged {
            try query("UPDATE tasks SET done = done - 1 WHERE id = $1", [try row["task_id", as: Int64.self]])
        }
        return true
    }

    func addAnswerWanted(taskID: Int64) throws {
        try query("UPDATE tasks SET needed = needed + 1 WHERE id = $1", [taskID])
    }
}
