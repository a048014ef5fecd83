import Testing
import QuorumNumerics
@testable import QuorumModels

@Suite struct LogisticRegressionTests {
    // Reference: scikit-learn 1.x LogisticRegression(C=1.0, tol=1e-10, max_iter=10000) (lbfgs, multinomial,
    // intercept not penalised) on this data; printed with m.coef_.T, m.intercept_, m.predict_proba.
    let x = Matrix(rows: 8, cols: 2, storage: [0, 0, 1, 0, 0, 1, 1, 1, 2, 1, 1, 2, 2, 2, 0.5, 1.5])
    let y = [0, 0, 1, 1, 2, 1, 2, 1]

    @Test func matchesScikitLearn() {
        let model = LogisticRegression.fit(features: x, labels: y, classes: 3,
                                           settings: LogisticRegressionSettings(c: 1.0, maxIterations: 1000, tolerance: 1e-7))
        let referenceBias: [Float] = [1.0347779, 0.5668332, -1.6016111]
        let referenceWeights: [Float] = [-0.32836721, -0.66146008, 0.98982729, -0.98982727, 0.66146008, 0.32836719]
        for (a, b) in zip(model.bias, referenceBias) { #expect(abs(a - b) < 2e-3) }
        for (a, b) in zip(model.weights.storage, referenceWeights) { #expect(abs(a - b) < 2e-3) }
        let p = model.probabilities(Matrix(rows: 2, cols: 2, storage: [0.5, 0.5, 1.5, 1.5]))
        let referenceP: [Float] = [0.40350856, 0.48850527, 0.10798617, 0.10798618, 0.48850527, 0.40350855]
        for (a, b) in zip(p.storage, referenceP) { #expect(abs(a - b) < 1e-3) }
    }

    @Test func gradientMatchesFiniteDifferences() {
        var objective = SoftmaxObjective(features: x, labels: y, classes: 3, l2: 0.1)
        let theta = (0..<objective.parameterCount).map { Double($0 % 5) * 0.1 - 0.2 }
        var g = [Double](repeating: 0, count: theta.count)
        _ = objective.evaluate(theta, gradient: &g)
        var scratch = g
        for i in 0..<theta.count {
            var plus = theta, minus = theta
            plus[i] += 1e-3
            minus[i] -= 1e-3
            let numeric = (objective.evaluate(plus, gradient: &scratch) - objective.evaluate(minus, gradient: &scratch)) / 2e-3
            #expect(abs(numeric - g[i]) < 1e-3, "parameter \(i)")
        }
    }

    @Test func probabilitiesSumToOne() {
        let model = LogisticRegression.fit(features: x, labels: y, classes: 3)
        let p = model.probabilities(x)
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
        let x = f.transform(texts: [nil], vectors: [[3, 10]])
        // mean 2, population std sqrt(2/3) → (3 − 2) / 0.8164966 = 1.2247449; constant column → 0.
        #expect(abs(x[0, 0] - 1.2247449) < 1e-5)
        #expect(x[0, 1] == 0)
        #expect(f.textWidth == 0)
    }

    @Test func tfidfRowsAreL2NormalisedWithSmoothedIDF() {
        let settings = FeaturizerSettings(textDimensions: 1 << 16, maxNGram: 1, sublinearTF: true)
        let f = Featurizer.fit(texts: ["apple banana", "apple cherry"], vectors: [nil, nil], settings: settings)
        let x = f.transform(texts: ["apple apple banana"], vectors: [nil])
        let nonzero = x.storage.filter { $0 != 0 }
        #expect(nonzero.count == 2)
        // apple: tf 2 → 1 + ln 2, idf ln(3/3) + 1 = 1; banana: tf 1, idf ln(3/2) + 1.
        let apple = 1 + Float.log(2), banana = 1 + Float.log(1.5)
        let norm = (apple * apple + banana * banana).squareRoot()
        #expect(nonzero.contains { abs($0 - apple / norm) < 1e-5 })
        #expect(nonzero.contains { abs($0 - banana / norm) < 1e-5 })
    }

    @Test func bigramsAddFeaturesAndCaseIsFolded() {
        let uni = FeaturizerSettings(textDimensions: 1 << 16, maxNGram: 1)
        let bi = FeaturizerSettings(textDimensions: 1 << 16, maxNGram: 2)
        var buckets1: [Int] = [], buckets2: [Int] = [], upper: [Int] = []
        Featurizer.forEachBucket("the quick fox", settings: uni) { buckets1.append($0) }
        Featurizer.forEachBucket("the quick fox", settings: bi) { buckets2.append($0) }
        Featurizer.forEachBucket("The QUICK fox!", settings: bi) { upper.append($0) }
        #expect(buckets1.count == 3)
        #expect(buckets2.count == 5)
        #expect(upper == buckets2)
    }

    @Test func classifierRoundTripsThroughItsEncoding() {
        let c = Classifier.train(texts: ["good film", "bad film", "great", "awful"], vectors: [nil, nil, nil, nil],
                                 labels: [0, 1, 0, 1], classes: 2, featurizer: FeaturizerSettings(textDimensions: 64))
        let decoded = Classifier(encoded: c.encoded())
        #expect(decoded == Classifier(featurizer: c.featurizer, model: LogisticRegression(weights: c.model.weights, bias: c.model.bias)))
        #expect(Classifier(encoded: [1, 2, 3]) == nil)
    }
}

extension Float {
    static func log(_ x: Float) -> Float { Float(Foundation.log(Double(x))) }
}
import Foundation
