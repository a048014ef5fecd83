import QuorumConsensus
import Testing

/// Multi-label answers (issue 15): MASI, Krippendorff's α with MASI, and consensus label by label.
@Suite struct LabelSetTests {
    /// NLTK 3.10.4, `nltk.metrics.distance.masi_distance` on the same sets:
    /// {a} vs {a,b} 0.6666666666666667; {a,c} vs {b} 1.0; {b,c} vs {c,d} 0.8888888888888888;
    /// {a,b,c} vs {a,b} 0.5555555555555556. (a = 0, b = 1, c = 2, d = 3.)
    @Test func masiMatchesNLTK() {
        #expect(abs(Agreement.masiDistance([0], [0, 1]) - 0.6666666666666667) < 1e-12)
        #expect(Agreement.masiDistance([0, 2], [1]) == 1)
        #expect(abs(Agreement.masiDistance([1, 2], [2, 3]) - 0.8888888888888888) < 1e-12)
        #expect(abs(Agreement.masiDistance([0, 1, 2], [0, 1]) - 0.5555555555555556) < 1e-12)
        #expect(Agreement.masiDistance([], []) == 0 && Agreement.masiDistance([3], [3]) == 0)
        #expect(Agreement.masiDistance([], [1]) == 1, "the empty set shares nothing with a label")
    }

    /// Reference: NLTK 3.10.4,
    /// `AnnotationTask(data=…, distance=masi_distance).alpha()` = 0.284496124031 and with
    /// `binary_distance` (each distinct set a nominal value) = 0.226190476190, on
    /// three coders and five items (i4 has two answers), the label sets below as frozensets.
    @Test func alphaWithMASIMatchesNLTK() {
        let a = 0, b = 1, c = 2, d = 3
        let units: [[Set<Int>]] = [
            [[a], [a], [a, b]],
            [[b, c], [b], [b, c]],
            [[a, c], [b], [c]],
            [[c], [c]],
            [[a, b, c], [a, b], [d]],
        ]
        let alpha = try! #require(Agreement.krippendorffAlphaMASI(units: units))
        #expect(abs(alpha - 0.284496124031) < 1e-9)
        // The same sets as nominal values through the generic α.
        var index: [Set<Int>: Int] = [:]
        let coded = units.map { $0.map { s in index[s] ?? { index[s] = index.count; return index.count - 1 }() } }
        let nominal = try! #require(Agreement.krippendorffAlpha(units: coded, values: index.count) { c, k, _ in c == k ? 0 : 1 })
        #expect(abs(nominal - 0.226190476190) < 1e-9)
    }

    /// Majority label by label, worked by hand. Item 1: three answers {x}, {x, y}, {x}: x 3/3,
    /// y 1/3 → {x}. Item 2: {y}, {} : x 0/2 → no, y 1/2 → a tie, so the item is a dispute.
    /// Item 3: {}, {}, {z}: nothing reaches a majority → the empty set, settled.
    @Test func majorityPerLabel() throws {
        let votes = [
            LabelSetVote(item: 1, annotator: "ann", labels: ["x"]), LabelSetVote(item: 1, annotator: "bo", labels: ["x", "y"]),
            LabelSetVote(item: 1, annotator: "cy", labels: ["x"]),
            LabelSetVote(item: 2, annotator: "ann", labels: ["y"]), LabelSetVote(item: 2, annotator: "bo", labels: []),
            LabelSetVote(item: 3, annotator: "ann", labels: []), LabelSetVote(item: 3, annotator: "bo", labels: []),
            LabelSetVote(item: 3, annotator: "cy", labels: ["z"]),
        ]
        let v = try LabelSetConsensus.aggregate(votes, labels: ["x", "y", "z"], using: MajorityVote())
        #expect(v.map(\.item) == [1, 2, 3])
        #expect(v[0].labels == ["x"] && v[0].votes == 3)
        #expect(abs(v[0].posteriors[0] - 1) < 1e-12 && abs(v[0].posteriors[1] - 1.0 / 3) < 1e-12)
        #expect(abs(v[0].confidence - 2.0 / 3) < 1e-12, "the least sure label: y at 1/3 yes")
        #expect(v[1].isDispute && v[1].disputedLabels == ["y"])
        #expect(v[2].labels == [] && !v[2].isDispute)
        #expect(throws: AggregationError.unknownLabel("w", item: 1, annotator: "ann")) {
            try LabelSetConsensus.aggregate([LabelSetVote(item: 1, annotator: "ann", labels: ["w"])], labels: ["x"], using: MajorityVote())
        }
    }

    /// Dawid–Skene per label is Dawid–Skene on that label's yes/no answers.
    @Test func dawidSkenePerLabelIsBinaryDawidSkene() throws {
        var votes: [LabelSetVote] = []
        // Deterministic answers: 40 items, 4 annotators; "bad" flips label y on every third item.
        for item in 0..<40 {
            let truth: Set<String> = item % 2 == 0 ? ["x"] : ["x", "y"]
            for (n, who) in ["ann", "bo", "cy", "bad"].enumerated() {
                var given = truth
                if who == "bad", item % 3 == 0 { if given.contains("y") { given.remove("y") } else { given.insert("y") } }
                if n == 1, item % 7 == 0 { given.remove("x") }
                votes.append(LabelSetVote(item: Int64(item), annotator: who, labels: given))
            }
        }
        let ds = DawidSkene()
        let v = try LabelSetConsensus.aggregate(votes, labels: ["x", "y"], using: ds)
        let yes = try ds.aggregate(votes.map { Vote(item: $0.item, annotator: $0.annotator, label: $0.labels.contains("y") ? "yes" : "no") },
                                   labels: ["no", "yes"])
        for (row, verdict) in yes.verdicts.enumerated() {
            #expect(abs(v[row].posteriors[1] - yes.posteriors[row * 2 + 1]) < 1e-12)
            #expect((v[row].labels?.contains("y")) == (verdict.label.map { $0 == "yes" }))
        }
        #expect(v.allSatisfy { !$0.isDispute } && v.filter { $0.labels == ["x", "y"] }.count == 20)
    }
}
