import Testing
import QuorumNumerics
@testable import QuorumModels

@Suite struct LogisticRegressionTests {
    // Reference: scikit-learn 1.x LogisticRegression(C=1.0, tol=1e-10, max_iter=10000) (lbfgs, multinomial,
    // intercept not penalised) on this data; printed with m.coef_.T, m.intercept_, m.predict_proba.
    let x = Matrix(rows: 8, cols: 2, storage: [0, 0, 1, 0, 0, 1, 1, 1, 2, 1, 1, 2, 2, 2, 0.5, 1.5])
    let y = [0, 0, 1, 1, 2, 1, 2, 1]

    @Test func matchesScikitLearn() {
        let model = LogisticRegression.fit(features: FeatureMatrix(sparse: nil, dense: x), labels: y, classes: 3,
                                           settings: LogisticRegressionSettings(c: 1.0, maxIterations: 1000, tolerance: 1e-6))
        let referenceBias: [Float] = [1.0347779, 0.5668332, -1.6016111]
        let referenceWeights: [Float] = [-0.32836721, -0.66146008, 0.98982729, -0.98982727, 0.66146008, 0.32836719]
        for (a, b) in zip(model.bias, referenceBias) { #expect(abs(a - b) < 2e-3) }
        for (a, b) in zip(model.weights.storage, referenceWeights) { #expect(abs(a - b) < 2e-3) }
        let p = model.probabilities(FeatureMatrix(sparse: nil, dense: Matrix(rows: 2, cols: 2, storage: [0.5, 0.5, 1.5, 1.5])))
        let referenceP: [Float] = [0.40350856, 0.48850527, 0.10798617, 0.10798618, 0.48850527, 0.40350855]
        for (a, b) in zip(p.storage, referenceP) { #expect(abs(a - b) < 1e-3) }
    }

    @Test func batchedGradientMatchesFiniteDifferences() {
        // Two members with different sample weights, evaluated in one batch.
        let weights: [[Float]] = [[1, 2, 1, 1, 0, 3, 1, 1], [2, 0, 1, 1, 1, 1, 3, 1]]
        var objective = BatchedSoftmaxObjective(features: FeatureMatrix(sparse: nil, dense: x), labels: y, classes: 3,
                                                sampleWeights: weights, c: 0.7)
        let thetas = (0..<2).map { m in (0..<objective.parameterCount).map { Float(($0 + m) % 5) * 0.1 - 0.2 } }
        var g = thetas.map { [Float](repeating: 0, count: $0.count) }
        _ = objective.evaluate(thetas, gradients: &g)
        var scratch = g
        for m in 0..<2 {
            for i in 0..<thetas[m].count {
                var plus = thetas, minus = thetas
                plus[m][i] += 1e-2
                minus[m][i] -= 1e-2
                let numeric = (objective.evaluate(plus, gradients: &scratch)[m] - objective.evaluate(minus, gradients: &scratch)[m]) / 2e-2
                #expect(abs(numeric - Double(g[m][i])) < 2e-3, "member \(m), parameter \(i)")
            }
        }
    }

    @Test func batchedFitEqualsSeparateFits() {
        let f = FeatureMatrix(sparse: nil, dense: x)
        let w: [[Float]] = [[1, 1, 1, 1, 1, 1, 1, 1], [2, 0, 1, 1, 1, 1, 3, 1]]
        let settings = LogisticRegressionSettings(tolerance: 1e-6)
        let batch = LogisticRegression.fitBatch(features: f, labels: y, classes: 3, sampleWeights: w, settings: settings)
        for m in 0..<2 {
            let alone = LogisticRegression.fit(features: f, labels: y, classes: 3, sampleWeights: w[m], settings: settings)
            for (a, b) in zip(batch[m].weights.storage + batch[m].bias, alone.weights.storage + alone.bias) {
                #expect(abs(a - b) < 1e-3)
            }
        }
    }

    @Test func probabilitiesSumToOne() {
        let f = FeatureMatrix(sparse: nil, dense: x)
        let model = LogisticRegression.fit(features: f, labels: y, classes: 3)
        let p = model.probabilities(f)
        for i in 0..<p.rows {
            let sum = (0..<3).reduce(Float(0)) { $0 + p[i, $1] }
            #expect(abs(sum - 1) < 1e-5)
        }
    }
}

@Suite struct MetricsTests {
    func onehot(_ predicted: [Int], classes: Int) -> Matrix {
        var m = Matrix(rows: predicted.count, cols: classes)
        for (i, c) in predicted.enumerated() { m[i, c] = 1 }
        return m
    }

    @Test func accuracyAndMacroF1MatchScikitLearn() {
        // sklearn.metrics.f1_score([0,1,2,2,1,0], [0,2,2,2,1,1], average="macro") = 0.6555555555555556
        let p = onehot([0, 2, 2, 2, 1, 1], classes: 3)
        #expect(abs(Metrics.accuracy(p, labels: [0, 1, 2, 2, 1, 0]) - 4.0 / 6.0) < 1e-12)
        #expect(abs(Metrics.macroF1(p, labels: [0, 1, 2, 2, 1, 0]) - 0.6555555555555556) < 1e-12)
    }

    @Test func expectedCalibrationErrorByHand() {
        // Two bins used: confidences 0.9 and 0.9 (one right, one wrong) → |0.5 − 0.9| · 2/4;
        // 0.6 and 0.6 (both right) → |1 − 0.6| · 2/4. ECE = 0.2 + 0.2 = 0.4.
        let p = Matrix(rows: 4, cols: 2, storage: [0.9, 0.1, 0.9, 0.1, 0.6, 0.4, 0.4, 0.6])
        #expect(abs(Metrics.expectedCalibrationError(p, labels: [0, 1, 0, 1]) - 0.4) < 1e-6)
    }
}

@Suite struct FeaturizerTests {
    @Test func standardisesVectors() {
        let f = Featurizer.fit(texts: [nil, nil, nil], vectors: [[1, 10], [2, 10], [3, 10]], settings: .init())
        let x = f.transform(texts: [nil], vectors: [[3, 10]]).dense!
        // mean 2, population std sqrt(2/3) → (3 − 2) / 0.8164966 = 1.2247449; constant column → 0.
        #expect(abs(x[0, 0] - 1.2247449) < 1e-5)
        #expect(x[0, 1] == 0)
        #expect(f.textWidth == 0)
    }

    @Test func tfidfMatchesScikitLearn() {
        // Reference: scikit-learn TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True) fitted on these three
        // documents, then .transform(["the cat sat with the cat"]); the non-zero values, sorted by term:
        // cat 0.46220932, cat sat 0.35894677, sat 0.27298827, the 0.46220932, the cat 0.60774971 (16 terms in all).
        let docs = ["the cat sat on the mat", "the dog sat", "a cat and a dog"]
        let f = Featurizer.fit(texts: docs, vectors: [nil, nil, nil], settings: FeaturizerSettings(maxNGram: 2))
        #expect(f.textWidth == 16, "single-letter words like \"a\" are not terms")
        let row = f.transform(texts: ["the cat sat with the cat"], vectors: [nil]).sparse!
        #expect(row.nonZeros == 5)
        let expected: [Float] = [0.27298827, 0.35894677, 0.46220932, 0.46220932, 0.60774971]
        for (a, b) in zip(row.values.sorted(), expected) { #expect(abs(a - b) < 1e-6) }
    }

    @Test func textAndVectorsConcatenate() {
        let f = Featurizer.fit(texts: ["good film", "bad film"], vectors: [[1], [3]], settings: .init())
        let x = f.transform(texts: ["good", nil], vectors: [[2], [3]])
        #expect(x.sparseWidth == 5)
        #expect(x.denseWidth == 1)
        #expect(x.sparse!.nonZeros == 1)
        #expect(x.dense!.storage == [0, 1])
    }

    @Test func restrictingColumnsKeepsTheirValues() {
        // A vocabulary from the whole table; the model keeps only the terms of its labelled items.
        let table = ["the cat sat on the mat", "the dog sat", "a cat and a dog", "birds sing at dawn", "dogs bark at night"]
        let full = Featurizer.fit(texts: table, vectors: [nil, nil, nil, nil, nil], settings: FeaturizerSettings(maxNGram: 2))
        let labelled = ["the cat sat", "dogs bark"]
        let active = Set(full.transform(texts: labelled, vectors: [nil, nil]).sparse!.columns).map(Int.init).sorted()
        let restricted = full.restricted(toColumns: active)
        #expect(restricted.textWidth == active.count)
        #expect(restricted.textWidth + restricted.normTerms.count == full.textWidth)
        // Any text: the restricted row holds exactly the full row's values on the kept columns (the L2 norm still counts every term).
        let probe = ["the cat sat at dawn with dogs", "dogs bark at the mat"]
        let a = full.transform(texts: probe, vectors: [nil, nil]).sparse!, b = restricted.transform(texts: probe, vectors: [nil, nil]).sparse!
        for i in 0..<2 {
            var expected: [Int32: Float] = [:]
            for e in a.rowStart[i]..<a.rowStart[i + 1] {
                if let j = active.firstIndex(of: Int(a.columns[e])) { expected[Int32(j)] = a.values[e] }
            }
            var got: [Int32: Float] = [:]
            for e in b.rowStart[i]..<b.rowStart[i + 1] { got[b.columns[e]] = b.values[e] }
            #expect(got == expected)
        }
        let c = Classifier(featurizer: restricted, ensemble: LogisticEnsemble(members: [LogisticRegression(
            weights: Matrix(rows: restricted.width, cols: 2), bias: [0, 0])]))
        #expect(Classifier(encoded: c.encoded()) == c, "norm terms survive the encoding")
    }

    @Test func textEmbeddingsApproximateTFIDFCosines() {
        let table = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog played", "birds sing at dawn",
                     "dogs bark at night", "the film was a tender and funny delight", "a dull film with a tired plot",
                     "tender, funny and a delight: the film", "stocks fell as oil prices rose", "oil prices rose again today",
                     "the market rallied after the report", "a plot so tired the cast looks bored"]
        let none = [[Float]?](repeating: nil, count: table.count)
        let f = Featurizer.fit(texts: table, vectors: none, settings: FeaturizerSettings(maxNGram: 2))
        let rows = f.transform(texts: table, vectors: none).sparse!
        let d = 2048
        let e = f.embed(texts: table, dimensions: d, seed: 7)
        func dense(_ i: Int) -> [Int32: Float] {
            var out: [Int32: Float] = [:]
            for k in rows.rowStart[i]..<rows.rowStart[i + 1] { out[rows.columns[k]] = rows.values[k] }
            return out
        }
        // Johnson–Lindenstrauss: with ±1/√d signs an inner product of unit rows keeps its value with a
        // standard deviation of about √((1 + cos²) / d) ≤ 0.031 here; 66 pairs stay within 3.2 of those.
        var worst: Float = 0
        for i in 0..<table.count {
            var norm: Float = 0
            for c in 0..<d { norm += e[i, c] * e[i, c] }
            #expect(abs(norm - 1) < 0.1, "row \(i) keeps about unit norm (\(norm))")
            for j in (i + 1)..<table.count {
                let a = dense(i), b = dense(j)
                let exact = a.reduce(Float(0)) { $0 + $1.value * (b[$1.key] ?? 0) }
                var approx: Float = 0
                for c in 0..<d { approx += e[i, c] * e[j, c] }
                worst = max(worst, abs(approx - exact))
            }
        }
        #expect(worst < 0.1, "largest inner-product error \(worst)")
        // The near-duplicate review is the nearest row to its twin.
        func cosine(_ i: Int, _ j: Int) -> Float { (0..<d).reduce(0) { $0 + e[i, $1] * e[j, $1] } }
        let nearest = (0..<table.count).filter { $0 != 5 }.max { cosine(5, $0) < cosine(5, $1) }
        #expect(nearest == 7)
        // By hand: one term of IDF w, tf 1, gives a row of ±1/√d (unit norm), the same signs for the same seed.
        let single = f.embed(texts: ["birds", "birds!", "zebra", nil], dimensions: 64, seed: 7)
        for c in 0..<64 {
            #expect(abs(abs(single[0, c]) - 0.125) < 1e-6)
            #expect(single[0, c] == single[1, c])
            #expect(single[2, c] == 0 && single[3, c] == 0, "unknown words and no text give zero rows")
        }
        #expect(f.embed(texts: ["birds"], dimensions: 64, seed: 8).storage != single.storage.prefix(64).map { $0 })
        // A model's restricted featurizer embeds exactly as the full one: its norm terms count.
        let restricted = f.restricted(toColumns: [0, 3, 5])
        #expect(restricted.embed(texts: table, dimensions: 128, seed: 7).storage == f.embed(texts: table, dimensions: 128, seed: 7).storage)
    }

    @Test func caseIsFoldedAndPunctuationSplits() {
        var a: [UInt64] = [], b: [UInt64] = []
        Featurizer.forEachTerm("the quick fox", maxNGram: 2) { a.append($0) }
        Featurizer.forEachTerm("The QUICK, fox!", maxNGram: 2) { b.append($0) }
        #expect(a.count == 5)
        #expect(a == b)
    }

    @Test func classifierRoundTripsThroughItsEncoding() {
        let (c, training) = Classifier.train(texts: ["good film", "bad film", "great", "awful"], vectors: [[1], [2], [3], [4]],
                                             labels: [0, 1, 0, 1], classes: 2, members: 3)
        #expect(training.calibration == nil && training.folds == 0, "too few labels to cross-validate or calibrate")
        #expect(training.c == ModelSelection.fallbackC)
        #expect(Classifier(encoded: c.encoded()) == c)
        #expect(Classifier(encoded: [1, 2, 3]) == nil)
    }
}

@Suite struct EnsembleTests {
    @Test func bootstrapCountsAreSeededResamples() {
        let a = LogisticEnsemble.bootstrapCounts(n: 1000, seed: 3)
        #expect(a.reduce(0, +) == 1000)
        #expect(a == LogisticEnsemble.bootstrapCounts(n: 1000, seed: 3))
        #expect(a != LogisticEnsemble.bootstrapCounts(n: 1000, seed: 4))
        // About 1 − 1/e ≈ 63.2% of items are drawn at least once.
        let drawn = a.filter { $0 > 0 }.count
        #expect((590...680).contains(drawn))
    }

    @Test func boundaryDistanceIsTheGeometricDistance() {
        // Classes 0 and 1 with weight vectors (1, 0) and (−1, 0): the boundary is the line x₁ = 0,
        // so the point (0.5, 3) lies 0.5 from it, and (−2, 1) lies 2 from it.
        let member = LogisticRegression(weights: Matrix(rows: 2, cols: 2, storage: [1, -1, 0, 0]), bias: [0, 0])
        let e = LogisticEnsemble(members: [member, member])
        let d = e.boundaryDistances(FeatureMatrix(sparse: nil, dense: Matrix(rows: 2, cols: 2, storage: [0.5, 3, -2, 1])))
        #expect(abs(d[0] - 0.5) < 1e-6)
        #expect(abs(d[1] - 2) < 1e-6)
    }

    @Test func bayesianWeightsAreSeededExponentials() {
        let w = LogisticEnsemble.bayesianWeights(n: 20_000, seed: 9)
        #expect(w == LogisticEnsemble.bayesianWeights(n: 20_000, seed: 9))
        #expect(w.allSatisfy { $0 > 0 }, "no item is dropped")
        let mean = w.reduce(0, +) / Float(w.count)
        #expect(abs(mean - 1) < 0.03, "Exp(1) has mean 1, got \(mean)")
    }

    @Test func membersDifferAndMeanIsAProbability() {
        let x = FeatureMatrix(sparse: nil, dense: Matrix(rows: 8, cols: 2, storage: [0, 0, 1, 0, 0, 1, 1, 1, 2, 1, 1, 2, 2, 2, 0.5, 1.5]))
        let e = LogisticEnsemble.fit(features: x, labels: [0, 0, 1, 1, 2, 1, 2, 1], classes: 3, count: 4, seed: 1)
        #expect(e.members.count == 4)
        #expect(e.members[0] != e.members[1])
        let p = e.probabilities(x)
        for i in 0..<8 { #expect(abs((0..<3).reduce(Float(0)) { $0 + p[i, $1] } - 1) < 1e-5) }
    }

    @Test func temperatureScalingRecoversAKnownTemperature() {
        // Labels drawn from softmax(z / 2): the fitted temperature should be close to 2.
        var rng = SeededGenerator(seed: 11)
        let n = 4000, k = 4
        var logits = [Float](repeating: 0, count: n * k)
        var labels: [Int] = []
        for i in 0..<n {
            var p = [Double](repeating: 0, count: k)
            for j in 0..<k {
                let z = Float(Double(rng.next() % 10_000) / 10_000 * 8 - 4)
                logits[i * k + j] = z
                p[j] = exp(Double(z) / 2)
            }
            let total = p.reduce(0, +)
            var u = Double(rng.next() % 1_000_000) / 1_000_000 * total
            var label = k - 1
            for j in 0..<k { u -= p[j]; if u < 0 { label = j; break } }
            labels.append(label)
        }
        let t = TemperatureScaling.fit(logits: logits, members: 1, labels: labels, classes: k)
        #expect(abs(t - 2) < 0.2, "fitted T = \(t)")
    }
}

@Suite struct SparseMatrixTests {
    @Test func productsMatchDenseGEMM() {
        // A random sparse 5×7 matrix, checked against the same matrix multiplied densely by BLAS.
        var rng = SeededGenerator(seed: 5)
        var sparse = SparseMatrix(cols: 7)
        var dense = Matrix(rows: 5, cols: 7)
        for i in 0..<5 {
            var cols: [Int32] = [], vals: [Float] = []
            for j in 0..<7 where rng.next() % 3 == 0 {
                let v = Float(rng.next() % 100) / 10 - 5
                cols.append(Int32(j)); vals.append(v); dense[i, j] = v
            }
            sparse.appendRow(columns: cols, values: vals)
        }
        let w = Matrix(rows: 7, cols: 3, storage: (0..<21).map { Float($0 % 7) - 3 })
        var expected = Matrix(rows: 5, cols: 3)
        BLAS.gemm(dense, w, into: &expected)
        var got = Matrix(rows: 5, cols: 3)
        w.storage.withUnsafeBufferPointer { FeatureMatrix(sparse: sparse, dense: nil).multiply($0, k: 3, into: &got, beta: 0) }
        for (a, b) in zip(got.storage, expected.storage) { #expect(abs(a - b) < 1e-4) }
        let g = Matrix(rows: 5, cols: 3, storage: (0..<15).map { Float($0) / 7 })
        var expectedT = Matrix(rows: 7, cols: 3)
        BLAS.gemm(dense, transposeA: true, g, into: &expectedT)
        var gotT = [Float](repeating: 9, count: 21)
        gotT.withUnsafeMutableBufferPointer { FeatureMatrix(sparse: sparse, dense: nil).transposeMultiply(g, into: $0) }
        for (a, b) in zip(gotT, expectedT.storage) { #expect(abs(a - b) < 1e-4) }
    }
}

extension Float {
    static func log(_ x: Float) -> Float { Float(Foundation.log(Double(x))) }
}
import Foundation
