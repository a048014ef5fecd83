import Foundation
import Testing
@testable import QuorumConsensus

/// Each aggregator's numbers against values computed by hand or by the reference library.
@Suite struct AggregatorReferenceTests {
    /// Majority vote's annotator quality, by hand: items 1 (a x, b x, c y), 2 (a x, b y: tie),
    /// 3 (c z). a: 1 + ½ over 2 answers = 0.75; b: 1 + ½ = 0.75; c: 0 + 1 over 2 = 0.5.
    @Test func majorityQualityIsAgreementWithTiesShared() throws {
        let votes = [Vote(item: 1, annotator: "a", label: "x"), Vote(item: 1, annotator: "b", label: "x"),
                     Vote(item: 1, annotator: "c", label: "y"), Vote(item: 2, annotator: "a", label: "x"),
                     Vote(item: 2, annotator: "b", label: "y"), Vote(item: 3, annotator: "c", label: "z")]
        let r = try MajorityVote().aggregate(votes, labels: ["x", "y", "z"])
        #expect(r.verdicts.map(\.label) == ["x", nil, "z"])
        #expect(r.annotators.map(\.accuracy) == [0.75, 0.75, 0.5])
        #expect(r.annotators.map(\.answers) == [2, 2, 2])
        let shares: [Double] = [2.0 / 3, 1.0 / 3, 0]
        #expect(Array(r.posterior(ofItemAt: 0)) == shares)
    }

