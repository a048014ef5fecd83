/// Evaluation of multi-label predictions: each item has a set of labels
/// (possibly empty), given as label indices.
public enum MultiLabelMetrics {
    public struct Scores: Sendable, Equatable {
        /// F1 over every (item, label) decision pooled: 2·TP / (2·TP + FP + FN).
        public var microF1: Double
        /// Unweighted mean of per-label F1 over the labels that occur in the
        /// truth or the predictions (scikit-learn's `f1_score(average="macro")`
        /// restricted to those labels, as `Metrics.macroF1`).
        public var macroF1: Double
        /// Share of (item, label) decisions that are wrong.
        public var hammingLoss: Double
    }

    /// - Parameters:
    ///   - predicted: per item, the labels predicted (for a probabilistic model, those above 0.5).
    ///   - truth: per item, the true labels.
    ///   - labels: how many labels the project has (the Hamming loss's denominator).
    /// - Complexity: O(Σ |predicted| + |truth| + labels).
    public static func scores(predicted: [Set<Int>], truth: [Set<Int>], labels: Int) -> Scores {
        precondition(predicted.count == truth.count, "\(predicted.count) predictions for \(truth.count) items")
        var tp = [Int](repeating: 0, count: labels), fp = tp, fn = tp
        for (p, t) in zip(predicted, truth) {
            for l in p { if t.contains(l) { tp[l] += 1 } else { fp[l] += 1 } }
            for l in t where !p.contains(l) { fn[l] += 1 }
        }
        let (TP, FP, FN) = (tp.reduce(0, +), fp.reduce(0, +), fn.reduce(0, +))
        let micro = 2 * TP + FP + FN == 0 ? 1 : Double(2 * TP) / Double(2 * TP + FP + FN)
        var sum = 0.0, present = 0
        for l in 0..<labels where tp[l] + fp[l] + fn[l] > 0 {
            present += 1
            sum += Double(2 * tp[l]) / Double(2 * tp[l] + fp[l] + fn[l])
        }
        let decisions = predicted.count * labels
        return Scores(microF1: micro, macroF1: present == 0 ? 1 : sum / Double(present),
                      hammingLoss: decisions == 0 ? 0 : Double(FP + FN) / Double(decisions))
    }
}
