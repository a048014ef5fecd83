import Testing
import QuorumNumerics
@testable import QuorumSampling

/// Seeded test data: uniform rows, Gaussian-ish blobs, and copies of rows.
struct DiversityData {
    var rng: SeededGenerator

    init(seed: UInt64) { rng = SeededGenerator(seed: seed) }

    /// Uniform in [−1, 1), 24 random bits per value (no grid, so distinct rows never tie by accident).
    mutating func uniform() -> Float { Float(rng.next() >> 40) / Float(1 << 23) - 1 }

    mutating func uniformMatrix(_ n: Int, _ d: Int, scale: Float = 10) -> Matrix {
        Matrix(rows: n, cols: d, storage: (0..<(n * d)).map { _ in uniform() * scale })
    }

    /// `sizes[b]` rows around blob b's centre (±`spread` per coordinate), blobs far apart;
    /// rows are shuffled so a blob's members are not contiguous. Returns the rows and each row's blob.
    mutating func blobs(_ sizes: [Int], _ d: Int, separation: Float = 100, spread: Float = 1) -> (Matrix, [Int]) {
        let centres = sizes.indices.map { _ in (0..<d).map { _ in uniform() * separation } }
        var labels = sizes.enumerated().flatMap { b, size in [Int](repeating: b, count: size) }
        labels.shuffle(using: &rng)
        var storage: [Float] = []
        for b in labels { for j in 0..<d { storage.append(centres[b][j] + uniform() * spread) } }
        return (Matrix(rows: labels.count, cols: d, storage: storage), labels)
    }

    /// Overwrites `copies` random rows with copies of other random rows.
    mutating func duplicateRows(_ x: inout Matrix, copies: Int) {
        for _ in 0..<copies {
            let from = Int(rng.next() % UInt64(x.rows)), to = Int(rng.next() % UInt64(x.rows))
            for j in 0..<x.cols { x[to, j] = x[from, j] }
        }
    }
}

