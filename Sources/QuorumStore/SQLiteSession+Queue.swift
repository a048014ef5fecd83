import Foundation
import GRDB
import QuorumCore

/// The task queue: which task an annotator gets next, leases on claimed
/// tasks, and the answers that fill a task's slots.
///
/// A task wants `needed` answers (the round's overlap). A slot is filled by
/// an answer that gives a label or a flag (a skip fills nothing), or held by
/// another annotator's unexpired claim. An annotator is offered a task only
/// when they have not answered it and a slot is free, in the order: the
/// round, earlier deadline (what is due first), higher uncertainty, task id.
extension SQLiteSession {
    /// The columns an `OpenTask` is built from; `p` is the live model's prediction.
    static let openTaskColumns = "t.id AS task_id, t.round_id, t.blind, \(itemColumnsQualified), p.probs"
    static let openTaskJoins = """
        JOIN items i ON i.key = t.item_key
        LEFT JOIN predictions p ON p.item_key = t.item_key
             AND p.model_id = (SELECT id FROM model_versions WHERE is_live = 1)
        """
    /// True when `?1` (an annotator) may take task `t` at time `?2`.
    static let freeForAnnotator = """
        t.done < t.needed
        AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.task_id = t.id AND a.annotator = ?1)
        AND t.done + (SELECT COUNT(*) FROM claims c
                      WHERE c.task_id = t.id AND c.annotator <> ?1 AND c.expires_at > ?2) < t.needed
        """

    static func openTask(_ row: Row) -> OpenTask {
        let probs: Data? = row["probs"]
        return OpenTask(taskID: row["task_id"], roundID: row["round_id"], item: item(row),
                        probabilities: probs.map { [Float](blob: $0) }, blind: row["blind"])
    }

    func openTasks(round: Int, annotator: String, limit: Int?, now: Double) throws -> [OpenTask] {
        try Row.fetchAll(db, sql: """
            SELECT \(Self.openTaskColumns)
            FROM tasks t JOIN rounds r ON r.id = t.round_id \(Self.openTaskJoins)
            WHERE t.round_id = ?3 AND r.status = 'open' AND \(Self.freeForAnnotator)
            ORDER BY t.deadline, t.uncertainty DESC, t.id
            LIMIT ?4
            """, arguments: [annotator, now, round, limit ?? -1]).map(Self.openTask)
    }

    func taskProgress(round: Int) throws -> TaskProgress {
        let row = try Row.fetchOne(db, sql: """
            SELECT COUNT(*) AS tasks, COALESCE(SUM(done >= needed), 0) AS complete, COALESCE(SUM(done), 0) AS answers,
                   COALESCE(SUM(needed), 0) AS wanted
            FROM tasks WHERE round_id = ?
            """, arguments: [round])
        return TaskProgress(tasks: row?["tasks"] ?? 0, complete: row?["complete"] ?? 0,
                            answers: row?["answers"] ?? 0, wanted: row?["wanted"] ?? 0)
    }

    func taskStates(round: Int) throws -> [TaskState] {
        try Row.fetchAll(db, sql: "SELECT id, item_key, needed, done FROM tasks WHERE round_id = ? ORDER BY id",
                         arguments: [round]).map { TaskState(taskID: $0["id"], itemKey: $0["item_key"], needed: $0["needed"], done: $0["done"]) }
    }

    func activeClaims(round: Int, now: Double) throws -> [(annotator: String, itemID: String, expiresAt: Double)] {
        try Row.fetchAll(db, sql: """
            SELECT c.annotator, i.id, c.expires_at FROM claims c JOIN tasks t ON t.id = c.task_id JOIN items i ON i.key = t.item_key
            WHERE t.round_id = ? AND c.expires_at > ? ORDER BY c.annotator
            """, arguments: [round, now]).map { ($0["annotator"], $0["id"], $0["expires_at"]) }
    }

