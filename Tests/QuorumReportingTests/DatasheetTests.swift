import QuorumConsensus
import QuorumCore
import Testing
@testable import QuorumReporting

@Suite struct RatingsAndFiguresTests {
    @Test func ratingsArrangeUnitsByAnnotator() {
        let ratings = Ratings([(unit: 2, annotator: "bo", label: "b"), (unit: 1, annotator: "ann", label: "a"),
                               (unit: 1, annotator: "bo", label: "zzz"), (unit: 2, annotator: "bo", label: "a")],
                              labels: ["a", "b"])
        #expect(ratings.annotators == ["ann", "bo"])
        #expect(ratings.labels == ["a", "b", "zzz"], "a label outside the project's goes last")
        #expect(ratings.units.map { $0.map { [$0.rater, $0.category] } } == [[[0, 0], [1, 2]], [[1, 0]]],
                "units sorted; a second answer by one annotator replaces the first")
        #expect(ratings.answers == 3)
    }

    @Test func orderedLabelsAddOrdinalAndIntervalAlpha() throws {
        // Three coders on a 1/2/10 scale: interval α must use the numbers, ordinal α the ranks.
        let answers: [(unit: Int, annotator: String, label: String)] = [
            (1, "a", "1"), (1, "b", "1"), (1, "c", "2"), (2, "a", "2"), (2, "b", "2"),
            (3, "a", "10"), (3, "b", "2"), (3, "c", "10"), (4, "a", "1"), (4, "c", "1"),
        ]
        let ratings = Ratings(answers, labels: ["1", "2", "10"])
        let unordered = AgreementFigures.measure(ratings, ordered: false)
        #expect(unordered.krippendorffAlphaOrdinal == nil && unordered.krippendorffAlphaInterval == nil)
        let ordered = AgreementFigures.measure(ratings, ordered: true)
        // The same units as a dense units × coders matrix (coders a, b, c), through the reference-tested API.
        let dense: [[Int?]] = [[0, 0, 1], [1, 1, nil], [2, 1, 2], [0, nil, 0]]
        let numbers = dense.map { $0.map { $0.map { [1.0, 2, 10][$0] } } }
        let ranks = dense.map { $0.map { $0.map(Double.init) } }
        #expect(ordered.krippendorffAlphaInterval == Agreement.krippendorffAlpha(numbers, metric: .interval))
        #expect(ordered.krippendorffAlphaOrdinal == Agreement.krippendorffAlpha(ranks, metric: .ordinal))
        #expect(ordered.krippendorffAlphaInterval != Agreement.krippendorffAlpha(ranks, metric: .interval))
        #expect(ordered.fleissKappa == Agreement.fleissKappa(dense))
        #expect(ordered.krippendorffAlpha == unordered.krippendorffAlpha)
        let json = ordered.json.serialized()
        #expect(json.contains("\"krippendorff_alpha_interval\":") && json.contains("\"pairs\":[{\"a\":\"a\",\"b\":\"b\",\"items\":3,"))
    }
}

@Suite struct DatasheetTests {
    let info = SnapshotInfo(number: 2, parent: 1, hash: String(repeating: "ab", count: 32), items: 6, createdAt: "2025-01-01T00:00:00Z",
                            createdBy: "lead", message: "after round 2", modelVersion: "m3", consensusMethod: "majority", rounds: [1, 2])

    func row(_ id: String, _ label: String, _ source: LabelSource, _ split: Split, _ answers: [(String, String)] = []) -> SnapshotRow {
        SnapshotRow(id: id, label: label, source: source, confidence: 1, split: split,
                    answers: answers.map { RowAnswer(annotator: $0.0, label: $0.1) })
    }

    /// r1 alice=cat bob=cat · r2 alice=dog bob=dog · r3 alice=cat bob=dog · r4 alice=cat carol=cat; s1, s2 seed; a1 auto.
    var rows: [SnapshotRow] {
        [row("r1", "cat", .consensus, .train, [("alice", "cat"), ("bob", "cat")]),
         row("r2", "dog", .consensus, .train, [("alice", "dog"), ("bob", "dog")]),
         row("r3", "cat", .consensus, .test, [("alice", "cat"), ("bob", "dog")]),
         row("r4", "cat", .consensus, .dev, [("alice", "cat"), ("carol", "cat")]),
         row("s1", "dog", .seed, .train), row("a1", "cat", .auto, .train)]
    }

