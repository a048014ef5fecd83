import Testing
import QuorumNumerics
@testable import QuorumSampling

@Suite struct DiversityTests {
    func randomMatrix(_ n: Int, _ d: Int, seed: UInt64) -> Matrix {
        var rng = SeededGenerator(seed: seed)
        return Matrix(rows: n, cols: d, storage: (0..<(n * d)).map { _ in Float(rng.next() % 2000) / 100 - 10 })
    }

    /// The naive reference, O(n·(m + count)·d): every row's minimum squared distance Σ(x − c)²
    /// over all centers so far, updated with each pick over every row; each pick is the
    /// unpicked row with the largest (ties: the lowest index). `first` is the first pick when
    /// there are no centers.
    func naiveKCenter(_ x: Matrix, count: Int, centers: Matrix?, first: Int) -> [Int] {
        func dist(_ a: Matrix, _ i: Int, _ b: Matrix, _ j: Int) -> Float {
            var s: Float = 0
            for c in 0..<a.cols { let t = a[i, c] - b[j, c]; s += t * t }
            return s
        }
        var minDistance = [Float](repeating: .infinity, count: x.rows)
        if let centers {
            for i in 0..<x.rows { for j in 0..<centers.rows { minDistance[i] = min(minDistance[i], dist(x, i, centers, j)) } }
        }
        var picked: [Int] = []
        var isPicked = [Bool](repeating: false, count: x.rows)
        for step in 0..<count {
            var next = -1
            if step == 0 && (centers?.rows ?? 0) == 0 {
                next = first
            } else {
                var best: Float = -1
                for i in 0..<x.rows where !isPicked[i] && minDistance[i] > best { best = minDistance[i]; next = i }
            }
            picked.append(next)
            isPicked[next] = true
            for i in 0..<x.rows { minDistance[i] = min(minDistance[i], dist(x, i, x, next)) }
        }
        return picked
    }

    @Test func kCenterMakesTheNaivePicks() {
        for seed in UInt64(1)...5 {
            let x = randomMatrix(60, 5, seed: seed)
            let priority = (0..<60).map { Double(($0 * 37) % 60) }
            let first = priority.indices.max { priority[$0] < priority[$1] }!
            let fast = Diversity.select(.kCenter, candidates: x, count: 12, priority: priority)
            #expect(fast == naiveKCenter(x, count: 12, centers: nil, first: first), "seed \(seed)")
            let centers = randomMatrix(700, 5, seed: seed + 100)  // more than one 512-row block
            let withCenters = Diversity.select(.kCenter, candidates: x, count: 12, centers: centers)
            #expect(withCenters == naiveKCenter(x, count: 12, centers: centers, first: -1), "seed \(seed), with centers")
        }
    }

    @Test func tiledCenterPassMatchesTheNaivePicks() {
        // More candidates than one 4,096-row tile and more centers than one 512-row block.
        let x = randomMatrix(4500, 3, seed: 21)
        let centers = randomMatrix(600, 3, seed: 22)
        #expect(Diversity.select(.kCenter, candidates: x, count: 4, centers: centers)
                == naiveKCenter(x, count: 4, centers: centers, first: -1))
    }

    @Test func kMeansPlusPlusIsSeededAndNeverRepeats() {
        let x = randomMatrix(200, 8, seed: 9)
        let a = Diversity.select(.kMeansPlusPlus, candidates: x, count: 30, seed: 4)
        #expect(a == Diversity.select(.kMeansPlusPlus, candidates: x, count: 30, seed: 4))
        #expect(a != Diversity.select(.kMeansPlusPlus, candidates: x, count: 30, seed: 5))
        #expect(Set(a).count == 30)
    }

    @Test func nearDuplicatesAreNotPickedTogether() {
        // Ten tight pairs: k-center picks one of each pair before any second.
        var storage: [Float] = []
        for p in 0..<10 { storage += [Float(p * 10), 0, Float(p * 10) + 0.01, 0] }
        let x = Matrix(rows: 20, cols: 2, storage: storage)
        let picks = Diversity.select(.kCenter, candidates: x, count: 10)
        #expect(Set(picks.map { $0 / 2 }).count == 10)
    }
}

@Suite struct BlendTests {
    @Test func parsesNormalisesAndRefuses() throws {
        let b = try Blend(parsing: "uncertainty=2, random=2")
        #expect(b.weights.map(\.strategy) == [.uncertainty, .random])
        #expect(b.weights.map(\.weight) == [0.5, 0.5])
        #expect(throws: Blend.ParseError.self) { try Blend(parsing: "uncertainty=0.5,magic=0.5") }
        #expect(throws: Blend.ParseError.self) { try Blend(parsing: "uncertainty=-1") }
        #expect(throws: Blend.ParseError.self) { try Blend(parsing: "random=0") }
        #expect(throws: Blend.ParseError.self) { try Blend(parsing: "random=1,random=1") }
    }

