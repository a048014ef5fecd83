import QuorumNumerics

/// Uncertainty measures over a probability matrix (one row per item).
/// Each returns a score per row where higher means "more worth a label".
public enum Uncertainty {
    /// Least confidence: 1 − max_c p(c). In [0, 1 − 1/k].
    ///
    /// - Complexity: O(n × classes).
    public static func leastConfident(_ probabilities: Matrix) -> [Double] {
        (0..<probabilities.rows).map { i in
            var top: Float = 0
            for j in 0..<probabilities.cols { top = max(top, probabilities[i, j]) }
            return Double(1 - top)
        }
    }
}
