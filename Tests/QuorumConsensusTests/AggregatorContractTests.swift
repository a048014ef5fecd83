import Testing
@testable import QuorumConsensus

/// The one contract every aggregator passes, run over each method.
@Suite struct AggregatorContractTests {
    enum Method: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case majority, weighted, dawidSkene, modelAware
        var testDescription: String { rawValue }

        /// The aggregator, with the fixture's side inputs (gold records, model probabilities).
        func make(disputeBelow: Double? = nil, model: [Int64: [Double]] = Fixture.model) -> any Aggregator {
            switch self {
            case .majority: return MajorityVote(disputeBelow: disputeBelow ?? MajorityVote.defaultDisputeBelow)
            case .weighted: return WeightedMajority(gold: Fixture.gold, disputeBelow: disputeBelow ?? WeightedMajority.defaultDisputeBelow)
            case .dawidSkene: return DawidSkene(disputeBelow: disputeBelow ?? DawidSkene.defaultDisputeBelow)
            case .modelAware: return ModelAware(probabilities: model, disputeBelow: disputeBelow ?? ModelAware.defaultDisputeBelow)
            }
        }
    }

    /// 60 noisy items (ids 0–59, 3 of annotators a–e each, right with probability 0.8,
    /// labels x/y/z) and 5 unanimous items (ids 1000–1004). Seeded. Gold records for
    /// a–d (e has none: the prior weight); model rows put 0.6 on the truth, except for
    /// items 7 and 1003, which have none.
    enum Fixture {
        static let labels = ["x", "y", "z"]
        static let unanimous: [Int64: String] = [1000: "x", 1001: "y", 1002: "z", 1003: "x", 1004: "y"]
        static let truth: [Int] = {
            var rng = SplitMix64(state: 7)
            return (0..<60).map { _ in rng.below(3) }
        }()
        static let votes: [Vote] = {
            var rng = SplitMix64(state: 11)
            let names = ["a", "b", "c", "d", "e"]
            var out: [Vote] = []
            for (i, c) in truth.enumerated() {
                var chosen: [Int] = []
                while chosen.count < 3 { let a = rng.below(5); if !chosen.contains(a) { chosen.append(a) } }
                for a in chosen {
                    let l = rng.uniform() < 0.8 ? c : (c + 1 + rng.below(2)) % 3
                    out.append(Vote(item: Int64(i), annotator: names[a], label: labels[l]))
                }
            }
            for (item, label) in unanimous.sorted(by: { $0.key < $1.key }) {
                for name in ["a", "c", "e"] { out.append(Vote(item: item, annotator: name, label: label)) }
            }
            return out
        }()
        static let gold: [String: WeightedMajority.GoldRecord] = [
            "a": .init(answered: 10, correct: 8), "b": .init(answered: 10, correct: 9),
            "c": .init(answered: 5, correct: 4), "d": .init(answered: 10, correct: 7),
        ]
        static let model: [Int64: [Double]] = {
            var out: [Int64: [Double]] = [:]
            for (i, c) in truth.enumerated() where i != 7 {
                var row = [0.2, 0.2, 0.2]; row[c] = 0.6; out[Int64(i)] = row
            }
            for (item, label) in unanimous where item != 1003 {
                var row = [0.2, 0.2, 0.2]; row[labels.firstIndex(of: label)!] = 0.6; out[item] = row
            }
            return out
        }()
    }

    @Test(arguments: Method.allCases)
    func unanimousItemsGetTheirLabelWithHighConfidence(_ method: Method) throws {
        let r = try method.make().aggregate(Fixture.votes, labels: Fixture.labels)
        for v in r.verdicts where v.item >= 1000 {
            #expect(v.label == Fixture.unanimous[v.item], "item \(v.item)")
            #expect(v.confidence >= 0.7, "item \(v.item): \(v.confidence)")
        }
    }

    @Test(arguments: Method.allCases)
    func resultIsWellFormed(_ method: Method) throws {
        let aggregator = method.make()
        let r = try aggregator.aggregate(Fixture.votes, labels: Fixture.labels)
        #expect(r.method == aggregator.method)
        #expect(r.labels == Fixture.labels)
        // One verdict per voted item, ascending; items without votes are absent.
        let voted = Set(Fixture.votes.map(\.item)).sorted()
        #expect(r.verdicts.map(\.item) == voted)
        #expect(r.posteriors.count == voted.count * 3)
        for (i, v) in r.verdicts.enumerated() {
            #expect(v.votes == Fixture.votes.filter { $0.item == v.item }.count)
            let row = Array(r.posterior(ofItemAt: i))
            #expect(abs(row.reduce(0, +) - 1) < 1e-9)
            #expect(row.allSatisfy { $0 >= 0 && $0 <= 1 })
            #expect(v.confidence >= 0 && v.confidence <= 1)
            #expect(v.confidence == row.max())
            // The shared dispute rule.
            let top = row.max()!
            let unique = row.filter { $0 == top }.count == 1
            #expect(v.isDispute == (!unique || top < aggregator.disputeBelow))
            if let label = v.label { #expect(row[Fixture.labels.firstIndex(of: label)!] == top) }
        }
        // A quality estimate for every annotator who voted, by name.
        #expect(r.annotators.map(\.annotator) == ["a", "b", "c", "d", "e"])
        for q in r.annotators {
            #expect(q.answers == Fixture.votes.filter { $0.annotator == q.annotator }.count)
            #expect(q.accuracy >= 0 && q.accuracy <= 1, "\(q.annotator): \(q.accuracy)")
            if let w = q.weight { #expect(w >= 0 && w.isFinite) }
            for row in q.confusion ?? [] { #expect(abs(row.reduce(0, +) - 1) < 1e-9) }
        }
        #expect((r.modelWeight != nil) == (method == .modelAware))
        #expect((r.annotators[0].confusion != nil) == (method == .dawidSkene))
        #expect((r.annotators[0].weight != nil) == (method == .weighted || method == .modelAware))
    }

    @Test(arguments: Method.allCases)
    func deterministicAndIndependentOfVoteOrder(_ method: Method) throws {
        let aggregator = method.make()
        let once = try aggregator.aggregate(Fixture.votes, labels: Fixture.labels)
        let twice = try aggregator.aggregate(Fixture.votes, labels: Fixture.labels)
        #expect(once.posteriors == twice.posteriors)
        #expect(once.verdicts == twice.verdicts)
        #expect(once.annotators == twice.annotators)
        var rng = SplitMix64(state: 3)
        var shuffled = Fixture.votes
        for i in stride(from: shuffled.count - 1, to: 0, by: -1) { shuffled.swapAt(i, rng.below(i + 1)) }
        let other = try aggregator.aggregate(shuffled, labels: Fixture.labels)
        #expect(other.verdicts.map(\.label) == once.verdicts.map(\.label))
        for (x, y) in zip(other.posteriors, once.posteriors) { #expect(abs(x - y) < 1e-9) }
    }

    /// One item, two annotators, one answer each, nothing to tell them apart (no gold for
    /// either, so both get the prior weight; a model undecided between the two labels):
    /// no unique top label, so a dispute.
    @Test(arguments: Method.allCases)
    func aOneOneTieIsADispute(_ method: Method) throws {
        let votes = [Vote(item: 4, annotator: "p", label: "x"), Vote(item: 4, annotator: "q", label: "y")]
        let r = try method.make(model: [4: [0.45, 0.45, 0.1]]).aggregate(votes, labels: Fixture.labels)
        #expect(r.verdicts.count == 1)
        #expect(r.verdicts[0].isDispute)
        #expect(r.verdicts[0].votes == 2)
        if method == .majority { #expect(r.verdicts[0].confidence == 0.5) }
    }

    @Test(arguments: Method.allCases)
    func thresholdTurnsUnsureItemsIntoDisputes(_ method: Method) throws {
        let all = try method.make(disputeBelow: 1.01).aggregate(Fixture.votes, labels: Fixture.labels)
        #expect(all.verdicts.allSatisfy { $0.isDispute })
        let none = try method.make(disputeBelow: 0).aggregate(Fixture.votes, labels: Fixture.labels)
        for (i, v) in none.verdicts.enumerated() {
            let row = Array(none.posterior(ofItemAt: i))
            #expect(v.isDispute == (row.filter { $0 == row.max()! }.count > 1))
        }
    }

    @Test(arguments: Method.allCases)
    func emptyInputAndBadLabels(_ method: Method) throws {
        let empty = try method.make().aggregate([], labels: Fixture.labels)
        #expect(empty.verdicts.isEmpty && empty.annotators.isEmpty && empty.posteriors.isEmpty)
        let aggregator = method.make()
        func error(_ votes: [Vote], _ labels: [String]) -> AggregationError? {
            do { _ = try aggregator.aggregate(votes, labels: labels) } catch { return error }
            return nil
        }
        #expect(error([], []) == .noLabels)
        #expect(error([], ["x", "y", "x"]) == .duplicateLabel("x"))
        #expect(error([Vote(item: 3, annotator: "ann", label: "w")], Fixture.labels) == .unknownLabel("w", item: 3, annotator: "ann"))
    }
}