    @Test func allocationAddsUpExactly() {
        for n in [0, 1, 7, 20, 99] {
            #expect(Blend.standard.allocate(n).map(\.count).reduce(0, +) == n)
        }
        #expect(Blend.standard.allocate(20).map(\.count) == [14, 3, 3])
    }
}

@Suite struct SamplerTests {
    func pool(_ n: Int, withModel: Bool) -> PoolCandidates {
        var m = EnsembleMeasures(count: n)
        for i in 0..<n { m.confidence[i] = Float(i) / Float(n) }
        var p = PoolCandidates(keys: (0..<n).map { Int64($0) }, contentGroups: (0..<n).map { Int64($0 % (n - 3)) },
                               strata: (0..<n).map { $0 % 10 == 0 ? "rare" : "common" },
                               measures: withModel ? m : nil,
                               embeddings: Matrix(rows: n, cols: 2, storage: (0..<(2 * n)).map { Float(($0 * 7919) % 101) }))
        if withModel {
            p.boundaryDistance = (0..<n).map { Float(($0 * 31) % n) }
            p.overrideSimilarity = (0..<n).map { Float(($0 * 17) % n) / Float(n) }
        }
        return p
    }

    @Test func theSharedContract() {
        // Every strategy mix: the right count, no item or content group twice, ranks 1… per strategy, repeatable.
        for blend in ["uncertainty=1", "stratified=1", "random=1", "adversarial=1",
                      "uncertainty=0.4,stratified=0.2,adversarial=0.2,random=0.2"] {
            for model in [true, false] {
                for diversity in Diversity.Method.allCases {
                    let options = SamplerOptions(blend: try! Blend(parsing: blend), diversity: diversity, stratumFloor: 2, seed: 3)
                    let p = pool(200, withModel: model)
                    let picks = Sampler.pick(p, count: 25, options: options, excludedGroups: [0])
                    #expect(picks.count == 25, "\(blend) \(model) \(diversity)")
                    #expect(Set(picks.map(\.index)).count == 25)
                    #expect(Set(picks.map { p.contentGroups[$0.index] }).count == 25)
                    #expect(!picks.contains { p.contentGroups[$0.index] == 0 })
                    for strategy in Strategy.allCases {
                        let ranks = picks.filter { $0.strategy == strategy }.map(\.rank)
                        #expect(ranks == Array(1...max(ranks.count, 1)).prefix(ranks.count).map { $0 })
                    }
                    #expect(picks == Sampler.pick(p, count: 25, options: options, excludedGroups: [0]))
                }
            }
        }
    }

    @Test func uncertaintyPicksTheLeastConfident() {
        let options = SamplerOptions(blend: try! Blend(parsing: "uncertainty=1"), uncertainty: .leastConfident, diversity: .none)
        let picks = Sampler.pick(pool(100, withModel: true), count: 5, options: options)
        #expect(picks.map(\.index) == [0, 1, 2, 3, 4])
        #expect(picks.allSatisfy { $0.strategy == .uncertainty })
    }

    @Test func aFloorMakesSmallStrataSeen() {
        let options = SamplerOptions(blend: try! Blend(parsing: "stratified=1"), diversity: .none, stratumFloor: 4)
        let p = pool(200, withModel: true)
        let picks = Sampler.pick(p, count: 10, options: options)
        #expect(picks.filter { p.strata[$0.index] == "rare" }.count >= 4)
        let proportional = Sampler.pick(p, count: 10, options: SamplerOptions(blend: try! Blend(parsing: "stratified=1"), diversity: .none))
        #expect(proportional.filter { p.strata[$0.index] == "rare" }.count == 1)
    }

    @Test func adversarialTakesTheMostSimilarThenTheNearestToTheBoundary() {
        let options = SamplerOptions(blend: try! Blend(parsing: "adversarial=1"), diversity: .none)
        let p = pool(100, withModel: true)
        let picks = Sampler.pick(p, count: 4, options: options)
        #expect(picks.allSatisfy { $0.strategy == .adversarial })
        let similar = (0..<100).sorted { p.overrideSimilarity![$0] > p.overrideSimilarity![$1] }.prefix(2)
        #expect(Set(picks.prefix(2).map(\.index)) == Set(similar))
        #expect(picks[2].index == 0, "distance 0 to the boundary")
    }

    @Test func coldStartUsesNoUncertainty() {
        let picks = Sampler.pick(pool(100, withModel: false), count: 20, options: SamplerOptions())
        #expect(!picks.contains { $0.strategy == .uncertainty })
        #expect(picks.count == 20)
    }
}

