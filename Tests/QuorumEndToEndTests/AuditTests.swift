import Foundation
import Testing
import QuorumStore

/// The event log and snapshots are tamper-evident: `verify` fails, and says what.
@Suite struct AuditTests {
    /// A project with one answered round and a snapshot.
    func project() throws -> CLI {
        let cli = CLI()
        try cli.ok(["init", "--labels", "yes,no"])
        try cli.register()
        try cli.ok(["import", try cli.write("pool.jsonl", "{\"id\":\"a\",\"text\":\"first\"}\n{\"id\":\"b\",\"text\":\"second\"}\n"), "--as", "pool"])
        try cli.ok(["import", try cli.write("seed.jsonl", "{\"id\":\"s\",\"text\":\"seed\",\"label\":\"yes\"}\n"), "--as", "seed"])
        try cli.ok(["round", "start", "--size", "2", "--overlap", "2"])
        let answers = try cli.write("answers.jsonl", "{\"id\":\"a\",\"label\":\"yes\"}\n{\"id\":\"b\",\"label\":\"no\"}\n")
        try cli.ok(["label", "--annotator", "ann", "--answers", answers])
        try cli.ok(["label", "--annotator", "bo", "--answers", answers])
        try cli.ok(["snapshot", "create", "-m", "v1"])
        return cli
    }

    /// What a tamperer would do: bypass the append-only triggers and change the file.
    func tamper(_ cli: CLI, _ sql: String) throws {
        try SQLiteStore.open(project: cli.project).executeForTesting(sql)
    }

    @Test func anIntactLogVerifiesAndShowsAnItemsHistory() throws {
        let cli = try project()
        defer { cli.cleanUp() }
        let r = try cli.run(["audit", "verify"])
        #expect(r.status == 0, "\(r.stderr)")
        let log = try #require(try cli.json(["audit", "log", "--item", "a"])["events"] as? [[String: Any]])
        #expect(log.map { $0["kind"] as? String } == ["answer", "answer"])
        #expect(Set(log.compactMap { $0["annotator"] as? String }) == ["ann", "bo"])
        // A consensus decision joins the item's history, once per change.
        try cli.ok(["consensus"])
        try cli.ok(["consensus"])
        let after = try #require(try cli.json(["audit", "log", "--item", "a"])["events"] as? [[String: Any]])
        #expect(after.map { $0["kind"] as? String } == ["answer", "answer", "consensus.item"])
        #expect(after.last?["confidence"] as? Double == 1)
        let all = try #require(try cli.json(["audit", "log"])["events"] as? [[String: Any]])
        #expect(all.first?["kind"] as? String == "init")
        #expect(all.contains { $0["kind"] as? String == "snapshot" })
    }

    @Test func anEditedEventFailsAndIsNamed() throws {
        let cli = try project()
        defer { cli.cleanUp() }
        try tamper(cli, "DROP TRIGGER events_no_update; UPDATE events SET detail = '{\"label\":\"no\"}' WHERE seq = 5")
        let r = try cli.run(["audit", "verify"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("event 5"), "\(r.stderr)")
        #expect(r.stderr.contains("edited"))
    }

    /// Issue 11, item 4: the chain alone cannot see a deleted tail; the
    /// snapshot's anchor can.
    @Test func aDeletedTailFailsAgainstTheSnapshotsAnchor() throws {
        let cli = try project()
        defer { cli.cleanUp() }
        try tamper(cli, "DROP TRIGGER events_no_delete; DELETE FROM events WHERE seq > (SELECT MAX(seq) - 2 FROM events)")
        let r = try cli.run(["audit", "verify"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("snapshot v1 anchored the log at event") && r.stderr.contains("events were deleted"), "\(r.stderr)")
    }

    /// Issue 11, item 4: answers and rulings are checked against the events that recorded them.
    @Test func anEditedAnswerOrRulingFailsVerify() throws {
        let cli = try project()
        defer { cli.cleanUp() }
        #expect(try cli.run(["audit", "verify"]).status == 0)
        try tamper(cli, "UPDATE answers SET label = 'no' WHERE annotator = 'ann' AND label = 'yes'")
        let r = try cli.run(["audit", "verify"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("the answers of ann to item \"a\" are \"no\" but the log recorded \"yes\""), "\(r.stderr)")
        try tamper(cli, "UPDATE answers SET label = 'yes' WHERE annotator = 'ann' AND label = 'no' AND task_id IN (SELECT t.id FROM tasks t JOIN items i ON i.key = t.item_key WHERE i.id = 'a')")
        #expect(try cli.run(["audit", "verify"]).status == 0, "restored")
        try tamper(cli, "DELETE FROM answers WHERE annotator = 'bo' AND task_id IN (SELECT t.id FROM tasks t JOIN items i ON i.key = t.item_key WHERE i.id = 'b')")
        let deleted = try cli.run(["audit", "verify"])
        #expect(deleted.status == 1 && deleted.stderr.contains("the answers of bo to item \"b\" are nothing"), "\(deleted.stderr)")
    }

    @Test func aDeletedEventFailsAndIsNamed() throws {
        let cli = try project()
        defer { cli.cleanUp() }
        try tamper(cli, "DROP TRIGGER events_no_delete; DELETE FROM events WHERE seq = 3")
        let r = try cli.run(["audit", "verify"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("events 3…3 are missing"), "\(r.stderr)")
    }

    @Test func aRehashedEditStillBreaksTheChain() throws {
        // Editing an event and its own hash does not help: the next event's link no longer matches.
        let cli = try project()
        defer { cli.cleanUp() }
        try tamper(cli, "DROP TRIGGER events_no_update; UPDATE events SET hash = '\(String(repeating: "a", count: 64))' WHERE seq = 4")
        let r = try cli.run(["audit", "verify"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("event 4") || r.stderr.contains("event 5"), "\(r.stderr)")
    }

    @Test func aDeletedSnapshotRowFailsVerify() throws {
        let cli = try project()
        defer { cli.cleanUp() }
        try tamper(cli, "DROP TRIGGER snapshot_rows_no_delete; DELETE FROM snapshot_rows WHERE item_id = 's'")
        let r = try cli.run(["snapshot", "verify", "v1"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("it has 0 rows but was created with 1"), "\(r.stderr)")
    }

    @Test func anEditedSnapshotRowFailsVerify() throws {
        let cli = try project()
        defer { cli.cleanUp() }
        try cli.ok(["snapshot", "verify", "v1"])
        try tamper(cli, "DROP TRIGGER snapshot_rows_no_update; UPDATE snapshot_rows SET label = 'no' WHERE item_id = 's'")
        let r = try cli.run(["snapshot", "verify", "v1"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("v1 fails verification: row \"s\" changed"), "\(r.stderr)")
    }
}
