import Foundation
import Testing
@testable import QuorumConsensus

@Suite struct DawidSkeneTests {
    // MARK: crowd-kit reference

    /// 8 tasks × 4 workers, labels a/b/c; w1–w3 are right with probability 0.8/0.7/0.6,
    /// w4 is a spammer (uniform labels). Truth: c c c b c c c a.
    static let tiny: [(Int64, String, String)] = [
        (1, "w1", "c"), (1, "w2", "c"), (1, "w3", "b"), (1, "w4", "a"),
        (2, "w1", "a"), (2, "w2", "b"), (2, "w3", "c"), (2, "w4", "c"),
        (3, "w1", "c"), (3, "w2", "b"), (3, "w3", "c"), (3, "w4", "c"),
        (4, "w1", "c"), (4, "w2", "b"), (4, "w3", "a"), (4, "w4", "c"),
        (5, "w1", "a"), (5, "w2", "c"), (5, "w3", "c"), (5, "w4", "b"),
        (6, "w1", "c"), (6, "w2", "c"), (6, "w3", "c"), (6, "w4", "b"),
        (7, "w1", "c"), (7, "w2", "c"), (7, "w3", "c"), (7, "w4", "c"),
        (8, "w1", "a"), (8, "w2", "a"), (8, "w3", "a"), (8, "w4", "b"),
    ]
    static var tinyVotes: [Vote] { tiny.map { Vote(item: $0.0, annotator: $0.1, label: $0.2) } }

    /// The reference numbers below were printed by
    /// `env -u OPENBLAS_CORETYPE python3 experiments/consensus/tiny_reference.py`
    /// (crowd-kit 1.4.2, pandas 3.1.1, numpy 2.4.6, float64), which runs crowd-kit's
    /// `DawidSkene` on the table above and prints `fit_predict`, `probas_`, `priors_`
    /// and `errors_` (transposed to rows = true class; a (worker, label) pair crowd-kit
    /// never saw is printed as 0).
    ///
    /// Run A is crowd-kit's default, `DawidSkene(n_iter=100, tol=1e-5)`. crowd-kit stops
    /// when the ELBO per answer gains less than `tol`; here that happens after 5 EM
    /// iterations, while the posteriors still move by 0.27 per iteration. Quorum with
    /// `convergence: .evidenceGain` applies the same rule and must stop at the same
    /// iteration; with its default rule (max |ΔT| < 1e-5) it goes on to the fixed point (run B).
    @Test func matchesCrowdKitDefaultRun() throws {
        let labelsA = ["c", "b", "c", "b", "c", "c", "c", "a"]
        let posteriorsA: [[Double]] = [
            [0.0000000001, 0.0009213882, 0.9990786118],  // task 1
            [0.0000000001, 0.6323207073, 0.3676792927],  // task 2
            [0.0000000001, 0.4486655639, 0.5513344361],  // task 3
            [0.0000000001, 0.6008454264, 0.3991545736],  // task 4
            [0.1161461941, 0.1831244300, 0.7007293760],  // task 5
            [0.0000120898, 0.1100511294, 0.8899367809],  // task 6
            [0.0000000001, 0.1909643759, 0.8090356241],  // task 7
            [0.9999998964, 0.0000001036, 0.0000000001],  // task 8
        ]
        let priorsA: [Double] = [0.1395197725, 0.2708616406, 0.5896185869]
        let confusionA: [String: [[Double]]] = [
            "w1": [[0.9999891684, 0.0000000000, 0.0000108316], [0.3763200093, 0.0000000000, 0.6236799907], [0.2265041954, 0.0000000000, 0.7734958046]],
            "w2": [[0.8959302669, 0.0000000001, 0.1040697330], [0.0000000478, 0.7761488919, 0.2238510603], [0.0000000000, 0.2794536018, 0.7205463982]],
            "w3": [[0.8959302669, 0.0000000001, 0.1040697330], [0.2772843400, 0.0004252117, 0.7222904483], [0.0846213515, 0.2118061222, 0.7035725263]],
            "w4": [[0.0000000001, 0.9999999998, 0.0000000001], [0.0004252117, 0.1352977032, 0.8642770851], [0.2118061222, 0.3372235442, 0.4509703336]],
        ]
        let r = try DawidSkene.aggregate(Self.tinyVotes, labels: ["a", "b", "c"], convergence: .evidenceGain)
        let (iterations, converged) = (r.iterations, r.converged)
        #expect(iterations == 5)
        #expect(converged)
        try Self.expectMatches(r, labelsA, posteriorsA, priorsA, confusionA)
        // The same 5 iterations with no stopping rule at all.
        let fixed = try DawidSkene.aggregate(Self.tinyVotes, labels: ["a", "b", "c"], maxIterations: 5, tolerance: 0,
                                             acceleration: .none)
        #expect(fixed.iterations == 5 && !fixed.converged)
        try Self.expectMatches(fixed, labelsA, posteriorsA, priorsA, confusionA)
    }