    /// - Complexity: one walk of the queue index over the round's unfinished
    ///   tasks, stopping at the first free one; O(log n) per step.
    func claimTask(round: Int, annotator: String, leaseSeconds: Double, now: Double, keeping kept: Int64?) throws -> ClaimOutcome {
        guard try Bool.fetchOne(db, sql: "SELECT status = 'open' FROM rounds WHERE id = ?", arguments: [round]) == true else {
            return .finished
        }
        // The task the caller keeps (the one on their screen while this one is fetched ahead) is never the answer.
        let notKept = kept == nil ? "" : "AND t.id <> ?4"
        let arguments: StatementArguments = kept.map { [annotator, now, round, $0] } ?? [annotator, now, round]
        // Pick up where they left off: a task this annotator still holds. (CROSS JOIN fixes
        // the join order: from the annotator's claims, never a walk over the round.)
        var row = try Row.fetchOne(db, sql: """
            SELECT \(Self.openTaskColumns)
            FROM claims c CROSS JOIN tasks t ON t.id = c.task_id \(Self.openTaskJoins)
            WHERE c.annotator = ?1 AND t.round_id = ?3 AND \(Self.freeForAnnotator) \(notKept)
            ORDER BY c.expires_at DESC LIMIT 1
            """, arguments: arguments)
        if row == nil {
            row = try Row.fetchOne(db, sql: """
                SELECT \(Self.openTaskColumns)
                FROM tasks t \(Self.openTaskJoins)
                WHERE t.round_id = ?3 AND \(Self.freeForAnnotator) \(notKept)
                ORDER BY t.deadline, t.uncertainty DESC, t.id
                LIMIT 1
                """, arguments: arguments)
        }
        guard let row else {
            try db.execute(sql: "DELETE FROM claims WHERE annotator = ? AND task_id IS NOT ?", arguments: [annotator, kept])
            let until = try Double.fetchOne(db, sql: """
                SELECT MIN(c.expires_at) FROM claims c CROSS JOIN tasks t ON t.id = c.task_id
                WHERE t.round_id = ?3 AND c.annotator <> ?1 AND c.expires_at > ?2 AND t.done < t.needed
                  AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.task_id = t.id AND a.annotator = ?1)
                """, arguments: [annotator, now, round])
            return until.map { .waiting(until: $0) } ?? .finished
        }
        let task = Self.openTask(row)
        try claim(taskID: task.taskID, annotator: annotator, until: now + leaseSeconds, keeping: kept.map { [$0] } ?? [], now: now)
        return .claimed(task)
    }

    func claim(taskID: Int64, annotator: String, until: Double, keeping: [Int64], now: Double) throws {
        // Expired claims are swept as we go; the annotator's other claims go, except those kept.
        let kept = keeping.isEmpty ? "" : "AND task_id NOT IN (\(keeping.map(String.init).joined(separator: ",")))"
        try db.execute(sql: "DELETE FROM claims WHERE (annotator = ? \(kept)) OR expires_at <= ?", arguments: [annotator, now])
        try db.execute(sql: "INSERT OR REPLACE INTO claims(task_id, annotator, expires_at) VALUES (?, ?, ?)",
                       arguments: [taskID, annotator, until])
    }

    func heldTask(round: Int, annotator: String, itemID: String, now: Double) throws -> OpenTask? {
        try Row.fetchOne(db, sql: """
            SELECT \(Self.openTaskColumns)
            FROM claims c CROSS JOIN tasks t ON t.id = c.task_id \(Self.openTaskJoins)
            WHERE c.annotator = ?1 AND t.round_id = ?3 AND i.id = ?4 AND \(Self.freeForAnnotator)
            """, arguments: [annotator, now, round, itemID]).map(Self.openTask)
    }

    func heldClaims(round: Int, annotator: String, now: Double) throws -> [(taskID: Int64, itemID: String)] {
        try Row.fetchAll(db, sql: """
            SELECT t.id AS task_id, i.id FROM claims c CROSS JOIN tasks t ON t.id = c.task_id JOIN items i ON i.key = t.item_key
            WHERE c.annotator = ? AND t.round_id = ? AND c.expires_at > ? ORDER BY c.expires_at
            """, arguments: [annotator, round, now]).map { ($0["task_id"], $0["id"]) }
    }

    func releaseClaims(annotator: String) throws {
        try db.execute(sql: "DELETE FROM claims WHERE annotator = ?", arguments: [annotator])
    }

    func insertAnswer(taskID: Int64, annotator: String, label: String?, seconds: Double,
                      note: String?, flagged: Bool) throws -> Int64 {
        do {
            try db.execute(sql: """
                INSERT INTO answers(task_id, annotator, label, seconds, note, flagged, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [taskID, annotator, label, seconds, note, flagged, timestamp])
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw QuorumError(.state, "\(annotator) has already answered task \(taskID)",
                              hint: "each annotator answers a given item at most once")
        }
        let id = db.lastInsertedRowID
        if label != nil || flagged {
            try db.execute(sql: "UPDATE tasks SET done = done + 1 WHERE id = ?", arguments: [taskID])
        }
        try db.execute(sql: "DELETE FROM claims WHERE task_id = ? AND annotator = ?", arguments: [taskID, annotator])
        return id
    }

    func deleteAnswer(_ answerID: Int64) throws -> Bool {
        guard let row = try Row.fetchOne(db, sql: "DELETE FROM answers WHERE id = ? RETURNING task_id, label, flagged",
                                         arguments: [answerID]) else { return false }
        let label: String? = row["label"]
        let flagged: Bool = row["flagged"]
        if label != nil || flagged {
            try db.execute(sql: "UPDATE tasks SET done = done - 1 WHERE id = ?", arguments: [row["task_id"] as Int64])
        }
        return true
    }

    func addAnswerWanted(taskID: Int64) throws {
        try db.execute(sql: "UPDATE tasks SET needed = needed + 1 WHERE id = ?", arguments: [taskID])
    }
}
