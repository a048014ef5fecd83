import Foundation
import QuorumPostgres
import Testing

/// Issue 13: projects whose data lives in PostgreSQL, through the built binary:
/// `init --database`, `doctor`, and `migrate --to` from a SQLite project.
@Suite(.enabled(if: TestPostgres.server != nil, TestPostgres.skipReason))
struct PostgresProjectTests {
    @Test func initWithADatabaseWritesOnlyItsURLAndRefusesWhatIsTaken() throws {
        let database = try TestPostgres.freshDatabase()
        defer { database.drop() }
        let cli = CLI(database: database.url)
        defer { cli.cleanUp() }
        let created = try cli.json(["init", "--labels", "yes,no"])
        #expect(created["database"] as? String == database.url)
        let config = (cli.project as NSString).appendingPathComponent("quorum.json")
        let fields = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: config))) as? [String: Any])
        #expect(fields.keys.sorted() == ["database"], "quorum.json names the database and holds nothing else")
        #expect(fields["database"] as? String == database.url)

        // A second init in the same directory, or into the same database, is refused.
        let again = try cli.run(["init", "--labels", "yes,no"])
        #expect(again.status == 1 && again.stderr.contains("already exists"), "\(again.stderr)")
        let other = CLI(database: database.url)
        defer { other.cleanUp() }
        let taken = try other.run(["init", "--labels", "yes,no"])
        #expect(taken.status == 1 && taken.stderr.contains("a Quorum project already exists in this database"), "\(taken.stderr)")
        #expect(!FileManager.default.fileExists(atPath: (other.project as NSString).appendingPathComponent("quorum.json")),
                "a refused init leaves no quorum.json behind")

        // A password in the URL is refused before anything is written: the URL goes into the project.
        let secret = CLI(database: database.url.replacingOccurrences(of: "postgres@", with: "postgres:hunter2@"))
        defer { secret.cleanUp() }
        let refused = try secret.run(["init", "--labels", "yes,no"])
        #expect(refused.status == 1 && refused.stderr.contains("PGPASSWORD") && !refused.stderr.contains("hunter2"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: (secret.project as NSString).appendingPathComponent("quorum.json")))

        // --out never replaces the file that names the database.
        let out = try cli.run(["report", "--out", config, "--force"])
        #expect(out.status == 1 && out.stderr.contains("this project's database file"), "\(out.stderr)")
        #expect(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: config))) as? [String: String] == ["database": database.url])

        // A broken quorum.json is named, with the field.
        let broken = CLI()
        defer { broken.cleanUp() }
        _ = try broken.write("quorum.json", "{\"database\": 5}")
        let r = try broken.run(["status"])
        #expect(r.status == 1 && r.stderr.contains("quorum.json: field \"database\""), "\(r.stderr)")
    }

    @Test func doctorReportsTheServerThePoolAndTheRoundTrip() throws {
        let database = try TestPostgres.freshDatabase()
        defer { database.drop() }
        let cli = CLI(database: database.url)
        defer { cli.cleanUp() }
        try cli.ok(["init", "--labels", "yes,no"])
        let report = try cli.json(["doctor", "--gemm-size", "64"])
        let db = try #require(report["database"] as? [String: Any])
        #expect(db["backend"] as? String == "postgresql")
        #expect(db["url"] as? String == database.url)
        #expect((db["server_version"] as? String)?.first?.isNumber == true, "\(db)")
        #expect(db["pool_limit"] as? Int == 4)
        #expect((db["pool_open"] as? Int ?? 0) >= 1)
        #expect((db["server_max_connections"] as? Int ?? 0) > 0)
        let rtt = try #require(db["rtt_ms_p50"] as? Double)
        #expect(rtt > 0 && rtt < 1000 && (db["rtt_ms_max"] as? Double ?? 0) >= rtt)
        #expect(db["rtt_samples"] as? Int == 20)
        let text = try cli.ok(["doctor", "--gemm-size", "64"])
        #expect(text.contains("database: PostgreSQL ") && text.contains("rtt:"), "\(text)")

        // A server that does not answer is reported, and doctor exits 1.
        let gone = CLI()
        defer { gone.cleanUp() }
        _ = try gone.write("quorum.json", "{\"database\": \"postgresql://postgres@127.0.0.1:1/nothing\"}")
        let down = try gone.run(["doctor", "--gemm-size", "64"])
        #expect(down.status == 1 && down.stdout.contains("unreachable") && down.stdout.contains("BLAS"), "\(down.stdout) \(down.stderr)")
    }

    @Test func migrateMovesAProjectWithItsChainAndSnapshotsIntact() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try cli.ok(["init", "--labels", "0,1,2,3,4,5,6,7,8,9"])
        try cli.register(["alice", "bob", "carol"])
        _ = try cli.json(["annotators", "add", "judge", "--role", "adjudicator"])
        let pool = try cli.write("pool.jsonl", Digits.pool.prefix(300).joined(separator: "\n") + "\n")
        let seed = try cli.write("seed.jsonl", Digits.seed.joined(separator: "\n") + "\n")
        try cli.ok(["import", pool])
        try cli.ok(["import", seed, "--as", "seed"])
        try cli.ok(["train"])
        try cli.ok(["round", "start", "--size", "20", "--overlap", "2"])
        try cli.ok(["label", "--annotator", "alice", "--answers", Digits.path])
        // bob disagrees on everything: disputes, then rulings.
        let wrong = Digits.lines.map { line -> String in
            var object = try! JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            object["label"] = String((Int(object["label"] as! String)! + 1) % 10)
            return String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        }
        try cli.ok(["label", "--annotator", "bob", "--answers", try cli.write("wrong.jsonl", wrong.joined(separator: "\n") + "\n")])
        try cli.ok(["consensus"])
        try cli.ok(["adjudicate", "--annotator", "judge", "--answers", Digits.path])
        try cli.ok(["round", "close"])
        try cli.ok(["snapshot", "create", "-m", "first"])
        try cli.ok(["round", "start", "--size", "10"])   // left open, with tasks and no answers
        let before = (cli.project as NSString).appendingPathComponent("v1-sqlite.jsonl")
        try cli.ok(["snapshot", "export", "v1", "--out", before])
        let statusBefore = try cli.json(["status"])
        let logBefore = try cli.ok(["audit", "log", "--format", "json"])

        // Into a database that is not empty: refused, and the project stays on SQLite.
        let busy = try TestPostgres.freshDatabase()
        defer { busy.drop() }
        try PostgresStore.executeForTesting(url: busy.url, "CREATE TABLE something_else (x int)")
        let refused = try cli.run(["migrate", "--to", busy.url])
        #expect(refused.status == 1 && refused.stderr.contains("empty database"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: (cli.project as NSString).appendingPathComponent("quorum.json")))

        let database = try TestPostgres.freshDatabase()
        defer { database.drop() }
        let summary = try cli.json(["migrate", "--to", database.url])
        #expect(summary["switched"] as? Bool == true)
        let tables = try #require(summary["tables"] as? [String: Int])
        #expect(tables["items"] == 340 && tables["answers"] == 40 && tables["adjudications"] == 20 && tables["snapshots"] == 1, "\(tables)")
        #expect((summary["events_verified"] as? Int ?? 0) > 100)
        #expect(summary["snapshots_verified"] as? [String] == ["v1"])

        // Every later command uses PostgreSQL, and reads what SQLite held.
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: (cli.project as NSString).appendingPathComponent("quorum.json")))) as? [String: String]
        #expect(config == ["database": database.url])
        #expect(try cli.json(["doctor", "--gemm-size", "64"])["database"].flatMap { ($0 as? [String: Any])?["backend"] as? String } == "postgresql")
        try cli.ok(["audit", "verify"])
        try cli.ok(["snapshot", "verify", "v1"])
        let after = (cli.project as NSString).appendingPathComponent("v1-postgres.jsonl")
        try cli.ok(["snapshot", "export", "v1", "--out", after])
        #expect(FileManager.default.contentsEqual(atPath: before, andPath: after), "v1 exports the same bytes after the move")
        #expect(try cli.json(["status"]) as NSDictionary == statusBefore as NSDictionary)
        #expect(try cli.ok(["audit", "log", "--format", "json"]) == logBefore, "the event log reads the same")

        // The open round goes on in PostgreSQL, and the chain grows from the copied head.
        let summaryOfLabels = try cli.json(["label", "--annotator", "carol", "--answers", Digits.path])
        #expect(summaryOfLabels["answered"] as? Int == 10)
        try cli.ok(["round", "close"])
        try cli.ok(["snapshot", "create", "-m", "after the move"])
        try cli.ok(["audit", "verify"])
        #expect(try cli.json(["snapshot", "diff", "v1", "v2"])["added"] != nil)

        // A project already in PostgreSQL is not migrated again.
        let twice = try cli.run(["migrate", "--to", database.url])
        #expect(twice.status == 1 && twice.stderr.contains("already lives in PostgreSQL"), "\(twice.stderr)")

        // The copy is checked for real: tampering with the copied log fails verify in PostgreSQL.
        try PostgresStore.executeForTesting(url: database.url, "ALTER TABLE events DISABLE TRIGGER events_append_only")
        try PostgresStore.executeForTesting(url: database.url, "UPDATE events SET detail = '{}' WHERE seq = 3")
        let tampered = try cli.run(["audit", "verify"])
        #expect(tampered.status == 1 && tampered.stderr.contains("fails verification"), "\(tampered.stderr)")
    }
}
