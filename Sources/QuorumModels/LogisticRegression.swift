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

    /// Whether each class has a bias. Without, the biases stay 0: a model on
    /// differences of two items' features, p(a ≻ b) = σ(w · (φ(a) − φ(b))),
    /// then gives p(b ≻ a) = 1 − p(a ≻ b) exactly (Bradley–Terry).
    public var fitIntercept: Bool

    /// A fit from a warm start stops only once its gradient's max-norm is at
    /// most this fraction of the gradient it started with (or below
    /// `tolerance`, whichever is smaller; never below `tolerance` / 1,000,
    /// where `Float` gradients are noise). Without it a C path stalls: the
    /// previous C's solution has, under the new C, the gradient
    /// (1/C₁ − 1/C₂)·w/n, which on 8,000 texts is already below 1e-4, so
    /// every larger C "fitted" to the first one's model. nil: the absolute
    /// test alone.
    public var warmStartReduction: Double?

    public init(c: Double = 1.0, maxIterations: Int = 500, tolerance: Double = 1e-4, fitIntercept: Bool = true,
                warmStartReduction: Double? = 0.1) {
        self.c = c
        self.maxIterations = maxIterations
        self.tolerance = tolerance
        self.fitIntercept = fitIntercept
        self.warmStartReduction = warmStartReduction
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
        fitBatch(features: features, labels: labels, classes: classes,
                 sampleWeights: [sampleWeights ?? [Float](repeating: 1, count: labels.count)],
                 start: start, settings: settings)[0]
    }

    /// Fits one model per weight vector, all in lockstep so that each
    /// evaluation reads the features once for every model (see `BatchedSoftmaxObjective`).
    /// Cross-validation folds are weight vectors too: 0 on the held-out rows.
    ///
    /// - Parameters:
    ///   - start: one model every fit starts from; nil = all zeros.
    ///   - starts: one start per weight vector (a warm start along a C path); overrides `start`.
    /// - Complexity: O(iterations × (nnz + n × dense width) × models × classes).
    public static func fitBatch(features: FeatureMatrix, labels: [Int], classes: Int, sampleWeights: [[Float]],
                                start: LogisticRegression? = nil, starts: [LogisticRegression]? = nil,
                                settings: LogisticRegressionSettings = .init()) -> [LogisticRegression] {
        precondition(features.rows == labels.count, "fit: \(features.rows) rows but \(labels.count) labels")
        precondition(labels.allSatisfy { (0..<classes).contains($0) }, "fit: label outside 0..<\(classes)")
        precondition(sampleWeights.allSatisfy { $0.count == labels.count }, "fit: one weight per row")
        var objective = BatchedSoftmaxObjective(features: features, labels: labels, classes: classes,
                                                sampleWeights: sampleWeights, c: settings.c, fitIntercept: settings.fitIntercept)
        func initial(_ model: LogisticRegression?) -> [Float] {
            guard let model, model.weights.rows == features.width, model.classes == classes else {
                return [Float](repeating: 0, count: objective.parameterCount)
            }
            return model.weights.storage + (settings.fitIntercept ? model.bias : [Float](repeating: 0, count: classes))
        }
        let initials = starts.map { precondition($0.count == sampleWeights.count, "fit: one start per model"); return $0.map(initial) }
            ?? Array(repeating: initial(start), count: sampleWeights.count)
        // Large text models keep a shorter history so memory stays bounded.
        let memory = objective.parameterCount * sampleWeights.count > 4_000_000 ? 5 : 10
        let warm = starts != nil || start != nil
        let results = LBFGS.minimize(starts: initials, memory: memory,
                                     maxIterations: settings.maxIterations, tolerance: Float(settings.tolerance),
                                     reduction: warm ? settings.warmStartReduction.map(Float.init) : nil,
                                     floor: Float(settings.tolerance / 1000)) { xs, gs in
            objective.evaluate(xs, gradients: &gs)
        }
        let nw = features.width * classes
        return results.map { r in
            LogisticRegression(weights: Matrix(rows: features.width, cols: classes, storage: Array(r.solution[0..<nw])),
                               bias: Array(r.solution[nw...]), iterations: r.iterations, converged: r.converged)
        }
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
