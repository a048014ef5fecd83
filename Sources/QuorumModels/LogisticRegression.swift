import QuorumNumerics

/// Settings for multinomial logistic regression.
public struct LogisticRegressionSettings: Sendable, Equatable {
    /// Inverse regularisation strength, as in scikit-learn: the objective is
    /// `C · Σ cross-entropy + ½‖W‖²` (the bias is not penalised).
    public var c: Double
    public var maxIterations: Int
    /// Stop when the gradient's max-norm falls below this (relative to the loss scale).
    public var tolerance: Double

    public init(c: Double = 1.0, maxIterations: Int = 300, tolerance: Double = 1e-5) {
        self.c = c
        self.maxIterations = maxIterations
        self.tolerance = tolerance
    }
}

/// A fitted multinomial logistic regression: `p = softmax(x · W + b)`.
public struct LogisticRegression: Sendable, Equatable {
    /// Weights, `features × classes`.
    public let weights: Matrix
    /// Biases, one per class.
    public let bias: [Float]
    /// L-BFGS iterations used, and whether the tolerance was met.
    public let iterations: Int
    public let converged: Bool

    public var classes: Int { bias.count }

    public init(weights: Matrix, bias: [Float], iterations: Int = 0, converged: Bool = true) {
        precondition(weights.cols == bias.count, "weights have \(weights.cols) classes, bias \(bias.count)")
        self.weights = weights
        self.bias = bias
        self.iterations = iterations
        self.converged = converged
    }

    /// Fits the model by L-BFGS. Every loss and gradient evaluation is two
    /// GEMMs (`X·W` and `Xᵀ·(P − Y)`), so the cost is BLAS-bound.
    ///
    /// - Parameters:
    ///   - features: `n × d` rows.
    ///   - labels: class index per row, each in `0..<classes`.
    /// - Complexity: O(iterations × n × d × classes).
    public static func fit(features: Matrix, labels: [Int], classes: Int,
                           settings: LogisticRegressionSettings = .init()) -> LogisticRegression {
        precondition(features.rows == labels.count, "fit: \(features.rows) rows but \(labels.count) labels")
        precondition(labels.allSatisfy { (0..<classes).contains($0) }, "fit: label outside 0..<\(classes)")
        var objective = SoftmaxObjective(features: features, labels: labels, classes: classes,
                                         l2: 1 / (settings.c * Double(max(features.rows, 1))))
        let start = [Double](repeating: 0, count: objective.parameterCount)
        let result = LBFGS.minimize(start: start, maxIterations: settings.maxIterations,
                                    tolerance: settings.tolerance) { x, g in objective.evaluate(x, gradient: &g) }
        let (w, b) = objective.unpack(result.solution)
        return LogisticRegression(weights: w, bias: b, iterations: result.iterations, converged: result.converged)
    }

    /// Class probabilities for each row.
    ///
    /// - Complexity: O(n × d × classes), one GEMM.
    public func probabilities(_ features: Matrix) -> Matrix {
        var logits = Matrix(rows: features.rows, cols: classes)
        addBias(&logits)
        BLAS.gemm(features, weights, into: &logits, beta: 1)
        Softmax.applyRows(&logits)
        return logits
    }

    private func addBias(_ logits: inout Matrix) {
        let k = classes
        logits.storage.withUnsafeMutableBufferPointer { p in
            for i in 0..<logits.rows { for j in 0..<k { p[i * k + j] = bias[j] } }
        }
    }
}

/// Mean cross-entropy plus an L2 penalty, with preallocated buffers so an
/// evaluation allocates nothing.
struct SoftmaxObjective {
    let x: Matrix
    let labels: [Int]
    let classes: Int
    let l2: Double
    private var w: Matrix
    private var logits: Matrix
    private var gradW: Matrix

    init(features: Matrix, labels: [Int], classes: Int, l2: Double) {
        x = features
        self.labels = labels
        self.classes = classes
        self.l2 = l2
        w = Matrix(rows: features.cols, cols: classes)
        logits = Matrix(rows: features.rows, cols: classes)
        gradW = Matrix(rows: features.cols, cols: classes)
    }

    var parameterCount: Int { x.cols * classes + classes }

    func unpack(_ theta: [Double]) -> (Matrix, [Float]) {
        let nw = x.cols * classes
        return (Matrix(rows: x.cols, cols: classes, storage: theta[0..<nw].map { Float($0) }),
                theta[nw...].map { Float($0) })
    }

    /// Returns the objective at `theta` and writes its gradient.
    mutating func evaluate(_ theta: [Double], gradient: inout [Double]) -> Double {
        let n = x.rows, k = classes, nw = x.cols * classes
        for i in 0..<nw { w.storage[i] = Float(theta[i]) }
        // logits = 1·bᵀ + X·W
        logits.storage.withUnsafeMutableBufferPointer { p in
            for i in 0..<n { for j in 0..<k { p[i * k + j] = Float(theta[nw + j]) } }
        }
        BLAS.gemm(x, w, into: &logits, beta: 1)
        Softmax.applyRows(&logits)
        // loss, and G = (P − Y) / n in place
        var loss = 0.0
        let invN = Float(1) / Float(max(n, 1))
        for j in 0..<k { gradient[nw + j] = 0 }
        logits.storage.withUnsafeMutableBufferPointer { p in
            for i in 0..<n {
                let y = labels[i]
                loss -= Double(logf(max(p[i * k + y], 1e-30)))
                p[i * k + y] -= 1
                for j in 0..<k {
                    p[i * k + j] *= invN
                    gradient[nw + j] += Double(p[i * k + j])
                }
            }
        }
        loss /= Double(max(n, 1))
        // ∇W = Xᵀ·G + l2·W
        BLAS.gemm(x, transposeA: true, logits, into: &gradW)
        var penalty = 0.0
        for i in 0..<nw {
            penalty += theta[i] * theta[i]
            gradient[i] = Double(gradW.storage[i]) + l2 * theta[i]
        }
        return loss + 0.5 * l2 * penalty
    }
}

import Glibc
