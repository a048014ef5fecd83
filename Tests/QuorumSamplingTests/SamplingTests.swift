import Testing
import QuorumNumerics
@testable import QuorumSampling

@Suite struct SamplingTests {
    @Test func leastConfidentScores() {
        let p = Matrix(rows: 3, cols: 2, storage: [0.9, 0.1, 0.5, 0.5, 0.3, 0.7])
        let s = Uncertainty.leastConfident(p)
        #expect(zip(s, [0.1, 0.5, 0.3]).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    @Test func topPicksHighestScoresWithRanks() {
        let c = (0..<5).map { Candidate(key: Int64($0), contentGroup: Int64($0), score: Double($0)) }
        let picked = Selection.top(c, count: 2, seed: 1)
        #expect(picked.map(\.key) == [4, 3])
        #expect(picked.map(\.rank) == [1, 2])
    }

    @Test func tiesAreBrokenBySeedAndRepeatable() {
        let c = (0..<50).map { Candidate(key: Int64($0), contentGroup: Int64($0), score: 1) }
        let a = Selection.top(c, count: 10, seed: 7).map(\.key)
        #expect(a == Selection.top(c, count: 10, seed: 7).map(\.key))
        #expect(a != Selection.top(c, count: 10, seed: 8).map(\.key))
        #expect(a != Array(0..<10), "ties must not favour import order")
    }

    @Test func oneItemPerContentGroupAndExclusions() {
        let c = [Candidate(key: 1, contentGroup: 7, score: 0.9), Candidate(key: 2, contentGroup: 7, score: 0.8),
                 Candidate(key: 3, contentGroup: 8, score: 0.7), Candidate(key: 4, contentGroup: 9, score: 0.1)]
        let picked = Selection.top(c, count: 3, seed: 1, excludedGroups: [8])
        #expect(picked.map(\.key) == [1, 4])
    }
}