extension DiversityTests {
    @Test func lazyKCenterEqualsTheNaiveGreedy() {
        for seed in UInt64(1)...3 {
            var data = DiversityData(seed: seed)
            // Shapes: d = 7 (scalar tail), 19 (16-wide lanes + tail), 24 (16 + 8), and d = 2 with
            // count²/2 > n·d, where the gaps between picks are not kept.
            var cases: [(String, Matrix, Int)] = [
                ("uniform", data.uniformMatrix(300, 7), 40),
                ("clustered", data.blobs([5, 40, 80, 120, 30, 25], 19).0, 60),
                ("narrow", data.uniformMatrix(300, 2), 60),
            ]
            var duplicated = data.blobs([60, 60, 90], 24, separation: 20, spread: 3).0
            data.duplicateRows(&duplicated, copies: 80)
            cases.append(("duplicates", duplicated, 70))
            // Only 12 distinct rows, more picks than that: the last picks are ties at distance 0.
            let distinct = data.uniformMatrix(12, 5)
            cases.append(("all duplicates", distinct.rows(at: (0..<48).map { ($0 * 7) % 12 }), 20))
            for (name, x, count) in cases {
                let first = (0..<x.rows).map { Double(($0 * 37) % 101) }
                let top = first.indices.max { first[$0] < first[$1] }!
                #expect(Diversity.select(.kCenter, candidates: x, count: count, priority: first)
                        == naiveKCenter(x, count: count, centers: nil, first: top), "\(name), seed \(seed)")
                #expect(Diversity.select(.kCenter, candidates: x, count: count)
                        == naiveKCenter(x, count: count, centers: nil, first: 0), "\(name), seed \(seed), row 0 first")
                // Existing centers: some far, plus copies of candidate rows (distance exactly 0).
                var centers = data.uniformMatrix(30, x.cols, scale: 50)
                for r in 0..<10 { for j in 0..<x.cols { centers[r, j] = x[(r * 13) % x.rows, j] } }
                #expect(Diversity.select(.kCenter, candidates: x, count: count, centers: centers)
                        == naiveKCenter(x, count: count, centers: centers, first: -1), "\(name), seed \(seed), with centers")
            }
        }
    }

    @Test func weightedKMeansPlusPlusFollowsPriority() {
        // 40 rows with priority 1 spread over [−10, 10)^4, 40 rows with priority 0 far away (≈ +100).
        var data = DiversityData(seed: 31)
        var x = data.uniformMatrix(80, 4)
        for i in 40..<80 { for j in 0..<4 { x[i, j] += 100 } }
        var priority = (0..<80).map { $0 < 40 ? 1.0 : 0.0 }
        priority[17] = 3
        for seed in UInt64(1)...5 {
            let picks = Diversity.select(.weightedKMeansPlusPlus, candidates: x, count: 30, priority: priority, seed: seed)
            #expect(picks.first == 17, "the highest priority first")
            #expect(picks.allSatisfy { $0 < 40 }, "a zero-priority row was drawn: \(picks)")
            #expect(Set(picks).count == 30)
            #expect(picks == Diversity.select(.weightedKMeansPlusPlus, candidates: x, count: 30, priority: priority, seed: seed))
            // Plain k-means++ from the same start does go to the far rows.
            let plain = Diversity.select(.kMeansPlusPlus, candidates: x, count: 30, priority: priority, seed: seed)
            #expect(plain.contains { $0 >= 40 })
        }
        #expect(Diversity.select(.weightedKMeansPlusPlus, candidates: x, count: 30, priority: priority, seed: 1)
                != Diversity.select(.weightedKMeansPlusPlus, candidates: x, count: 30, priority: priority, seed: 2))
        // Once every positive-priority row is taken, the rest come by distance alone, without repeats.
        let all = Diversity.select(.weightedKMeansPlusPlus, candidates: x, count: 50, priority: priority, seed: 3)
        #expect(Set(all.prefix(40)) == Set(0..<40))
        #expect(Set(all).count == 50)
    }

    @Test func weightedKMeansPlusPlusSkipsCoveredDuplicates() {
        // Row 0 has the top priority and nine exact copies; covered copies have distance 0, so they
        // are never drawn while any other row has positive mass, however high their priority.
        var data = DiversityData(seed: 5)
        var x = data.uniformMatrix(30, 3)
        for i in 1..<10 { for j in 0..<3 { x[i, j] = x[0, j] } }
        let priority = (0..<30).map { $0 < 10 ? 100.0 : 1.0 }
        let picks = Diversity.select(.weightedKMeansPlusPlus, candidates: x, count: 21, priority: priority, seed: 8)
        #expect(picks.first == 0)
        #expect(Set(picks) == Set([0] + Array(10..<30)))
    }

    @Test func clusterMarginTakesTheTopOfEachClusterSmallestFirst() {
        for seed in UInt64(1)...4 {
            var data = DiversityData(seed: seed)
            let sizes = [12, 3, 20, 8, 5]
            let (x, blob) = data.blobs(sizes, 6)
            let priority = (0..<x.rows).map { _ in Double(data.uniform()) }
            let picks = Diversity.select(.clusterMargin, candidates: x, count: 5, priority: priority, seed: seed)
            // One per blob, blobs from smallest to largest, each blob's most uncertain row.
            let bySize = sizes.indices.sorted { sizes[$0] < sizes[$1] }
            #expect(picks.map { blob[$0] } == bySize, "seed \(seed)")
            for p in picks {
                let best = blob.indices.filter { blob[$0] == blob[p] }.max { priority[$0] < priority[$1] }!
                #expect(p == best, "seed \(seed): blob \(blob[p]) gave \(p), its most uncertain is \(best)")
            }
        }
    }

    @Test func clusterMarginGoesRoundRobin() {
        // Three clusters of identical rows (sizes 2, 4, 6): k-means finds only three non-empty
        // clusters, so seven picks take rounds: 1 of each, 2 of each, then the third of the two larger,
        // each time the most uncertain row left in the cluster.
        let points: [[Float]] = [[0, 0], [50, 0], [0, 50]]
        let membership = [2, 1, 0, 2, 1, 2, 0, 2, 1, 2, 1, 2]  // sizes: cluster 0: 2, 1: 4, 2: 6
        let x = Matrix(rows: 12, cols: 2, storage: membership.flatMap { points[$0] })
        let priority: [Double] = [5, 1, 9, 7, 3, 2, 4, 8, 6, 1, 0, 3]
        let picks = Diversity.select(.clusterMargin, candidates: x, count: 7, priority: priority, seed: 2)
        func ranked(_ c: Int) -> [Int] {
            membership.indices.filter { membership[$0] == c }
                .sorted { priority[$0] > priority[$1] || (priority[$0] == priority[$1] && $0 < $1) }
        }
        let (small, middle, large) = (ranked(0), ranked(1), ranked(2))
        #expect(picks == [small[0], middle[0], large[0], small[1], middle[1], large[1], middle[2]])
        #expect(Diversity.select(.clusterMargin, candidates: x, count: 7, priority: priority, seed: 2) == picks)
    }
}
