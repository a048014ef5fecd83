import Foundation
@testable import QuorumModels
import QuorumNumerics
import Testing

/// The Bradley–Terry model against scikit-learn's logistic regression on feature
/// differences, on pairs built from the bundled WordNet verb glosses by a stated
/// rule: pair i matches the i-th "communication" gloss with the i-th gloss of any
/// other class (file order); on even i the communication gloss is a, on odd i it
/// is b; the preferred response is the communication gloss. 225 pairs: the first
/// 150 train, the last 75 test.
///
/// Reference, scikit-learn 1.9.1: TfidfVectorizer (word unigrams, token pattern
/// \b\w\w+\b, lowercase, sublinear tf, smoothed IDF, L2, min_df 1) fitted on the
/// 300 training responses; LogisticRegression(C=2, fit_intercept=False,
/// max_iter=5000, tol=1e-8) on V(a) − V(b) (a two-class softmax at C is the binary
/// model at 2 C): test accuracy 0.813333; p(a ≻ b) of test pairs 0–3
/// [0.619256, 0.406861, 0.694432, 0.319047]; swapping a and b gives 1 − p.
@Suite struct PreferenceModelTests {
    static let pairs: [(a: String, b: String, choice: PreferenceModel.Choice)] = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try! String(contentsOf: root.appendingPathComponent("datasets/wordnet_verbs/wordnet_verbs_2000.jsonl"), encoding: .utf8)
        var communication: [String] = [], other: [String] = []
        for line in text.split(separator: "\n") {
            let object = try! JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            if object["label"] as! String == "communication" { communication.append(object["text"] as! String) } else { other.append(object["text"] as! String) }
        }
        return communication.indices.map { i in
            i % 2 == 0 ? (communication[i], other[i], .a) : (other[i], communication[i], .b)
        }
    }()

    @Test func matchesLogisticRegressionOnDifferences() throws {
        let train = Array(Self.pairs.prefix(150)), test = Array(Self.pairs.dropFirst(150))
        #expect(test.count == 75)
        let (model, training) = PreferenceModel.train(
            a: train.map(\.a), b: train.map(\.b), choices: train.map(\.choice), table: train.map(\.a) + train.map(\.b), members: 1,
            selection: .fixed(c: 1, featurizer: FeaturizerSettings(maxNGram: 1, sublinearTF: true, minDocumentFrequency: 1)),
            calibration: .none)
        #expect(training.c == 1)
        #expect(model.classifier.ensemble.members.allSatisfy { $0.bias.allSatisfy { $0 == 0 } }, "no bias: p(b ≻ a) = 1 − p(a ≻ b)")
        let p = model.probabilityAPreferred(a: test.map(\.a), b: test.map(\.b))
        for (i, v) in [0.619256, 0.406861, 0.694432, 0.319047].enumerated() { #expect(abs(p[i] - v) < 2e-3, "pair \(i): \(p[i])") }
        let accuracy = Double(zip(p, test).filter { ($0 > 0.5) == ($1.choice == .a) }.count) / Double(test.count)
        #expect(abs(accuracy - 0.813333) < 0.014, "within one pair of scikit-learn's 61 of 75")
        let swapped = model.probabilityAPreferred(a: test.map(\.b), b: test.map(\.a))
        #expect(zip(p, swapped).allSatisfy { abs($0 + $1 - 1) < 1e-6 })
        #expect(PreferenceModel.uncertainty([0.5, 0.9, 0.1]).map { ($0 * 1e6).rounded() / 1e6 } == [1, 0.2, 0.2])
    }

    /// With the defaults (features and C by cross-validation, out-of-fold temperature) it
    /// still learns the direction, and ties are left out of training.
    @Test func trainsWithModelSelectionAndIgnoresTies() {
        var train = Array(Self.pairs.prefix(150))
        for i in stride(from: 0, to: 20, by: 1) { train[i].choice = .tie }
        let test = Array(Self.pairs.dropFirst(150))
        let (model, training) = PreferenceModel.train(a: train.map(\.a), b: train.map(\.b), choices: train.map(\.choice),
                                                      table: train.map(\.a) + train.map(\.b), members: 3)
        #expect(training.folds == 5 && training.calibration?.heldOut == 130)
        let p = model.probabilityAPreferred(a: test.map(\.a), b: test.map(\.b))
        let accuracy = Double(zip(p, test).filter { ($0 > 0.5) == ($1.choice == .a) }.count) / Double(test.count)
        #expect(accuracy > 0.7, "\(accuracy)")
    }
}
