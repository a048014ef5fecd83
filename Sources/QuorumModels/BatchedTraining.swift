import Glibc
import QuorumNumerics

/// Trains several logistic regressions on the same features at once: every
/// objective evaluation is ONE product `X · [W₁ … W_M]` and ONE product
/// `Xᵀ · [G₁ … G_M]`, so the features are read once per evaluation for all
/// members instead of once per member. On a 50,000 × 128 dense matrix that
/// read dominates the cost of training.
///
/// Member m minimises `Σᵢ wₘᵢ · CE(xᵢ, yᵢ) / Σᵢ wₘᵢ + ½ · l2ₘ · ‖Wₘ‖²`, where
/// `wₘ` are its sample weights (bootstrap counts) and `l2ₘ = 1 / (C · Σᵢ wₘᵢ)`,
/// which is scikit-learn's objective divided by `C · Σᵢ wₘᵢ`.
struct BatchedSoftmaxObjective {
    let x: FeatureMatrix
    let labels: [Int]
    let classes: Int
    let members: Int
    /// Per member: sample weights divided by their total.
    private let scaledWeights: [[Float]]
    private let l2: [Float]
    /// `width × (members · classes)`: row r holds every member's weights for feature r.
    private var w: [Float]
    private var logits: Matrix
    private var gradW: [Float]

    /// False: the biases' gradients are 0, so biases started at 0 stay there.
    let fitIntercept: Bool

    init(features: FeatureMatrix, labels: [Int], classes: Int, sampleWeights: [[Float]], c: Double, fitIntercept: Bool = true) {
        self.fitIntercept = fitIntercept
        x = features
        self.labels = labels
        self.classes = classes
        members = sampleWeights.count
        var scaled: [[Float]] = []
        var l2: [Float] = []
        for weights in sampleWeights {
            let total = max(Double(weights.reduce(0, +)), 1)
            scaled.append(weights.map { Float(Double($0) / total) })
            l2.append(Float(1 / (c * total)))
        }
        scaledWeights = scaled
        self.l2 = l2
        w = [Float](repeating: 0, count: features.width * members * classes)
        logits = Matrix(rows: features.rows, cols: members * classes)
        gradW = [Float](repeating: 0, count: features.width * members * classes)
    }

    /// Parameters of one member: its weights (width × classes, row-major), then its biases.
    var parameterCount: Int { x.width * classes + classes }

    /// Evaluates every member at `thetas[m]`, writing gradients; returns the objectives.
    ///
    /// - Complexity: O((nnz + n × dense width) × members × classes); no allocation.
    mutating func evaluate(_ thetas: [[Float]], gradients: inout [[Float]]) -> [Double] {
        let n = x.rows, k = classes, mk = members * classes, width = x.width, nw = width * k
        // Gather the members' weights into one width × (M·k) matrix.
        w.withUnsafeMutableBufferPointer { wp in
            for m in 0..<members {
                thetas[m].withUnsafeBufferPointer { t in
                    for r in 0..<width {
                        (wp.baseAddress! + r * mk + m * k).update(from: t.baseAddress! + r * k, count: k)
                    }
                }
            }
        }
        // logits = 1·bᵀ + X·W, then a softmax per member block.
        logits.storage.withUnsafeMutableBufferPointer { p in
            for i in 0..<n { for m in 0..<members { for j in 0..<k { p[i * mk + m * k + j] = thetas[m][nw + j] } } }
        }
        w.withUnsafeBufferPointer { x.multiply($0, k: mk, into: &logits, beta: 1) }
        let blockRows = n * members  // the same buffer, seen as (n·M) rows of k
        logits.storage.withUnsafeMutableBufferPointer { Softmax.applyRows($0, rows: blockRows, cols: k) }
        // Losses, and G = w·(P − Y) in place.
        var losses = [Double](repeating: 0, count: members)
        for m in 0..<members { for j in 0..<k { gradients[m][nw + j] = 0 } }
        logits.storage.withUnsafeMutableBufferPointer { p in
            for i in 0..<n {
                let y = labels[i]
                for m in 0..<members {
                    let weight = scaledWeights[m][i]
                    let row = p.baseAddress! + i * mk + m * k
                    if weight == 0 {
                        row.update(repeating: 0, count: k)
                        continue
                    }
                    losses[m] -= Double(weight) * Double(logf(max(row[y], 1e-30)))
                    row[y] -= 1
                    for j in 0..<k { row[j] *= weight }
                }
            }
        }
        for m in 0..<members where fitIntercept {
            gradients[m].withUnsafeMutableBufferPointer { g in
                logits.storage.withUnsafeBufferPointer { p in
                    for i in 0..<n { for j in 0..<k { g[nw + j] += p[i * mk + m * k + j] } }
                }
            }
        }
        // ∇W = Xᵀ·G + l2·W, scattered back per member.
        gradW.withUnsafeMutableBufferPointer { x.transposeMultiply(logits, into: $0) }
        for m in 0..<members {
            var penalty = 0.0
            let l = l2[m]
            gradients[m].withUnsafeMutableBufferPointer { g in
                thetas[m].withUnsafeBufferPointer { t in
                    gradW.withUnsafeBufferPointer { gw in
                        for r in 0..<width {
                            for j in 0..<k {
                                let v = t[r * k + j]
                                penalty += Double(v) * Double(v)
                                g[r * k + j] = gw[r * mk + m * k + j] + l * v
                            }
                        }
                    }
                }
            }
            losses[m] += 0.5 * Double(l) * penalty
        }
        return losses
    }
}
