import Foundation
import Testing

/// One labelling round, end to end, through the built binary:
/// init → import (pool, seed, test) → train → round start → two annotators
/// answer from files → consensus → round close → snapshot → export → report.
@Suite struct LabellingRoundTests {
    @Test func aFullRoundProducesACheckedSnapshotAndReport() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        _ = try Self.fullRound(cli)
    }

    /// Issue 13: the same round on a PostgreSQL project passes the same checks,
    /// and its snapshot export is byte for byte the SQLite project's.
    @Test(.enabled(if: TestPostgres.server != nil, TestPostgres.skipReason))
    func theSameRoundOnPostgreSQLExportsTheSameBytes() throws {
        let database = try TestPostgres.freshDatabase()
        defer { database.drop() }
        let sqlite = CLI(), postgres = CLI(database: database.url)
        defer { sqlite.cleanUp(); postgres.cleanUp() }
        let a = try Self.fullRound(sqlite)
        let b = try Self.fullRound(postgres)
        #expect(FileManager.default.fileExists(atPath: (postgres.project as NSString).appendingPathComponent("quorum.json")))
        #expect(!FileManager.default.fileExists(atPath: (postgres.project as NSString).appendingPathComponent("quorum.sqlite")))
        #expect(FileManager.default.contentsEqual(atPath: a, andPath: b), "the export is byte-identical on both backends")
        try postgres.ok(["audit", "verify"])
        #expect(try sqlite.json(["status"]) as NSDictionary == (try postgres.json(["status"])) as NSDictionary)
        #expect(try sqlite.ok(["consensus", "--method", "dawid-skene", "--dry-run", "--format", "json"])
                == (try postgres.ok(["consensus", "--method", "dawid-skene", "--dry-run", "--format", "json"])))
    }

    /// init → import → train → round → answers → consensus → close → snapshot →
    /// export → report on `cli`'s project, checking each step; returns the path of v1's JSONL export.
    static func fullRound(_ cli: CLI) throws -> String {
        try cli.ok(["init", "--labels", "0,1,2,3,4,5,6,7,8,9"])
        try cli.register()
        let pool = try cli.write("pool.jsonl", Digits.pool.joined(separator: "\n") + "\n")
        let seed = try cli.write("seed.jsonl", Digits.seed.joined(separator: "\n") + "\n")
        let test = try cli.write("test.jsonl", Digits.test.joined(separator: "\n") + "\n")
        #expect(try cli.json(["import", pool])["imported"] as? Int == Digits.pool.count)
        #expect(try cli.json(["import", seed, "--as", "seed"])["imported"] as? Int == 40)
        #expect(try cli.json(["import", test, "--as", "test"])["imported"] as? Int == Digits.test.count)
        // Importing the same file again skips every line as a duplicate.
        let again = try cli.json(["import", seed, "--as", "seed"])
        #expect(again["imported"] as? Int == 0)
        #expect(again["duplicates"] as? Int == 40)

        let train = try cli.json(["train"])
        #expect(train["model_version"] as? String == "m1")
        #expect(train["members"] as? Int == 5)
        let calibration = try #require(train["calibration"] as? [String: Any])
        #expect(calibration["scheme"] as? String == "5-fold out-of-fold")
        #expect((calibration["temperature"] as? Double ?? 0) > 0)
        let firstAccuracy = try #require(train["test_accuracy"] as? Double)
        #expect(firstAccuracy > 0.5, "40 labels of digits give well above chance (0.1)")
        #expect(train["ece"] is Double)
        #expect(train["seconds"] is Double)

        let round = try cli.json(["round", "start", "--size", "50", "--overlap", "2"])
        #expect(round["round"] as? Int == 1)
        #expect(round["tasks"] as? Int == 50)
        let byStrategy = try #require(round["by_strategy"] as? [String: Int])
        #expect(byStrategy == ["uncertainty": 35, "stratified": 8, "random": 7], "the default blend 0.7/0.15/0.15")

        // Both annotators give the true label, from the whole dataset file:
        // only their open tasks are answered, and the rest of the file is left.
        for annotator in ["alice", "bob"] {
            let s = try cli.json(["label", "--annotator", annotator, "--answers", Digits.path])
            #expect(s["answered"] as? Int == 50)
            #expect(s["remaining"] as? Int == 0)
        }
        let status = try cli.json(["round", "status"])
        #expect(status["answers"] as? Int == 100)
        #expect(status["complete_tasks"] as? Int == 50)
        let picks = try #require(status["picks"] as? [[String: Any]])
        #expect(picks.count == 50)
        let uncertaintyRanks = picks.filter { $0["strategy"] as? String == "uncertainty" }.compactMap { $0["rank"] as? Int }
        #expect(uncertaintyRanks == Array(1...35), "each pick records its strategy and rank")
        #expect(picks.allSatisfy { $0["score"] is Double })

        let consensus = try cli.json(["consensus"])
        #expect(consensus["method"] as? String == "majority")
        #expect(consensus["items"] as? Int == 50)
        #expect(consensus["disputes"] as? Int == 0)
        let labels = try #require(consensus["labels"] as? [String: String])
        #expect(labels.count == 50)
        for (id, label) in labels { #expect(Digits.truth[id] == label) }
        let ds = try cli.json(["consensus", "--method", "dawid-skene"])
        #expect(ds["method"] as? String == "dawid-skene")
        #expect(ds["labels"] as? [String: String] == labels, "two agreeing annotators: the same labels")

        let closed = try cli.json(["round", "close"])
        #expect(closed["round"] as? Int == 1)
        #expect(closed["labelled"] as? Int == 90)
        let kappa = try #require(closed["prediction_stability"] as? Double, "κ between m1 and m2 on the pool")
        #expect(kappa > 0 && kappa <= 1)
        #expect((closed["mean_uncertainty"] as? Double ?? -1) > 0)
        #expect(closed["stop"] as? Bool == false, "one round of 50 labels does not settle digits")
        let agreement = try #require(closed["agreement"] as? [String: Any])
        #expect(agreement["fleiss_kappa"] as? Double == 1, "both annotators gave the true label")
        #expect(agreement["krippendorff_alpha"] as? Double == 1)

        let snapshot = try cli.json(["snapshot", "create", "-m", "round 1"])
        #expect(snapshot["snapshot"] as? String == "v1")
        #expect(snapshot["items"] as? Int == 90 + 359, "40 seed + 50 consensus + the 359 test items (issue 11, item 17)")
        #expect((snapshot["hash"] as? String)?.count == 64)

        let out = (cli.project as NSString).appendingPathComponent("v1.jsonl")
        try cli.ok(["snapshot", "export", "v1", "--format", "jsonl", "--out", out])
        let rows = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(rows.count == 449, "one row per labelled item: 40 seed + 50 consensus + 359 test")
        // Issue 11, item 17: the export is a dataset: each row carries its item's vector, and the
        // project's test items are the test split.
        let testIDs = Set(Digits.test.compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["id"] as? String })
        #expect(rows.filter { $0["split"] as? String == "test" && testIDs.contains($0["id"] as! String) }.count == 359)
        #expect(rows.allSatisfy { ($0["vector"] as? [Double])?.count == 64 }, "every row has its 64-value vector")
        #expect(rows.allSatisfy { $0.keys.contains("text") && $0.keys.contains("meta") })
        let ids = rows.map { $0["id"] as! String }
        #expect(ids == ids.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }, "rows are sorted by id")
        for row in rows {
            let id = row["id"] as! String
            let label = row["label"] as! String
            #expect(Digits.truth[id] == label)
            let answers = row["answers"] as! [[String: String]]
            if row["source"] as? String == "consensus" {
                #expect(answers.count == 2)
                #expect(answers.allSatisfy { $0["label"] == label }, "the label equals the answers given")
                #expect(labels[id] == label)
            } else {
                #expect(row["source"] as? String == "seed")
                #expect(answers.isEmpty)
            }
            #expect(["train", "dev", "test"].contains(row["split"] as? String ?? ""))
        }
        // Exports are byte-identical across runs, and verify passes.
        let out2 = (cli.project as NSString).appendingPathComponent("v1-again.jsonl")
        try cli.ok(["snapshot", "export", "v1", "--out", out2])
        #expect(FileManager.default.contentsEqual(atPath: out, andPath: out2))
        try cli.ok(["snapshot", "verify", "v1"])

        // An adaptive next round starts from round 1's blend, moved by its strategy gains.
        let gains = try #require(closed["strategy_gain"] as? [String: Double])
        #expect(gains.keys.contains("uncertainty"))
        let next = try cli.json(["round", "start", "--size", "20", "--blend", "auto"])
        #expect((next["by_strategy"] as? [String: Int])?.values.reduce(0, +) == 20)
        let settingsBlend = try #require((try cli.json(["round", "status"])["picks"] as? [[String: Any]])?.count)
        #expect(settingsBlend == 20)
        try cli.ok(["round", "close", "--force"])   // unanswered: closed only to record the auto blend

        let report = try cli.json(["report"])
        let rounds = try #require(report["rounds"] as? [[String: Any]])
        #expect(rounds.count == 2)
        #expect(rounds[0]["round"] as? Int == 1)
        #expect(rounds[0]["blend"] as? String == "uncertainty=0.7,stratified=0.15,random=0.15")
        // The auto blend follows round 1's verdicts: a strategy whose gain was within the
        // noise of random's keeps its weight (issue 10), any other moves.
        let note = try #require(rounds[0]["blend_note"] as? String)
        let se = try #require(rounds[0]["strategy_gain_se"] as? [String: Double])
        #expect(Set(se.keys) == Set(gains.keys), "every gain has its standard error")
        let moved = note.contains("moves to random") || note.contains(" paid (")
        #expect(moved || note.contains("weights stay"), "\(note)")
        #expect((rounds[1]["blend"] as? String != rounds[0]["blend"] as? String) == moved, "the auto blend moved exactly when a verdict said so: \(note)")
        #expect(rounds[0]["labelled"] as? Int == 90)
        let accuracy = try #require(rounds[0]["test_accuracy"] as? Double)
        #expect(accuracy > firstAccuracy, "50 more labels improve the model")
        #expect(rounds[0]["model_version"] as? String == "m2")
        for key in ["macro_f1", "ece", "agreement", "auto_accepted", "audit_pass_rate"] {
            #expect(rounds[0].keys.contains(key), "report JSON keeps \(key), null or not")
        }
        // Issue 11, item 19: the report starts from the model before round 1, and the text
        // report has the auto-accepted and audit columns.
        let baseline = try #require(report["baseline"] as? [String: Any])
        #expect(baseline["round"] as? Int == 0 && baseline["model_version"] as? String == "m1" && baseline["labelled"] as? Int == 40)
        #expect(baseline["test_accuracy"] as? Double == firstAccuracy)
        let text = try cli.ok(["report"]).split(separator: "\n")
        #expect(text[0].contains("auto") && text[0].contains("audit") && text[0].contains("disp/adj"), "\(text[0])")
        #expect(text[1].hasPrefix("    0") && text[1].hasSuffix("m1"), "\(text[1])")
        #expect(text.allSatisfy { $0.count <= 80 })

        // The HTML report: one page, the learning curve as an SVG polyline through both rounds.
        let page = (cli.project as NSString).appendingPathComponent("report.html")
        try cli.ok(["report", "--format", "html", "--out", page])
        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.hasSuffix("</body></html>\n"))
        #expect(html.components(separatedBy: "<svg").count - 1 == 3, "stopping measures, learning curve and agreement charts")
        let curve = try #require(html.components(separatedBy: "data-chart=\"learning\"").dropFirst().first?.components(separatedBy: "<polyline").dropFirst().first)
        #expect(curve.components(separatedBy: "points=\"")[1].split(separator: "\"")[0].split(separator: " ").count
                == 3, "the baseline, then one point per closed round")
        #expect(html.contains("<td>90</td>"), "round 1's labelled count is in the table")

        let counts = try cli.json(["status"])
        #expect(counts["items"] as? [String: Int] == ["pool": Digits.pool.count, "seed": 40, "test": Digits.test.count, "gold": 0])
        #expect(counts["open_tasks"] as? Int == 0)
        #expect(counts["rounds"] as? Int == 2)
        #expect(counts["snapshots"] as? Int == 1)
        return out
    }

    @Test func asecondSnapshotDiffsAgainstTheFirst() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try cli.ok(["init", "--labels", "0,1,2,3,4,5,6,7,8,9"])
        try cli.register()
        try cli.ok(["import", try cli.write("seed.jsonl", Digits.seed.joined(separator: "\n")), "--as", "seed"])
        try cli.ok(["import", try cli.write("pool.jsonl", Digits.pool.prefix(200).joined(separator: "\n"))])
        try cli.ok(["snapshot", "create"])
        try cli.ok(["round", "start", "--size", "10"])  // no model yet: a seeded random cold start
        try cli.ok(["label", "--annotator", "ann", "--answers", Digits.path])
        try cli.ok(["round", "close"])
        try cli.ok(["snapshot", "create", "-m", "after round 1"])
        let diff = try cli.json(["snapshot", "diff", "v1", "v2"])
        #expect(diff["added"] as? Int == 10)
        #expect(diff["removed"] as? Int == 0)
        #expect(diff["relabelled"] as? Int == 0)
        #expect(diff["unchanged"] as? Int == 40)
    }

    @Test func aTieBetweenTwoAnnotatorsIsADispute() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try cli.ok(["init", "--labels", "yes,no"])
        try cli.register()
        try cli.ok(["import", try cli.write("pool.jsonl", "{\"id\":\"a\",\"text\":\"first\"}\n{\"id\":\"b\",\"text\":\"second\"}\n")])
        try cli.ok(["round", "start", "--size", "2", "--overlap", "2"])
        try cli.ok(["label", "--annotator", "ann", "--answers", try cli.write("ann.jsonl", "{\"id\":\"a\",\"label\":\"yes\"}\n{\"id\":\"b\",\"label\":\"no\"}\n")])
        try cli.ok(["label", "--annotator", "bo", "--answers", try cli.write("bo.jsonl", "{\"id\":\"a\",\"label\":\"yes\"}\n{\"id\":\"b\",\"label\":\"yes\"}\n")])
        let c = try cli.json(["consensus"])
        #expect(c["disputes"] as? Int == 1)
        #expect(c["labels"] as? [String: String] == ["a": "yes"])
        // An annotator cannot answer the same item twice.
        let again = try cli.json(["label", "--annotator", "ann", "--answers", try cli.write("again.jsonl", "{\"id\":\"a\",\"label\":\"no\"}\n")])
        #expect(again["answered"] as? Int == 0)
        #expect(again["not_open"] as? Int == 1)

        // Only an adjudicator may settle the dispute; a ruling outranks the votes and survives re-aggregation.
        let ruling = try cli.write("ruling.jsonl", "{\"id\":\"b\",\"label\":\"no\"}\n{\"id\":\"a\",\"label\":\"no\"}\n")
        let refused = try cli.run(["adjudicate", "--annotator", "ann", "--answers", ruling])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("ann is not an adjudicator"))
        try cli.ok(["annotators", "add", "lead", "--role", "adjudicator"])
        let settled = try cli.json(["adjudicate", "--annotator", "lead", "--answers", ruling])
        #expect(settled["settled"] as? Int == 1)
        #expect(settled["not_disputed"] as? Int == 1, "a was not disputed: its majority stands")
        #expect(settled["remaining"] as? Int == 0)
        let after = try cli.json(["consensus"])
        #expect(after["disputes"] as? Int == 0)
        #expect(after["labels"] as? [String: String] == ["a": "yes", "b": "no"])
        // Issue 11, item 19: the report counts the disputes an adjudicator settled.
        try cli.ok(["round", "close"])
        let round = try #require((try cli.json(["report"])["rounds"] as? [[String: Any]])?.first)
        #expect(round["adjudicated"] as? Int == 1)
        #expect(try cli.ok(["report"]).split(separator: "\n").contains { $0.hasPrefix("    1") && $0.contains("0/1") })
    }
}
