import Foundation
import Testing
import QuorumModels
import QuorumNumerics
@testable import QuorumConsensus

/// Accuracy against a known truth, on simulated annotators with known confusion
/// matrices (``Crowd``: 5 good, 3 with a systematic swap, 2 uniform spammers, 2 who
/// always answer "1") over the 10 digit labels. Every random choice is seeded.
/// Majority vote is scored with its disputes counted wrong and, the stronger
/// baseline, with ties broken by the lowest tied class; each method must be at
/// least as accurate as both. The methods are run with threshold 0 (only exact ties
/// are disputes, and they count wrong) so that accuracy measures the labels alone.
@Suite struct AggregatorAccuracyTests {
    /// 1,797 items (the digits set's size), truth uniform, 3 distinct annotators per
    /// item; every annotator also answered 20 gold items drawn from their own matrix,
    /// which gives the weighted vote its weights.
    @Test func weightedMajorityWithGoldBeatsMajorityVote() throws {
        var rng = SplitMix64(state: 61_803)
        let truth = (0..<1797).map { _ in rng.below(Crowd.k) }
        let votes = Crowd.votes(truth: truth, rng: &rng) { _ in 3 }
        let gold = Crowd.gold(items: 20, rng: &rng)

        let weighted = try WeightedMajority(gold: gold, disputeBelow: 0).aggregate(votes, labels: Crowd.labels)
        let correct = Crowd.correct(weighted.verdicts, truth: truth)
        let (strict, lowest) = Crowd.majorityCorrect(votes, truth: truth)
        let acc = { (n: Int) in Double(n) / Double(truth.count) }
        print("simulated digits, 3 answers per item, 20 gold answers each: weighted majority \(acc(correct)), "
              + "majority vote \(acc(strict)) (disputes wrong) / \(acc(lowest)) (ties → lowest index)")
        #expect(correct >= lowest)
        #expect(correct >= strict)
        // The spammers and the always-"1" annotators get (almost) no say.
        let weight = Dictionary(uniqueKeysWithValues: weighted.annotators.map { ($0.annotator, $0.weight!) })
        for bad in 8..<12 { #expect(weight[Crowd.name(bad)]! < 1, "Laplace smoothing keeps 2–3 right of 20 above 0") }
        for good in 0..<5 { #expect(weight[Crowd.name(good)]! > 2) }
    }

    /// Real out-of-sample model probabilities: the digits set is split in two halves
    /// (seeded shuffle); QuorumModels' calibrated logistic ensemble (3 members, seed 1)
    /// is trained on each half and predicts the other. Each item then gets 1 or 2
    /// answers (equally likely) from the simulated crowd, against the dataset's true
    /// labels. Model-aware consensus must be at least as accurate as majority vote.
    @Test func modelAwareBeatsMajorityVoteOnSparseAnswers() throws {
        let digits = try Digits.load()
        let k = Crowd.k
        var order = Array(digits.labels.indices)
        var shuffle = SeededGenerator(seed: 2024)
        order.shuffle(using: &shuffle)
        let halves = [Array(order[..<(order.count / 2)]), Array(order[(order.count / 2)...])]
        var probabilities: [Int64: [Double]] = [:]
        var modelCorrect = 0
        for (train, test) in [(halves[0], halves[1]), (halves[1], halves[0])] {
            let (classifier, _) = Classifier.train(texts: [String?](repeating: nil, count: train.count),
                                                   vectors: train.map { digits.vectors[$0] }, labels: train.map { digits.labels[$0] },
                                                   classes: k, members: 3, seed: 1)
            let p = classifier.probabilities(texts: [String?](repeating: nil, count: test.count), vectors: test.map { digits.vectors[$0] })
            for (row, item) in test.enumerated() {
                let probs = (0..<k).map { Double(p.storage[row * k + $0]) }
                let sum = probs.reduce(0, +)
                probabilities[Int64(item)] = probs.map { $0 / sum }   // Float rounding: renormalise in Double
                if probs.firstIndex(of: probs.max()!)! == digits.labels[item] { modelCorrect += 1 }
            }
        }

        var rng = SplitMix64(state: 314_159)
        let votes = Crowd.votes(truth: digits.labels, rng: &rng) { 1 + $0.below(2) }
        let aware = try ModelAware(probabilities: probabilities, disputeBelow: 0).aggregate(votes, labels: Crowd.labels)
        let correct = Crowd.correct(aware.verdicts, truth: digits.labels)
        let (strict, lowest) = Crowd.majorityCorrect(votes, truth: digits.labels)
        let ds = try DawidSkene(disputeBelow: 0).aggregate(votes, labels: Crowd.labels)
        let n = Double(digits.labels.count)
        print("digits, 1–2 answers per item (\(votes.count) answers), out-of-sample model \(Double(modelCorrect) / n): "
              + "model-aware \(Double(correct) / n) (model weight \(aware.modelWeight!)), "
              + "majority vote \(Double(strict) / n) (disputes wrong) / \(Double(lowest) / n) (ties → lowest index), "
              + "Dawid–Skene \(Double(Crowd.correct(ds.verdicts, truth: digits.labels)) / n)")
        #expect(modelCorrect > Int(0.9 * n), "the model is a real one: well above chance")
        #expect(correct >= lowest)
        #expect(correct >= strict)
    }
}

/// The bundled digits set (datasets/digits/digits.jsonl: 1,797 8×8 images, labels "0"–"9").
enum Digits {
    struct Data {
        var vectors: [[Float]?]
        var labels: [Int]
    }

    static func load() throws -> Data {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("datasets/digits/digits.jsonl"), encoding: .utf8)
        var out = Data(vectors: [], labels: [])
        for line in text.split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Foundation.Data(line.utf8)) as? [String: Any])
            let vector = try #require(object["vector"] as? [NSNumber])
            let label = try #require((object["label"] as? String).flatMap { Int($0) })
            out.vectors.append(vector.map { $0.floatValue })
            out.labels.append(label)
        }
        return out
    }
}
