import Foundation
import QuorumNumerics

/// The pre-labelling model of a multi-label project: one-vs-rest, a
/// `Classifier` per label (a calibrated ensemble of two-class logistic
/// regressions), each with its own C and features chosen by cross-validation
/// and its own out-of-fold temperature. A label applies to an item when its
/// probability is above 0.5.
///
/// A two-class softmax regression penalises both classes' weights, so its C
/// matches scikit-learn's binary `LogisticRegression` at C / 2 … its 2 C: the
/// same family of models, the grid shifted by a factor of 2.
public struct MultiLabelClassifier: Sendable, Equatable {
    /// Per label, in the project's order.
    public let perLabel: [Classifier]

    public init(perLabel: [Classifier]) {
        self.perLabel = perLabel
    }

    public var labels: Int { perLabel.count }

    /// Trains one classifier per label on the same items.
    ///
    /// - Parameters:
    ///   - labelSets: per item, the indices (in `0..<labels`) of the labels that apply.
    ///   - progress: called after each label is trained, with (labels done, labels).
    /// - Complexity: labels × `Classifier.train`.
    public static func train(texts: [String?], vectors: [[Float]?], labelSets: [Set<Int>], labels: Int,
                             table: Classifier.ItemTable? = nil, members: Int = 5, seed: UInt64 = 1,
                             selection: ModelSelection = .init(), model settings: LogisticRegressionSettings = .init(),
                             calibration: Classifier.CalibrationScheme = .cv, progress: (Int, Int) -> Void = { _, _ in }) -> (MultiLabelClassifier, [Classifier.Training]) {
        precondition(texts.count == labelSets.count && vectors.count == labelSets.count, "one label set per item")
        var models: [Classifier] = [], trainings: [Classifier.Training] = []
        // The features do not depend on the label: built once per candidate setting, shared by every label.
        let design = Classifier.ItemDesign(texts: texts, vectors: vectors, table: table, selection: selection)
        var built: [FeaturizerSettings: (Featurizer, FeatureMatrix)] = [:]
        for label in 0..<labels {
            let y = labelSets.map { $0.contains(label) ? 1 : 0 }
            let (model, training) = Classifier.fit(
                labels: y, classes: 2, candidates: design.candidates, tableItems: design.tableItems, members: members,
                seed: seed &+ UInt64(label), selection: selection, model: settings, calibration: calibration) { candidate in
                    if let known = built[candidate] { return known }
                    let made = design.features(candidate)
                    built[candidate] = made
                    return made
                }
            models.append(model)
            trainings.append(training)
            progress(label + 1, labels)
        }
        return (MultiLabelClassifier(perLabel: models), trainings)
    }

    /// P(label applies), `items × labels`.
    ///
    /// - Complexity: labels × `Classifier.probabilities`.
    public func probabilities(texts: [String?], vectors: [[Float]?]) -> Matrix {
        var out = Matrix(rows: texts.count, cols: labels)
        for (j, model) in perLabel.enumerated() {
            let p = model.probabilities(texts: texts, vectors: vectors)
            for i in 0..<texts.count { out.storage[i * labels + j] = p.storage[i * 2 + 1] }
        }
        return out
    }

    /// P(label applies), `items × labels`, with the item-level measures the
    /// router and the sampler read, each label's two-class measures aggregated
    /// over the labels:
    /// - `confidence`: the least sure label's max(p, 1 − p), so an item is only
    ///   as confident as its most doubtful label;
    /// - `margin`: the mean over labels of |2p − 1| (the two-class margin), so
    ///   margin uncertainty 1 − margin is `uncertainty(_:).mean`;
    /// - `entropy`, `voteEntropy`, `meanKL`, `mutualInformation`: means over labels
    ///   of each label's committee measures;
    /// - `predicted`: the most probable label.
    ///
    /// - Complexity: labels × `Classifier.score`, plus O(items × labels).
    public func score(texts: [String?], vectors: [[Float]?]) -> (probabilities: Matrix, measures: EnsembleMeasures) {
        let n = texts.count, l = labels
        var out = Matrix(rows: n, cols: l)
        var m = EnsembleMeasures(count: n)
        for i in 0..<n { m.confidence[i] = 1 }
        var best = [Float](repeating: -1, count: n)
        let share = 1 / Float(l)
        for (j, model) in perLabel.enumerated() {
            let (p, s) = model.score(texts: texts, vectors: vectors)
            for i in 0..<n {
                let yes = p.storage[i * 2 + 1]
                out.storage[i * l + j] = yes
                m.confidence[i] = min(m.confidence[i], max(yes, 1 - yes))
                m.margin[i] += abs(2 * yes - 1) * share
                m.entropy[i] += s.entropy[i] * share
                m.voteEntropy[i] += s.voteEntropy[i] * share
                m.meanKL[i] += s.meanKL[i] * share
                m.mutualInformation[i] += s.mutualInformation[i] * share
                if yes > best[i] { best[i] = yes; m.predicted[i] = Int32(j) }
            }
        }
        return (out, m)
    }

    /// The labels above `threshold`, per row of `probabilities`.
    public static func predicted(_ probabilities: Matrix, threshold: Float = 0.5) -> [Set<Int>] {
        (0..<probabilities.rows).map { i in Set((0..<probabilities.cols).filter { probabilities[i, $0] > threshold }) }
    }

    /// How unsure the model is of each item's set: per label the margin's
    /// complement 1 − |2p − 1| (1 at p = 0.5, 0 when sure), averaged over the
    /// labels (`mean`), and the largest of them (`least sure label`).
    ///
    /// - Complexity: O(items × labels).
    public static func uncertainty(_ probabilities: Matrix) -> (mean: [Double], leastSure: [Double]) {
        var mean = [Double](repeating: 0, count: probabilities.rows), worst = mean
        let l = probabilities.cols
        guard l > 0 else { return (mean, worst) }
        for i in 0..<probabilities.rows {
            var sum = 0.0, top = 0.0
            for j in 0..<l {
                let u = 1 - abs(2 * Double(probabilities.storage[i * l + j]) - 1)
                sum += u
                top = max(top, u)
            }
            mean[i] = sum / Double(l)
            worst[i] = top
        }
        return (mean, worst)
    }

    /// A versioned binary encoding: "QML1", the label count, then each label's `Classifier.encoded()`.
    public func encoded() -> [UInt8] {
        var w = ByteWriter()
        w.write(UInt32(0x514D_4C31)) // "QML1"
        w.write(UInt32(perLabel.count))
        for model in perLabel {
            let bytes = model.encoded()
            w.write(UInt32(bytes.count))
            w.bytes += bytes
        }
        return w.bytes
    }

    /// Decodes `encoded()`; nil when the bytes are not a multi-label model.
    public init?(encoded bytes: [UInt8]) {
        var r = ByteReader(bytes)
        guard r.readUInt32() == 0x514D_4C31, let count = r.readUInt32(), count >= 1 else { return nil }
        var models: [Classifier] = []
        for _ in 0..<count {
            guard let length = r.readUInt32(), let chunk = r.readBytes(Int(length)), let model = Classifier(encoded: chunk) else { return nil }
            models.append(model)
        }
        perLabel = models
    }
}