    /// Weighted majority by hand, L = 3. Gold: a 8/10 → a = 9/12 = 0.75, w = log(2 · 0.75 / 0.25)
    /// = log 6; b 3/10 → a = 4/12, w = log(2 · (1/3) / (2/3)) = log 1 = 0; c none → the pooled
    /// record 11/20 → a = 12/22 = 6/11, w = log(2 · 6/5) = log 2.4.
    /// Item 1 (a x): posterior ∝ (6, 1, 1) → 0.75 = a's accuracy. Item 2 (a x, b y): b weighs 0,
    /// so again 0.75. Item 3 (a x, c y): ∝ (6, 2.4, 1) → 6/9.4. Item 4 (b z): ∝ (1, 1, 1): a tie.
    @Test func weightedMajorityMatchesHandComputedLogOdds() throws {
        let gold: [String: WeightedMajority.GoldRecord] = ["a": .init(answered: 10, correct: 8),
                                                           "b": .init(answered: 10, correct: 3)]
        let votes = [Vote(item: 1, annotator: "a", label: "x"),
                     Vote(item: 2, annotator: "a", label: "x"), Vote(item: 2, annotator: "b", label: "y"),
                     Vote(item: 3, annotator: "a", label: "x"), Vote(item: 3, annotator: "c", label: "y"),
                     Vote(item: 4, annotator: "b", label: "z")]
        let r = try WeightedMajority(gold: gold, minimumGold: 1).aggregate(votes, labels: ["x", "y", "z"])
        let w = r.annotators.map { $0.weight! }
        let expectedWeights: [Double] = [log(6), 0, log(2.4)]
        for (x, y) in zip(w, expectedWeights) { #expect(abs(x - y) < 1e-12) }
        let accuracies: [Double] = [0.75, 4.0 / 12, 12.0 / 22]
        #expect(r.annotators.map(\.accuracy) == accuracies)
        let expected: [[Double]] = [[0.75, 0.125, 0.125], [0.75, 0.125, 0.125],
                                    [6 / 9.4, 2.4 / 9.4, 1 / 9.4], [1.0 / 3, 1.0 / 3, 1.0 / 3]]
        for i in 0..<4 {
            for (x, y) in zip(r.posterior(ofItemAt: i), expected[i]) { #expect(abs(x - y) < 1e-12, "item \(i + 1)") }
        }
        #expect(r.verdicts.map(\.label) == ["x", "x", "x", nil])
        // No gold at all: every weight is 1 and the labels are majority vote's.
        let plain = try WeightedMajority(gold: [:]).aggregate(votes, labels: ["x", "y", "z"])
        #expect(plain.annotators.allSatisfy { $0.weight == 1 })
        #expect(plain.verdicts.map(\.label) == MajorityVote.aggregate(votes).map(\.label))
        #expect(throws: AggregationError.badGold(annotator: "a", answered: 2, correct: 3)) {
            try WeightedMajority(gold: ["a": .init(answered: 2, correct: 3)]).aggregate(votes, labels: ["x", "y", "z"])
        }
    }

    /// Issue 11, item 14: five gold answers are not enough for a weight of one's own. With the
    /// default minimum (10), a (5/5 right) and b (0/5) both get the pooled record's weight
    /// (5 of 10 right → a = 6/12, w = log(2 · 1) = log 2), so their disagreement stays a
    /// dispute instead of a's thin record deciding it; the result says so.
    @Test func weightedMajorityNeedsEnoughGoldBeforeAWeightDecides() throws {
        let gold: [String: WeightedMajority.GoldRecord] = ["a": .init(answered: 5, correct: 5), "b": .init(answered: 5, correct: 0)]
        let votes = [Vote(item: 1, annotator: "a", label: "x"), Vote(item: 1, annotator: "b", label: "y")]
        let r = try WeightedMajority(gold: gold).aggregate(votes, labels: ["x", "y", "z"])
        #expect(r.annotators.map(\.weight) == [log(2), log(2)])
        #expect(r.annotators.map(\.goldAnswers) == [5, 5])
        #expect(r.annotators.map(\.weightBasis) == ["pooled gold", "pooled gold"])
        #expect(r.verdicts.map(\.label) == [nil], "a tie between equal weights is a dispute")
        #expect(r.notes.first?.contains("fewer than 10 gold answers") == true, "\(r.notes)")
        // Under 10 gold answers in all: every weight is 1, as in majority vote, and the note says so.
        let thin = try WeightedMajority(gold: ["a": .init(answered: 3, correct: 3)]).aggregate(votes, labels: ["x", "y", "z"])
        #expect(thin.annotators.allSatisfy { $0.weight == 1 && $0.weightBasis == "none" })
        #expect(thin.notes.first?.contains("every weight is 1") == true)
        // With a lower minimum, a's own record decides (the old behaviour, now a choice).
        let own = try WeightedMajority(gold: gold, minimumGold: 5).aggregate(votes, labels: ["x", "y", "z"])
        #expect(own.verdicts.map(\.label) == ["x"])
    }

    /// cleanlab 2.9.0's `get_label_quality_multiannotator` (CROWDLAB, best_quality) on a
    /// 7 × 3 table: the numbers printed by
    /// `PYTHONPATH=/tmp/clpkg env -u OPENBLAS_CORETYPE python3 experiments/consensus/crowdlab_reference.py`
    /// (cleanlab installed with `pip install --target /tmp/clpkg --no-deps cleanlab==2.9.0 termcolor tqdm`;
    /// numpy 2.4.6, pandas 3.1.1). Checked by hand too: the final consensus on the items with two or
    /// more answers (1, 2, 3, 4, 7) is x z y y z, most common y (first of the y/z tie), so e₀ = 3/5;
    /// the model is right on all five, so w_m = 1 · √(16/7) = 1.5118578920; a agrees with the others
    /// on 4 of 9 shared answers, so w_a = 1 − (5/9)/(3/5) = 2/27 = 0.0740740741.
    @Test func modelAwareMatchesCleanlab() throws {
        let rows: [(item: Int64, a: String?, b: String?, c: String?)] = [
            (1, "x", "x", "x"), (2, "y", "y", "z"), (3, "z", "y", "y"), (4, "x", "y", "x"),
            (5, "y", nil, nil), (6, nil, "z", nil), (7, "z", nil, "x"),
        ]
        var votes: [Vote] = []
        for r in rows {
            for (name, label) in [("a", r.a), ("b", r.b), ("c", r.c)] {
                if let label { votes.append(Vote(item: r.item, annotator: name, label: label)) }
            }
        }
        let model: [Int64: [Double]] = [
            1: [0.80, 0.10, 0.10], 2: [0.20, 0.30, 0.50], 3: [0.10, 0.60, 0.30], 4: [0.30, 0.60, 0.10],
            5: [0.50, 0.40, 0.10], 6: [0.10, 0.20, 0.70], 7: [0.25, 0.25, 0.50],
        ]
        let posteriors: [[Double]] = [
            [0.7597865617, 0.1201067191, 0.1201067191],
            [0.2028723884, 0.3317652369, 0.4653623746],
            [0.1201067191, 0.5800622449, 0.2998310360],
            [0.3140240142, 0.5658692667, 0.1201067191],
            [0.4867663590, 0.4077844947, 0.1054491463],
            [0.1115842478, 0.2016548925, 0.6867608596],
            [0.2626431192, 0.2470251484, 0.4903317323],
        ]
        let r = try ModelAware(probabilities: model, disputeBelow: 0).aggregate(votes, labels: ["x", "y", "z"])
        #expect(r.verdicts.map(\.label) == ["x", "z", "y", "y", "x", "z", "z"])   // cleanlab: 0 2 1 1 0 2 2
        for i in 0..<7 {
            for (x, y) in zip(r.posterior(ofItemAt: i), posteriors[i]) { #expect(abs(x - y) < 1e-9, "item \(i + 1)") }
        }
        #expect(abs(r.modelWeight! - 1.5118578920) < 1e-9)
        let weights = r.annotators.map { $0.weight! }
        for (x, y) in zip(weights, [0.0740740741, 0.1666666667, 0.0740740741]) { #expect(abs(x - y) < 1e-9) }
        // cleanlab's agreement_with_consensus: a 1/3, b 0.8, c 0.6.
        for (x, y) in zip(r.annotators.map(\.accuracy), [1.0 / 3, 0.8, 0.6]) { #expect(abs(x - y) < 1e-12) }
        // With the default threshold 0.5, items 2, 5 and 7 (posterior < 0.5) are disputes.
        let d = try ModelAware(probabilities: model).aggregate(votes, labels: ["x", "y", "z"])
        #expect(d.verdicts.map(\.label) == ["x", nil, "y", "y", nil, "z", nil])
    }

    @Test func modelAwareRejectsBadProbabilities() {
        let votes = [Vote(item: 1, annotator: "a", label: "x")]
        #expect(throws: AggregationError.badProbabilities(item: 1, reason: "2 classes, expected 3")) {
            try ModelAware(probabilities: [1: [0.5, 0.5]]).aggregate(votes, labels: ["x", "y", "z"])
        }
        #expect(throws: AggregationError.self) {
            try ModelAware(probabilities: [1: [0.5, 0.6, 0.1]]).aggregate(votes, labels: ["x", "y", "z"])
        }
        #expect(AggregationError.badProbabilities(item: 1, reason: "they sum to 1.2, not 1").description.contains("item 1"))
    }
}