    /// Run B: `DawidSkene(n_iter=1000, tol=-inf)`, i.e. exactly 1000 EM iterations (the
    /// fixed point; three tasks change label from run A). Quorum runs the same 1000.
    @Test func matchesCrowdKitAtTheFixedPoint() throws {
        let labelsB = ["c", "b", "b", "b", "c", "c", "c", "a"]
        let posteriorsB: [[Double]] = [
            [0.0000000001, 0.0000000001, 1.0000000000],  // task 1
            [0.0000000001, 1.0000000000, 0.0000000001],  // task 2
            [0.0000000001, 1.0000000000, 0.0000000001],  // task 3
            [0.0000000001, 1.0000000000, 0.0000000001],  // task 4
            [0.0000000001, 0.0000000001, 1.0000000000],  // task 5
            [0.0000000001, 0.0000000001, 1.0000000000],  // task 6
            [0.0000000001, 0.0000000001, 0.9999999999],  // task 7
            [1.0000000000, 0.0000000001, 0.0000000001],  // task 8
        ]
        let priorsB: [Double] = [0.1250000000, 0.3750000000, 0.5000000000]
        let confusionB: [String: [[Double]]] = [
            "w1": [[0.9999999999, 0.0000000000, 0.0000000001], [0.3333333333, 0.0000000000, 0.6666666667], [0.2500000000, 0.0000000000, 0.7500000000]],
            "w2": [[0.9999999998, 0.0000000001, 0.0000000001], [0.0000000000, 0.9999999999, 0.0000000000], [0.0000000000, 0.0000000000, 0.9999999999]],
            "w3": [[0.9999999998, 0.0000000001, 0.0000000001], [0.3333333333, 0.0000000000, 0.6666666667], [0.0000000000, 0.2500000000, 0.7500000000]],
            "w4": [[0.0000000001, 0.9999999998, 0.0000000001], [0.0000000000, 0.0000000000, 0.9999999999], [0.2500000000, 0.5000000000, 0.2500000000]],
        ]
        let r = try DawidSkene.aggregate(Self.tinyVotes, labels: ["a", "b", "c"], maxIterations: 1000, tolerance: 0,
                                         acceleration: .none)
        #expect(r.iterations == 1000)
        try Self.expectMatches(r, labelsB, posteriorsB, priorsB, confusionB)

        // With the default stopping rule (max |ΔT| < 1e-5) Quorum reaches the same labels.
        let d = try DawidSkene.aggregate(Self.tinyVotes, labels: ["a", "b", "c"])
        let (converged, iterations) = (d.converged, d.iterations)
        #expect(converged && iterations < 100)
        #expect(d.verdicts.map(\.label) == labelsB.map { Optional($0) })
        for (x, y) in zip(d.posteriors, posteriorsB.flatMap { $0 }) { #expect(abs(x - y) < 1e-3) }
    }

    /// SQUAREM must land on plain EM's fixed point, in fewer E-steps: on the tiny
    /// table (fixed point = crowd-kit's 1000-iteration run B) and on the simulated crowd
    /// (reference: plain EM run to max |ΔT| < 1e-8).
    @Test func squaremReachesPlainEMsFixedPoint() throws {
        let tiny = try DawidSkene.aggregate(Self.tinyVotes, labels: ["a", "b", "c"], tolerance: 1e-9, acceleration: .squarem)
        let plainTiny = try DawidSkene.aggregate(Self.tinyVotes, labels: ["a", "b", "c"], maxIterations: 10_000, tolerance: 1e-9,
                                                 acceleration: .none)
        #expect(tiny.converged && plainTiny.converged)
        #expect(tiny.verdicts.map(\.label) == plainTiny.verdicts.map(\.label))
        for (x, y) in zip(tiny.posteriors, plainTiny.posteriors) { #expect(abs(x - y) < 1e-6) }

        var rng = SplitMix64(state: 7)
        let truth = (0..<400).map { _ in rng.below(Crowd.k) }
        let votes = Crowd.votes(truth: truth, rng: &rng) { _ in 3 }
        let fast = try DawidSkene.aggregate(votes, labels: Crowd.labels, maxIterations: 20_000, tolerance: 1e-8)
        let plain = try DawidSkene.aggregate(votes, labels: Crowd.labels, maxIterations: 20_000, tolerance: 1e-8, acceleration: .none)
        print("simulated crowd (400 items) to max |ΔT| < 1e-8: SQUAREM \(fast.iterations) E-steps, plain EM \(plain.iterations)")
        #expect(fast.converged && plain.converged)
        #expect(fast.iterations < plain.iterations)
        #expect(fast.verdicts.map(\.label) == plain.verdicts.map(\.label))
        for (x, y) in zip(fast.posteriors, plain.posteriors) { #expect(abs(x - y) < 1e-6) }
        for (a, b) in zip(fast.annotators, plain.annotators) { #expect(abs(a.accuracy - b.accuracy) < 1e-6) }
        #expect(abs(fast.evidenceLowerBound - plain.evidenceLowerBound) < 1e-9)
    }

    /// The two-thread E-step computes what the one-thread one does (up to summation order).
    @Test func twoPartsEqualOnePart() throws {
        var rng = SplitMix64(state: 11)
        let truth = (0..<5_000).map { _ in rng.below(Crowd.k) }
        let answers = try DawidSkene.Answers(Crowd.votes(truth: truth, rng: &rng) { _ in 3 }, labels: Crowd.labels)
        var one = DawidSkene.EM(answers, smoothing: 1e-10, parts: 1)
        var two = DawidSkene.EM(answers, smoothing: 1e-10, parts: 3)
        #expect(two.parts == 3)
        for _ in 0..<20 {
            let (a, b) = (one.iterate(), two.iterate())
            #expect(abs(a - b) < 1e-12)
            #expect(abs(one.logLikelihood - two.logLikelihood) < 1e-9 * abs(one.logLikelihood))
        }
        for (x, y) in zip(one.posteriors(), two.posteriors()) { #expect(abs(x - y) < 1e-9) }
        for (x, y) in zip(one.countTable(), two.countTable()) { #expect(abs(x - y) < 1e-8) }
    }

    static func expectMatches(_ r: DawidSkene.Result, _ labels: [String], _ posteriors: [[Double]],
                              _ priors: [Double], _ confusion: [String: [[Double]]]) throws {
        #expect(r.verdicts.map(\.item) == Array(1...8))
        #expect(r.verdicts.map(\.label) == labels.map { Optional($0) })
        #expect(r.verdicts.allSatisfy { $0.votes == 4 })
        for i in 0..<8 {
            for (x, y) in zip(r.posterior(ofItemAt: i), posteriors[i]) {
                #expect(abs(x - y) < 1e-4, "task \(i + 1): \(Array(r.posterior(ofItemAt: i))) vs \(posteriors[i])")
            }
            #expect(r.verdicts[i].confidence == r.posterior(ofItemAt: i).max())
        }
        for (x, y) in zip(r.priors, priors) { #expect(abs(x - y) < 1e-4) }
        #expect(r.annotators.map(\.annotator) == ["w1", "w2", "w3", "w4"])
        for q in r.annotators {
            let ref = try #require(confusion[q.annotator])
            for c in 0..<3 {
                for l in 0..<3 {
                    #expect(abs(q.confusion![c][l] - ref[c][l]) < 1e-4, "\(q.annotator)[\(c)][\(l)]")
                }
            }
            #expect(q.answers == 8)
            let accuracy = (0..<3).map { r.priors[$0] * q.confusion![$0][$0] }.reduce(0, +)
            #expect(abs(q.accuracy - accuracy) < 1e-12)
        }
    }

    // MARK: simulation with known confusion matrices

    /// 1,797 items (the size of the digits set), 10 classes, truth uniform; the 12
    /// annotators of ``Crowd`` (5 good, 3 with a systematic swap, 2 uniform spammers,
    /// 2 who always answer "1"), 3 distinct ones per item. Seeded.
    ///
    /// Majority vote is scored twice: with its disputes (ties) counted wrong, and with
    /// ties broken by the lowest class index among the tied labels (the stronger
    /// baseline). Dawid–Skene must be at least as accurate as both.
    @Test func beatsMajorityVoteOnSimulatedAnnotators() throws {
        var rng = SplitMix64(state: 20_240_618)
        let truth = (0..<1797).map { _ in rng.below(Crowd.k) }
        let votes = Crowd.votes(truth: truth, rng: &rng) { _ in 3 }

        let ds = try DawidSkene.aggregate(votes, labels: Crowd.labels)
        let dsCorrect = Crowd.correct(ds.verdicts, truth: truth)
        let (mvStrict, mvLowest) = Crowd.majorityCorrect(votes, truth: truth)

        let acc = { (n: Int) in Double(n) / Double(truth.count) }
        print("simulated digits: Dawid–Skene \(acc(dsCorrect)) (\(ds.iterations) iterations), "
              + "majority vote \(acc(mvStrict)) (disputes wrong) / \(acc(mvLowest)) (ties → lowest index)")
        #expect(dsCorrect >= mvLowest)
        #expect(dsCorrect >= mvStrict)
        // The spammers are recognised: their estimated accuracy is far below the good annotators'.
        let quality = Dictionary(uniqueKeysWithValues: ds.annotators.map { ($0.annotator, $0.accuracy) })
        for spammer in 8..<12 { #expect(quality[Crowd.name(spammer)]! < 0.3) }
        for good in 0..<5 { #expect(quality[Crowd.name(good)]! > 0.5) }
    }

    // MARK: pyanno

    /// pyanno's example data (15,521 items × 3 of 8 annotators, labels 1–5, no truth):
    /// EM converges (crowd-kit's rule) and every row of every confusion matrix sums to 1.
    static let pyannoPath = "/work/shared/datasets/pyanno_e2_annotations.csv"

    @Test(.enabled(if: FileManager.default.fileExists(atPath: pyannoPath), "pyanno_e2_annotations.csv is not available on this machine"))
    func pyannoDataConverges() throws {
        let text = try String(contentsOfFile: Self.pyannoPath, encoding: .utf8)
        var votes: [Vote] = []
        for line in text.split(whereSeparator: \.isNewline).dropFirst() {   // "\r\n" is one Character
            let f = line.split(separator: ",")
            guard f.count == 3, let item = Int64(f[0]) else { continue }
            votes.append(Vote(item: item, annotator: String(f[1]), label: String(f[2])))
        }
        // With the default rule (max |ΔT| < 1e-5) EM needs 752 iterations here, about 90 s in a
        // debug build (1 s in release); crowd-kit's rule stops much sooner, which keeps the test fast.
        let r = try DawidSkene.aggregate(votes, labels: ["1", "2", "3", "4", "5"], convergence: .evidenceGain)
        let converged = r.converged   // (a bare `r.converged` would print all of `r` on failure)
        #expect(converged, "\(r.iterations) iterations, last change \(r.lastChange)")
        #expect(r.verdicts.count == 15_521)
        #expect(r.annotators.count == 8)
        #expect(abs(r.priors.reduce(0, +) - 1) < 1e-9)
        for q in r.annotators {
            print("pyanno annotator \(q.annotator): accuracy \(q.accuracy), \(q.answers) answers")
            for row in try #require(q.confusion) {
                print("   " + row.map { String(format: "%.3f", $0) }.joined(separator: " "))
                #expect(abs(row.reduce(0, +) - 1) < 1e-9)
            }
        }
        print("pyanno: \(r.iterations) iterations, priors \(r.priors.map { String(format: "%.3f", $0) })")
    }

    // MARK: edge cases

    @Test func exactTieGoesToTheFirstListedLabel() throws {
        let votes = [Vote(item: 1, annotator: "a", label: "x"), Vote(item: 1, annotator: "b", label: "y")]
        let xy = try DawidSkene.aggregate(votes, labels: ["x", "y"])
        #expect(xy.verdicts[0].label == "x")
        #expect(abs(xy.verdicts[0].confidence - 0.5) < 1e-12)
        let yx = try DawidSkene.aggregate(votes, labels: ["y", "x"])
        #expect(yx.verdicts[0].label == "y")
    }

    @Test func emptyInputAndSingleAnswers() throws {
        let empty = try DawidSkene.aggregate([], labels: ["x", "y"])
        #expect(empty.verdicts.isEmpty && empty.annotators.isEmpty && empty.iterations == 0 && empty.converged)

        let one = try DawidSkene.aggregate([Vote(item: 9, annotator: "a", label: "y"), Vote(item: 2, annotator: "a", label: "y")],
                                           labels: ["x", "y"])
        #expect(one.verdicts.map(\.item) == [2, 9])
        #expect(one.verdicts.allSatisfy { $0.label == "y" && $0.votes == 1 && $0.confidence > 0.999 })
        #expect(one.converged)

        let single = try DawidSkene.aggregate([Vote(item: 1, annotator: "a", label: "only")], labels: ["only"])
        #expect(single.verdicts[0].label == "only" && single.verdicts[0].confidence == 1)
    }

    @Test func badLabelsAreReported() {
        #expect(throws: DawidSkene.InputError.noLabels) { try DawidSkene.aggregate([], labels: []) }
        #expect(throws: DawidSkene.InputError.duplicateLabel("x")) { try DawidSkene.aggregate([], labels: ["x", "y", "x"]) }
        let bad = [Vote(item: 3, annotator: "ann", label: "z")]
        #expect(throws: DawidSkene.InputError.unknownLabel("z", item: 3, annotator: "ann")) {
            try DawidSkene.aggregate(bad, labels: ["x", "y"])
        }
        #expect(DawidSkene.InputError.unknownLabel("z", item: 3, annotator: "ann").description.contains("\"z\""))
    }

    @Test func answersAreEncodedByItemThenVoteOrder() throws {
        let votes = [Vote(item: 5, annotator: "b", label: "y"), Vote(item: 1, annotator: "a", label: "x"),
                     Vote(item: 5, annotator: "a", label: "x")]
        let e = try DawidSkene.Answers(votes, labels: ["x", "y"])
        #expect(e.items == [1, 5])
        #expect(e.annotators == ["a", "b"])
        #expect(e.itemStart == [0, 1, 3])
        #expect(e.annotator == [0, 1, 0])
        #expect(e.label == [0, 1, 0])
    }
}
