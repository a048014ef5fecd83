import QuorumNumerics

/// Evaluation measures over predicted probabilities and true labels.
public enum Metrics {
    /// Share of rows whose most probable class is the true one.
    ///
    /// - Complexity: O(n × classes).
    public static func accuracy(_ probabilities: Matrix, labels: [Int]) -> Double {
        guard !labels.isEmpty else { return .nan }
        var correct = 0
        for i in 0..<labels.count where probabilities.argmax(row: i) == labels[i] { correct += 1 }
        return Double(correct) / Double(labels.count)
    }

    /// Unweighted mean of per-class F1 over the classes that occur in the
    /// true or predicted labels (as scikit-learn's `f1_score(average="macro")`).
    ///
    /// - Complexity: O(n × classes).
    public static func macroF1(_ probabilities: Matrix, labels: [Int]) -> Double {
        let k = probabilities.cols
        var tp = [Int](repeating: 0, count: k), fp = tp, fn = tp
        for i in 0..<labels.count {
            let predicted = probabilities.argmax(row: i)
            if predicted == labels[i] { tp[predicted] += 1 } else { fp[predicted] += 1; fn[labels[i]] += 1 }
        }
        var sum = 0.0
        var present = 0
        for c in 0..<k where tp[c] + fp[c] + fn[c] > 0 {
            present += 1
            sum += 2 * Double(tp[c]) / Double(2 * tp[c] + fp[c] + fn[c])
        }
        return present == 0 ? .nan : sum / Double(present)
    }

    /// One class's figures on the test items.
    public struct ClassFigures: Sendable, Equatable {
        public var precision: Double?
        public var recall: Double?
        public var f1: Double?
        /// Test items whose true label is this class.
        public var support: Int
    }

    /// Precision, recall and F1 per class (as scikit-learn's
    /// `precision_recall_fscore_support`, except that a ratio with a zero
    /// denominator is nil rather than 0: a class never predicted has no precision).
    ///
    /// - Complexity: O(n × classes).
    public static func perClass(_ probabilities: Matrix, labels: [Int]) -> [ClassFigures] {
        let k = probabilities.cols
        var tp = [Int](repeating: 0, count: k), fp = tp, fn = tp
        for i in 0..<labels.count {
            let predicted = probabilities.argmax(row: i)
            if predicted == labels[i] { tp[predicted] += 1 } else { fp[predicted] += 1; fn[labels[i]] += 1 }
        }
        return (0..<k).map { c in
            func ratio(_ a: Int, _ b: Int) -> Double? { b == 0 ? nil : Double(a) / Double(b) }
            return ClassFigures(precision: ratio(tp[c], tp[c] + fp[c]), recall: ratio(tp[c], tp[c] + fn[c]),
                                f1: ratio(2 * tp[c], 2 * tp[c] + fp[c] + fn[c]), support: tp[c] + fn[c])
        }
    }

    /// Expected calibration error with `bins` equal-width confidence bins:
    /// Σ_b (|b| / n) · |accuracy(b) − mean confidence(b)|, where confidence is
    /// the top-class probability. A confidence of exactly 1 falls in the last bin.
    ///
    /// - Complexity: O(n × classes).
    public static func expectedCalibrationError(_ probabilities: Matrix, labels: [Int], bins: Int = 15) -> Double {
        guard !labels.isEmpty else { return .nan }
        var count = [Int](repeating: 0, count: bins)
        var confidenceSum = [Double](repeating: 0, count: bins)
        var correctSum = [Double](repeating: 0, count: bins)
        for i in 0..<labels.count {
            let predicted = probabilities.argmax(row: i)
            let confidence = Double(probabilities[i, predicted])
            let b = min(Int(confidence * Double(bins)), bins - 1)
            count[b] += 1
            confidenceSum[b] += confidence
            correctSum[b] += predicted == labels[i] ? 1 : 0
        }
        var ece = 0.0
        for b in 0..<bins where count[b] > 0 {
            ece += abs(correctSum[b] - confidenceSum[b]) / Double(labels.count)
        }
        return ece
    }
}