    @Test func countsPerLabelSourceAndSplit() {
        let sheet = Datasheet(snapshot: info, rows: rows, labels: ["cat", "dog", "bird"], ordered: false)
        #expect(sheet.labels == [.init("cat", 4), .init("dog", 2), .init("bird", 0)], "project order, zeros kept")
        #expect(sheet.sources == [.init("consensus", 4), .init("auto", 1), .init("seed", 1)])
        #expect(sheet.splits == [.init("train", 4), .init("dev", 1), .init("test", 1)])
        #expect(sheet.labelsBySplit.map(\.split) == [.train, .dev, .test])
        #expect(sheet.labelsBySplit[0].labels == [.init("cat", 2), .init("dog", 2), .init("bird", 0)])
        #expect(sheet.labelsBySplit[2].labels == [.init("cat", 1), .init("dog", 0), .init("bird", 0)])
        #expect(sheet.annotators == ["alice", "bob", "carol"])
        #expect(sheet.answers == 8 && sheet.answeredItems == 4)
    }

    @Test func agreementOverTheRowsAnswersMatchesHandComputedValues() throws {
        let a = Datasheet(snapshot: info, rows: rows, labels: ["cat", "dog"], ordered: false).agreement
        // Pooled pairs: r1, r2, r4 agree, r3 does not → 3/4.
        #expect(a.percentAgreement == 0.75)
        // Fleiss (Gwet's form): p_a = 3/4; π_cat = (1 + 0 + ½ + 1)/4 = 5/8, π_dog = 3/8;
        // p_e = 25/64 + 9/64 = 34/64 → κ = (48/64 − 34/64)/(30/64) = 7/15.
        #expect(abs(try #require(a.fleissKappa) - 7.0 / 15) < 1e-12)
        // Krippendorff nominal: o_cat,dog = o_dog,cat = 1 (r3); n_cat = 5, n_dog = 3, n = 8
        // → α = 1 − 7 · 2 / (2 · 5 · 3) = 8/15.
        #expect(abs(try #require(a.krippendorffAlpha) - 8.0 / 15) < 1e-12)
        #expect(a.krippendorffAlphaOrdinal == nil)
        // alice–bob on r1..r3: p_o = 2/3, alice (cat 2, dog 1) × bob (cat 1, dog 2): p_e = 4/9 → κ = 0.4.
        // alice–carol on r4 only: agree on one category, κ = 1. bob and carol share no item.
        #expect(a.pairs.map { "\($0.a)-\($0.b)" } == ["alice-bob", "alice-carol"])
        #expect(a.pairs[0].items == 3)
        #expect(abs(try #require(a.pairs[0].cohenKappa) - 0.4) < 1e-12)
        #expect(abs(a.pairs[0].percentAgreement - 2.0 / 3) < 1e-12)
        #expect(a.pairs[1].items == 1 && a.pairs[1].cohenKappa == 1 && a.pairs[1].percentAgreement == 1)
    }

    @Test func jsonKeepsTheHeaderAndAddsTheSheet() throws {
        let sheet = Datasheet(snapshot: info, rows: rows, labels: ["cat", "dog"], ordered: false, hashVerified: true)
        let header = JSONValue.object([("snapshot", .string("v2")), ("items", .int(6))])
        let json = sheet.json(header: header).serialized()
        #expect(json.hasPrefix("{\"snapshot\":\"v2\",\"items\":6,\"labels\":{\"cat\":4,\"dog\":2},\"sources\":{\"consensus\":4,\"auto\":1,\"seed\":1}"))
        for key in ["\"splits\":{\"train\":4,\"dev\":1,\"test\":1}", "\"annotators\":3", "\"answers\":8", "\"answered_items\":4",
                    "\"hash_verified\":true", "\"ordered_labels\":false", "\"agreement\":{\"krippendorff_alpha\":"] {
            #expect(json.contains(key), "\(key)")
        }
    }

    @Test func markdownHasEverySection() {
        let md = Datasheet(snapshot: info, rows: rows + [row("x", "a|b", .seed, .dev)], labels: ["cat", "dog"], ordered: true).markdown
        #expect(md.hasPrefix("# Datasheet: snapshot v2\n"))
        for needle in ["| parent | v1 |", "| rounds covered | 1, 2 |", "| consensus method | majority |", "| model version | m3 |",
                       "## Labels", "| cat | 4 | 66.7% | 2 | 1 | 1 |", "| a\\|b | 1 |", "## Sources", "| consensus | 4 |",
                       "3 distinct annotators gave 8 answers on 4 items: alice, bob, carol.", "Krippendorff's α (ordinal)",
                       "### Annotator pairs", "| alice | bob | 3 | 0.400 | 66.7% |"] {
            #expect(md.contains(needle), "\(needle)")
        }
    }
}
