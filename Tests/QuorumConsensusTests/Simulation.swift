import Foundation
@testable import QuorumConsensus

/// SplitMix64: a tiny seeded generator so simulations repeat exactly.
struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    /// Index drawn from unnormalised weights.
    mutating func pick(_ weights: [Double]) -> Int {
        var u = uniform() * weights.reduce(0, +)
        for (i, w) in weights.enumerated() {
            u -= w
            if u < 0 { return i }
        }
        return weights.count - 1
    }
}

/// Simulated annotators with known confusion matrices over the 10 digit classes.
enum Crowd {
    static let k = 10
    static let labels = (0..<k).map(String.init)

    /// 12 annotators: 5 good (right with probability 0.65–0.9, otherwise a
    /// "neighbouring" digit: c±1 or c+5), 3 with a systematic swap (4↔9, 3↔8, 1↔7,
    /// right otherwise 0.85), 2 uniform spammers and 2 who always answer "1".
    /// Row c of a matrix is P(answer | true class c).
    static let matrices: [[[Double]]] = {
        var matrices: [[[Double]]] = []
        for g in 0..<5 {
            let right = 0.65 + 0.0625 * Double(g)
            matrices.append((0..<k).map { c in
                var row = [Double](repeating: 0.02, count: k)
                row[(c + 1) % k] += 0.3; row[(c + k - 1) % k] += 0.3; row[(c + 5) % k] += 0.3
                let rest = row.enumerated().filter { $0.offset != c }.map(\.element).reduce(0, +)
                for l in 0..<k where l != c { row[l] *= (1 - right) / rest }
                row[c] = right
                return row
            })
        }
        for swap in [(4, 9), (3, 8), (1, 7)] {
            matrices.append((0..<k).map { c in
                var row = [Double](repeating: 0.15 / Double(k - 1), count: k)
                row[c] = 0.85
                if c == swap.0 || c == swap.1 {
                    row = [Double](repeating: 0.05 / Double(k - 1), count: k)
                    row[c == swap.0 ? swap.1 : swap.0] = 0.95   // almost always the swapped digit
                }
                return row
            })
        }
        for _ in 0..<2 { matrices.append([[Double]](repeating: [Double](repeating: 1, count: k), count: k)) }
        for _ in 0..<2 { matrices.append((0..<k).map { _ in (0..<k).map { $0 == 1 ? 1.0 : 0.0 } }) }
        return matrices
    }()

    static func name(_ a: Int) -> String { "ann\(a)" }

    /// Votes on items 0..<truth.count: each item gets `perItem(rng)` distinct annotators,
    /// each answering from their matrix row of the item's true class.
    static func votes(truth: [Int], rng: inout SplitMix64, perItem: (inout SplitMix64) -> Int) -> [Vote] {
        var votes: [Vote] = []
        for (i, c) in truth.enumerated() {
            let count = perItem(&rng)
            var chosen: [Int] = []
            while chosen.count < count {
                let a = rng.below(matrices.count)
                if !chosen.contains(a) { chosen.append(a) }
            }
            for a in chosen { votes.append(Vote(item: Int64(i), annotator: name(a), label: labels[rng.pick(matrices[a][c])])) }
        }
        return votes
    }

    /// Each annotator answers `items` gold items of uniformly drawn class: their record.
    static func gold(items: Int, rng: inout SplitMix64) -> [String: WeightedMajority.GoldRecord] {
        var out: [String: WeightedMajority.GoldRecord] = [:]
        for a in matrices.indices {
            var right = 0
            for _ in 0..<items {
                let c = rng.below(k)
                if rng.pick(matrices[a][c]) == c { right += 1 }
            }
            out[name(a)] = .init(answered: items, correct: right)
        }
        return out
    }

    /// Majority vote scored two ways: disputes (ties) counted wrong, and ties broken by
    /// the lowest class index among the tied labels (the stronger baseline).
    static func majorityCorrect(_ votes: [Vote], truth: [Int]) -> (strict: Int, lowest: Int) {
        let mv = MajorityVote.aggregate(votes)
        let strict = mv.filter { $0.label == labels[truth[Int($0.item)]] }.count
        var tallies = [[Int]](repeating: [Int](repeating: 0, count: k), count: truth.count)
        for v in votes { tallies[Int(v.item)][Int(v.label)!] += 1 }
        let lowest = truth.indices.filter { i in
            let top = tallies[i].max()!
            return top > 0 && tallies[i].firstIndex(of: top)! == truth[i]
        }.count
        return (strict, lowest)
    }

    /// Items whose verdict label equals the truth (disputes count wrong).
    static func correct(_ verdicts: [Verdict], truth: [Int]) -> Int {
        verdicts.filter { $0.label == labels[truth[Int($0.item)]] }.count
    }
}