@Suite struct SimilarityTests {
    @Test func maxCosineMatchesABruteForce() {
        // Reference by hand: cos(a, b) = a·b / (|a||b|).
        let x = Matrix(rows: 3, cols: 2, storage: [1, 0, 0, 2, 1, 1])
        let t = Matrix(rows: 2, cols: 2, storage: [3, 0, 1, 1])
        let s = Similarity.maxCosine(x, to: t, block: 1)
        let expected: [Float] = [1, Float(1 / 2.0.squareRoot()), 1]
        for (a, b) in zip(s, expected) { #expect(abs(a - b) < 1e-6) }
    }
}

@Suite struct AdaptiveBlendTests {
    func weights(_ blend: Blend) -> [Strategy: Double] {
        Dictionary(uniqueKeysWithValues: blend.weights.map { ($0.strategy, $0.weight) })
    }

    @Test func weightFollowsWhatPicksBoughtAgainstRandom() {
        // Standard 0.7 / 0.15 / 0.15. Uncertainty beat random: +min(0.7·0.25, 0.15 − 0.1) = +0.05 from random;
        // stratified fell behind: half its 0.15 moves to random. By hand: 0.75, 0.075, 0.175.
        let w = weights(AdaptiveBlend.update(.standard, gains: [.uncertainty: 0.5, .stratified: 0.05, .random: 0.1]))
        #expect(abs(w[.uncertainty]! - 0.75) < 1e-12)
        #expect(abs(w[.stratified]! - 0.075) < 1e-12)
        #expect(abs(w[.random]! - 0.175) < 1e-12)
    }

    @Test func uncertaintyThatStopsPayingLosesItsWeightToRandom() {
        var blend = Blend.standard
        for _ in 0..<5 { blend = AdaptiveBlend.update(blend, gains: [.uncertainty: -0.01, .random: 0.02]) }
        let w = weights(blend)
        #expect(abs(w[.uncertainty]! - 0.7 / 32) < 1e-12, "halved five times")
        #expect(abs(w[.stratified]! - 0.15) < 1e-12, "no gain measured: unchanged")
        let expectedRandom: Double = 1 - 0.7 / 32 - 0.15
        #expect(abs(w[.random]! - expectedRandom) < 1e-12)
        let note = AdaptiveBlend.note(gains: [.uncertainty: -0.01, .random: 0.02])
        #expect(note?.contains("uncertainty picks bought less than random picks") == true)
        #expect(note?.contains("moves to random") == true)
    }

    /// Issue 10: `--blend auto` moved weight on differences a round's few random
    /// picks cannot resolve. A gain within `z` standard errors of the
    /// difference from random's moves nothing; outside it, the rule applies.
    @Test func differencesWithinTheNoiseMoveNoWeight() {
        // uncertainty −0.01 vs random 0.02: difference 0.03; its SE is √(0.02² + 0.02²) = 0.0283 < 0.03 → behind;
        // stratified 0.05 vs 0.02 with SEs 0.03 and 0.02: √(0.0009 + 0.0004) = 0.036 > 0.03 → within the noise.
        let errors: [Strategy: Double] = [.uncertainty: 0.02, .stratified: 0.03, .random: 0.02]
        let gains: [Strategy: Double] = [.uncertainty: -0.01, .stratified: 0.05, .random: 0.02]
        let w = weights(AdaptiveBlend.update(.standard, gains: gains, errors: errors))
        #expect(abs(w[.uncertainty]! - 0.35) < 1e-12, "behind by more than the noise: halved")
        #expect(abs(w[.stratified]! - 0.15) < 1e-12, "within the noise: unchanged")
        #expect(abs(w[.random]! - 0.5) < 1e-12)
        let note = AdaptiveBlend.note(gains: gains, errors: errors)
        #expect(note?.contains("stratified picks were within the noise of random's") == true, "\(note ?? "")")
        // With wide errors nothing moves at all.
        let wide = weights(AdaptiveBlend.update(.standard, gains: gains, errors: [.uncertainty: 1, .stratified: 1, .random: 1]))
        #expect(wide == weights(.standard))
    }

    @Test func randomKeepsItsFloor() {
        var blend = Blend.standard
        for _ in 0..<10 { blend = AdaptiveBlend.update(blend, gains: [.uncertainty: 1, .stratified: 0.5, .random: 0]) }
        let w = weights(blend)
        #expect(abs(w[.random]! - AdaptiveBlend.randomFloor) < 1e-12)
        #expect(abs(blend.weights.map(\.weight).reduce(0, +) - 1) < 1e-12)
        let noRandom = AdaptiveBlend.update(try! Blend(parsing: "uncertainty=1"), gains: [:])
        #expect(noRandom.weights.contains { $0.strategy == .random && abs($0.weight - 0.1) < 1e-12 })
    }
}
