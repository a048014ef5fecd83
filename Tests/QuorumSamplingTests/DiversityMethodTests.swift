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
}
