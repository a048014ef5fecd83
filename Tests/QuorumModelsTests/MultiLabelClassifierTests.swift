import Foundation
import QuorumModels
import QuorumNumerics
import Testing

/// One-vs-rest against scikit-learn, on the bundled digits with four labels
/// given by a stated rule on the digit: even; 5 or more; prime (2, 3, 5, 7);
/// has a loop (0, 6, 8, 9). Rows 0–999 train, 1000–1796 test.
///
/// Reference, scikit-learn 1.9.1: StandardScaler fitted on the training rows,
/// OneVsRestClassifier(LogisticRegression(C=2, max_iter=5000, tol=1e-8)) (a
/// two-class softmax regression at C is scikit-learn's binary one at 2 C):
/// test micro F1 0.874869, macro F1 0.874723, Hamming loss 0.111982;
/// predict_proba of test row 0 [0.016358, 0.0, 0.475604, 1e-06], of row 1
/// [0.999979, 0.000411, 0.002574, 0.005042].
@Suite struct MultiLabelClassifierTests {
    static let rules: [@Sendable (Int) -> Bool] = [{ $0 % 2 == 0 }, { $0 >= 5 }, { [2, 3, 5, 7].contains($0) }, { [0, 6, 8, 9].contains($0) }]

    static let digits: (vectors: [[Float]?], labelSets: [Set<Int>]) = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try! String(contentsOf: root.appendingPathComponent("datasets/digits/digits.jsonl"), encoding: .utf8)
        var vectors: [[Float]?] = [], sets: [Set<Int>] = []
        for line in text.split(separator: "\n") {
            let object = try! JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            vectors.append((object["vector"] as! [NSNumber]).map { $0.floatValue })
            let digit = Int(object["label"] as! String)!
            sets.append(Set(rules.indices.filter { rules[$0](digit) }))
        }
        return (vectors, sets)
    }()

    @Test func matchesScikitLearnOneVsRest() throws {
        let (vectors, sets) = Self.digits
        let train = 0..<1000, test = 1000..<vectors.count
        let (model, trainings) = MultiLabelClassifier.train(
            texts: [String?](repeating: nil, count: train.count), vectors: Array(vectors[train]), labelSets: Array(sets[train]),
            labels: 4, members: 1, selection: .fixed(c: 1), model: LogisticRegressionSettings(c: 1, maxIterations: 5000, tolerance: 1e-7),
            calibration: .none)
        #expect(trainings.count == 4 && trainings.allSatisfy { $0.c == 1 })
        let p = model.probabilities(texts: [String?](repeating: nil, count: test.count), vectors: Array(vectors[test]))
        let expected: [[Double]] = [[0.016358, 0.0, 0.475604, 1e-06], [0.999979, 0.000411, 0.002574, 0.005042]]
        for (row, values) in expected.enumerated() {
            for (j, v) in values.enumerated() { #expect(abs(Double(p[row, j]) - v) < 2e-3, "row \(row), label \(j): \(p[row, j])") }
        }
        let scores = MultiLabelMetrics.scores(predicted: MultiLabelClassifier.predicted(p), truth: Array(sets[test]), labels: 4)
        #expect(abs(scores.microF1 - 0.874869) < 0.003, "\(scores)")
        #expect(abs(scores.macroF1 - 0.874723) < 0.003)
        #expect(abs(scores.hammingLoss - 0.111982) < 0.003)
        // Stored and read back, it predicts the same.
        let back = try #require(MultiLabelClassifier(encoded: model.encoded()))
        #expect(back == model)
        #expect(MultiLabelClassifier(encoded: Array(model.encoded().dropLast(3))) == nil)
    }

    /// The per-label margin's complement, by hand: p = (0.5, 0.9) → (1, 0.2): mean 0.6, least sure 1.
    @Test func uncertaintyAggregatesTheLabels() {
        let u = MultiLabelClassifier.uncertainty(Matrix(rows: 2, cols: 2, storage: [0.5, 0.9, 0.0, 1.0]))
        #expect(abs(u.mean[0] - 0.6) < 1e-6 && abs(u.leastSure[0] - 1) < 1e-6)
        #expect(u.mean[1] == 0 && u.leastSure[1] == 0)
    }
}
