import Foundation
import Testing

/// Agreement per annotator pair in `report`, and a snapshot's datasheet in
/// `snapshot show` and `snapshot datasheet`, through the built binary.
@Suite struct DatasheetAndAgreementTests {
    /// Cohen's κ written out independently of the product: p_o and p_e over the shared items.
    static func kappa(_ a: [String: String], _ b: [String: String]) -> (items: Int, kappa: Double, agree: Double) {
        let shared = a.keys.filter { b[$0] != nil }
        let n = Double(shared.count)
        let observed = Double(shared.filter { a[$0] == b[$0] }.count) / n
        var expected = 0.0
        for label in Set(shared.map { a[$0]! } + shared.map { b[$0]! }) {
            expected += Double(shared.filter { a[$0] == label }.count) / n * Double(shared.filter { b[$0] == label }.count) / n
        }
        return (shared.count, (observed - expected) / (1 - expected), observed)
    }

    @Test func reportHasPairwiseKappaAndShowHasTheDatasheet() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        let initJSON = try cli.json(["init", "--labels", "1,2,3", "--ordered"])
        try cli.register()
        #expect(initJSON["ordered"] as? Bool == true)
        let seeds = (1...6).map { "{\"id\":\"s\($0)\",\"text\":\"seed text number \($0)\",\"label\":\"\(($0 - 1) % 3 + 1)\"}" }
        let pool = (1...10).map { String(format: "{\"id\":\"p%02d\",\"text\":\"pool text number %d\"}", $0, $0) }
        try cli.ok(["import", try cli.write("seed.jsonl", seeds.joined(separator: "\n") + "\n"), "--as", "seed"])
        try cli.ok(["import", try cli.write("pool.jsonl", pool.joined(separator: "\n") + "\n")])
        #expect(try cli.json(["round", "start", "--size", "10", "--overlap", "2"])["tasks"] as? Int == 10)

        // alice answers all ten items; bob answers eight of them (p09, p10 stay missing) and disagrees on three.
        let alice: [String: String] = ["p01": "1", "p02": "1", "p03": "2", "p04": "2", "p05": "3",
                                       "p06": "3", "p07": "1", "p08": "2", "p09": "3", "p10": "1"]
        let bob: [String: String] = ["p01": "1", "p02": "2", "p03": "2", "p04": "2", "p05": "3",
                                     "p06": "1", "p07": "1", "p08": "3"]
        for (name, answers) in [("alice", alice), ("bob", bob)] {
            let file = try cli.write("\(name).jsonl", answers.sorted { $0.key < $1.key }
                .map { "{\"id\":\"\($0.key)\",\"label\":\"\($0.value)\"}\n" }.joined())
            #expect(try cli.json(["label", "--annotator", name, "--answers", file])["answered"] as? Int == answers.count)
        }
        try cli.ok(["round", "close"])

        let expected = Self.kappa(alice, bob)
        #expect(expected.items == 8 && abs(expected.agree - 5.0 / 8) < 1e-12)
        let report = try cli.json(["report"])
        let round = try #require((report["rounds"] as? [[String: Any]])?.first)
        let overall = try #require(report["agreement"] as? [String: Any], "report JSON: agreement over all rounds")
        for agreement in [try #require(round["agreement"] as? [String: Any]), overall] {
            let pairs = try #require(agreement["pairs"] as? [[String: Any]])
            #expect(pairs.count == 1)
            #expect(pairs.first?["a"] as? String == "alice" && pairs.first?["b"] as? String == "bob")
            #expect(pairs.first?["items"] as? Int == 8, "only the items both answered")
            #expect(abs((pairs.first?["cohen_kappa"] as? Double ?? .nan) - expected.kappa) < 1e-9)
            #expect(abs((pairs.first?["percent_agreement"] as? Double ?? .nan) - expected.agree) < 1e-9)
            #expect(agreement["krippendorff_alpha"] is Double && agreement["fleiss_kappa"] is Double)
            #expect(agreement["krippendorff_alpha_ordinal"] is Double, "the labels are ordered")
            #expect(agreement["krippendorff_alpha_interval"] is Double)
        }
        let text = try cli.ok(["report"])
        #expect(text.contains("alice") && text.contains("bob") && text.contains("Cohen κ"))

        // The snapshot: 6 seeds, plus the items alice and bob agree on (5) or alice alone answered (p09, p10);
        // the three disagreements are ties, so disputes, and stay out.
        try cli.ok(["snapshot", "create", "-m", "round 1", "--by", "lee"])
        var settled: [String: String] = [:]
        for (id, label) in alice where bob[id] == nil || bob[id] == label { settled[id] = label }
        #expect(settled.count == 7)
        var byLabel: [String: Int] = [:]
        for label in settled.values + seeds.indices.map({ String($0 % 3 + 1) }) { byLabel[label, default: 0] += 1 }
        let sheet = try cli.json(["snapshot", "show", "v1"])
        #expect(sheet["snapshot"] as? String == "v1")
        #expect(sheet["items"] as? Int == 13)
        #expect(sheet["created_by"] as? String == "lee" && sheet["message"] as? String == "round 1")
        #expect(sheet["labels"] as? [String: Int] == byLabel)
        #expect(sheet["sources"] as? [String: Int] == ["seed": 6, "consensus": 7, "auto": 0])
        let splits = try #require(sheet["splits"] as? [String: Int])
        #expect(splits.values.reduce(0, +) == 13 && Set(splits.keys) == ["train", "dev", "test"])
        #expect(sheet["annotators"] as? Int == 2)
        #expect(sheet["annotator_names"] as? [String] == ["alice", "bob"])
        #expect(sheet["answers"] as? Int == 12, "5 agreed items × 2 + p09, p10 × 1")
        #expect(sheet["rounds"] as? [Int] == [1])
        #expect(sheet["hash_verified"] as? Bool == true)
        for key in ["parent", "model_version", "consensus_method", "created_by", "message", "hash"] {
            #expect(sheet.keys.contains(key), "datasheet has \(key)")
        }
        let agreement = try #require(sheet["agreement"] as? [String: Any])
        #expect(agreement["percent_agreement"] as? Double == 1, "only agreed items carry two answers")
        #expect((agreement["pairs"] as? [[String: Any]])?.first?["items"] as? Int == 5)

        let out = (cli.project as NSString).appendingPathComponent("v1.md")
        try cli.ok(["snapshot", "datasheet", "v1", "--out", out])
        let markdown = try String(contentsOfFile: out, encoding: .utf8)
        #expect(markdown.hasPrefix("# Datasheet: snapshot v1\n"))
        #expect(markdown.contains("| rounds covered | 1 |") && markdown.contains("2 distinct annotators gave 12 answers on 7 items"))
    }
}
