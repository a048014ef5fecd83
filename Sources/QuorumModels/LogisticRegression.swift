import Glibc
import QuorumNumerics

/// Settings for multinomial logistic regression.
public struct LogisticRegressionSettings: Sendable, Equatable {
    /// Inverse regularisation strength, as in scikit-learn: each member minimises
    /// `C · Σ wᵢ · cross-entropyᵢ + ½‖W‖²` (the bias is not penalised).
    public var c: Double
    public var maxIterations: Int
    /// Stop when the gradient's max-norm of the mean loss falls below this
    /// (scikit-learn's `tol` for lbfgs means the same).
    public var tolerance: Double

    public init(c: Double = 1.0, maxIterations: Int = 500, tolerance: Double = 1e-4) {
        self.c = c
        self.maxIterations = maxIterations
        self.tolerance = tolerance
    }
}

/// One fitted multinomial logistic regression: `p = softmax((x · W + b) / T)`.
public struct LogisticRegression: Sendable, Equatable {
    /// Weights, `features × classes`, row-major.
    public let weights: Matrix
    /// Biases, one per class.
    public let bias: [Float]
    /// L-BFGS iterations used, and whether the tolerance was met.
    public let iterations: Int
    public let converged: Bool

    public var classes: Int { bias.count }

    /// Two models are equal when their parameters are; how they were fitted does not matter.
    public static func == (a: LogisticRegression, b: LogisticRegression) -> Bool {
        a.weights == b.weights && a.bias == b.bias
    }

    public init(weights: Matrix, bias: [Float], iterations: Int = 0, converged: Bool = true) {
        precondition(weights.cols == bias.count, "weights have \(weights.cols) classes, bias \(bias.count)")
        self.weights = weights
        self.bias = bias
        self.iterations = iterations
        self.converged = converged
    }

    /// Fits the model by L-BFGS. Every loss and gradient evaluation is two
    /// products with the features (`X·W`, then `Xᵀ·(P − Y)`): GEMMs for the
    /// dense block, sparse products for the text block.
    ///
    /// - Parameters:
    ///   - labels: class index per row, each in `0..<classes`.
    ///   - sampleWeights: per-row weights (e.g. bootstrap counts); nil = all 1.
    ///   - start: a model to start from (a warm start); nil = all zeros.
    /// - Complexity: O(iterations × (nnz + n × dense width) × classes).
    public static func fit(features: FeatureMatrix, labels: [Int], classes: Int, sampleWeights: [Float]? = nil,
                           start: LogisticRegression? = nil,
                           settings: LogisticRegressionSettings = .init()) -> LogisticRegression {
        precondition(features.rows == labels.count, "fit: \(features.rows) rows but \(labels.count) labels")
        precondition(labels.allSatisfy { (0..<classes).contains($0) }, "fit: label outside 0..<\(classes)")
        let weights = sampleWeights ?? [Float](repeating: 1, count: labels.count)
        let total = max(Double(weights.reduce(0, +)), 1)
        var objective = SoftmaxObjective(features: features, labels: labels, classes: classes, sampleWeights: weights,
                                         total: Float(total), l2: Float(1 / (settings.c * total)))
        var initial = [Float](repeating: 0, count: objective.parameterCount)
        if let start, start.weights.rows == features.width, start.classes == classes {
            initial = start.weights.storage + start.bias
        }
        let result = LBFGS.minimize(start: initial, maxIterations: settings.maxIterations,
                                    tolerance: Float(settings.tolerance)) { x, g in objective.evaluate(x, gradient: &g) }
        let nw = features.width * classes
        return LogisticRegression(weights: Matrix(rows: features.width, cols: classes, storage: Array(result.solution[0..<nw])),
                                  bias: Array(result.solution[nw...]), iterations: result.iterations, converged: result.converged)
    }

    /// Logits `X · W + b`, one row per item.
    ///
    /// - Complexity: O((nnz + n × dense width) × classes).
    public func logits(_ features: FeatureMatrix) -> Matrix {
        var out = Matrix(rows: features.rows, cols: classes)
        out.storage.withUnsafeMutableBufferPointer { p in
            for i in 0..<features.rows { for j in 0..<classes { p[i * classes + j] = bias[j] } }
        }
        weights.storage.withUnsafeBufferPointer { w in features.multiply(w, k: classes, into: &out, beta: 1) }
        return out
    }

    /// Class probabilities for each row.
    public func probabilities(_ features: FeatureMatrix) -> Matrix {
        var p = logits(features)
        Softmax.applyRows(&p)
        return p
    }
}

/// Weighted mean cross-entropy plus an L2 penalty, with preallocated buffers
/// so an evaluation allocates nothing.
struct SoftmaxObjective {
    let x: FeatureMatrix
    let labels: [Int]
    let classes: Int
    let sampleWeights: [Float]
    let total: Float
    let l2: Float
    private var logits: Matrix

    init(features: FeatureMatrix, labels: [Int], classes: Int, sampleWeights: [Float], total: Float, l2: Float) {
        x = features
        self.labels = labels
        self.classes = classes
        self.sampleWeights = sampleWeights
        self.total = total
        self.l2 = l2
        logits = Matrix(rows: features.rows, cols: classes)
    }

    var parameterCount: Int { x.width * classes + classes }

    /// Returns the objective at `theta` and writes its gradient.
    mutating func evaluate(_ theta: [Float], gradient: inout [Float]) -> Double {
        let n = x.rows, k = classes, nw = x.width * classes
        // logits = 1·bᵀ + X·W
        logits.storage.withUnsafeMutableBufferPointer { p in
            for i in 0..<n { for j in 0..<k { p[i * k + j] = theta[nw + j] } }
        }
        theta.withUnsafeBufferPointer { t in
            x.multiply(UnsafeBufferPointer(rebasing: t[0..<nw]), k: k, into: &logits, beta: 1)
        }
        Softmax.applyRows(&logits)
        // loss, and G = w·(P − Y) / total in place
        var loss = 0.0
        let invTotal = 1 / total
        for j in 0..<k { gradient[nw + j] = 0 }
        logits.storage.withUnsafeMutableBufferPointer { p in
            for i in 0..<n {
                let y = labels[i]
                let w = sampleWeights[i] * invTotal
                let row = p.baseAddress! + i * k
                loss -= Double(sampleWeights[i]) * Double(logf(max(row[y], 1e-30)))
                row[y] -= 1
                for j in 0..<k {
                    row[j] *= w
                    gradient[nw + j] += row[j]
                }
            }
        }
        loss /= Double(total)
        // ∇W = Xᵀ·G + l2·W
        gradient.withUnsafeMutableBufferPointer { g in
            x.transposeMultiply(logits, into: UnsafeMutableBufferPointer(rebasing: g[0..<nw]))
        }
        var penalty = 0.0
        for i in 0..<nw {
            penalty += Double(theta[i]) * Double(theta[i])
            gradient[i] += l2 * theta[i]
        }
        return loss + 0.5 * Double(l2) * penalty
    }
}
