import Testing
@testable import QuorumConsensus

@Suite struct AgreementTests {
    @Test func cohenKappaMatchesIrrCAC() {
        // Reference: irrCAC's `cont3x3abstractors` table (Gwet), for which irrCAC::kappa2.table
        // reports Cohen's kappa = 0.7964094. Rows: abstractor 1; columns: abstractor 2.
        let table: [[Double]] = [[13, 0, 0], [0, 20, 7], [0, 4, 56]]
        let kappa = Agreement.cohenKappa(table: table)!
        #expect(abs(kappa - 0.7964094) < 1e-6)
    }

    @Test func fromPairsAndEdgeCases() {
        #expect(Agreement.cohenKappa([0, 1, 2, 1], [0, 1, 2, 1], classes: 3) == 1)
        #expect(Agreement.cohenKappa([0, 0, 0], [0, 0, 0], classes: 2) == 1, "one shared category")
        #expect(Agreement.cohenKappa(table: []) == nil)
        // Two raters who agree only by chance: p_o = 0.5, p_e = 0.5 → κ = 0.
        #expect(Agreement.cohenKappa([0, 0, 1, 1], [0, 1, 0, 1], classes: 2) == 0)
    }
}

@Suite struct ReliabilityReferenceTests {
    // Krippendorff's own example (3 coders × 15 units, with missing values), also used in
    // Wikipedia's article on Krippendorff's alpha. Published: nominal α = 0.691, interval α = 0.811.
    // To 1e-6, from the Python package krippendorff 0.9.0 on the same data:
    // nominal 0.691358024691358, interval 0.8108448928121059, ordinal 0.8067214199413153.
    let coders: [[Double?]] = [
        [nil, nil, nil, nil, nil, 3, 4, 1, 2, 1, 1, 3, 3, nil, 3],
        [1, nil, 2, 1, 3, 3, 4, 3, nil, nil, nil, nil, nil, nil, nil],
        [nil, nil, 2, 1, 3, 4, 4, nil, 2, 1, 1, 3, 3, nil, 4],
    ]
    var units: [[Double?]] { (0..<15).map { u in coders.map { $0[u] } } }

    @Test func krippendorffAlphaMatchesTheReference() {
        #expect(abs(Agreement.krippendorffAlpha(units, metric: .nominal)! - 0.691358024691358) < 1e-6)
        #expect(abs(Agreement.krippendorffAlpha(units, metric: .interval)! - 0.8108448928121059) < 1e-6)
        #expect(abs(Agreement.krippendorffAlpha(units, metric: .ordinal)! - 0.8067214199413153) < 1e-6)
    }

    @Test func fleissKappaMatchesIrrCAC() {
        // Krippendorff's 4 observers × 12 units example (Krippendorff 2011, "Computing Krippendorff's
        // alpha-reliability"); irrCAC's fleiss.kappa.raw gives 0.761. The same formula in numpy gives
        // 0.7611692754224112 (units with no rating dropped, p_a over units with ≥ 2 ratings).
        let observers: [[Int?]] = [
            [1, 2, 3, 3, 2, 1, 4, 1, 2, nil, nil, nil],
            [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nil, 3],
            [nil, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nil],
            [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nil],
        ]
        let units = (0..<12).map { u in observers.map { $0[u] } }
        #expect(abs(Agreement.fleissKappa(units)! - 0.7611692754224112) < 1e-6)
    }
}

@Suite struct PairwiseAgreementTests {
    @Test func pairwiseMatchesScikitLearnOnCompleteCases() throws {
        // Krippendorff's 4 observers × 12 units (missing values included). Reference from
        // experiments/agreement/pairwise_reference.py: scikit-learn 1.9.1 `cohen_kappa_score`
        // on each pair's shared units, and the share of those units where the pair agrees.
        let observers: [[Int?]] = [
            [1, 2, 3, 3, 2, 1, 4, 1, 2, nil, nil, nil],
            [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nil, 3],
            [nil, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nil],
            [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nil],
        ]
        let units = (0..<12).map { u in observers.map { $0[u].map { $0 - 1 } } }
        let reference: [(Int, Int, Int, Double, Double)] = [
            (0, 1, 9, 0.8448275862068966, 0.8888888888888888),
            (0, 2, 8, 0.4782608695652174, 0.625),
            (0, 3, 9, 0.85, 0.8888888888888888),
            (1, 2, 9, 0.5423728813559321, 0.6666666666666666),
            (1, 3, 10, 0.8701298701298701, 0.9),
            (2, 3, 10, 0.6153846153846154, 0.7),
        ]
        let pairs = Agreement.pairwise(units, categories: 5)
        #expect(pairs.count == reference.count)
        for (pair, (a, b, n, kappa, agree)) in zip(pairs, reference) {
            #expect(pair.a == a && pair.b == b && pair.units == n)
            #expect(abs(try #require(pair.cohenKappa) - kappa) < 1e-9)
            #expect(abs(pair.percentAgreement - agree) < 1e-12)
        }
    }

    @Test func pairsWithoutSharedUnitsAreLeftOut() {
        // Raters 0 and 2 never rate the same unit; rater 1 shares one unit with each.
        let units: [[Int?]] = [[0, 1, nil], [nil, 1, 1], [0, nil, nil], [nil, nil, 1]]
        let pairs = Agreement.pairwise(units, categories: 2)
        #expect(pairs.map { [$0.a, $0.b, $0.units] } == [[0, 1, 1], [1, 2, 1]])
        #expect(pairs[0].cohenKappa == 0 && pairs[0].percentAgreement == 0, "one disagreement: p_o = p_e = 0")
        #expect(pairs[1].cohenKappa == 1 && pairs[1].percentAgreement == 1, "one shared category: κ is 1 by convention")
        #expect(Agreement.pairwise([], categories: 2).isEmpty)
        // Sparse units may list raters in any order; the pair is still (0, 1), its table oriented the same.
        let sparse = Agreement.pairwise(units: [[(rater: 1, category: 0), (rater: 0, category: 1)], [(rater: 0, category: 1), (rater: 1, category: 1)]],
                                        raters: 2, categories: 2)
        #expect(sparse == Agreement.pairwise([[1, 0], [1, 1]], categories: 2))
    }

    @Test func percentAgreementPoolsPairs() {
        // Unit 1: 3 ratings, pairs (0,0) agree, (0,1) ×2 disagree → 1 of 3; unit 2: 1 of 1; unit 3: no pair.
        #expect(Agreement.percentAgreement([[0, 0, 1], [1, nil, 1], [nil, 0, nil]]) == 0.5)
        #expect(Agreement.percentAgreement([[0, nil], [nil, 1]]) == nil)
    }
}
