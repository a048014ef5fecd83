import QuorumCore
import QuorumModels

/// Decides which pool items are confident enough to label automatically.
enum Router {
    struct Decision {
        /// Items at or above this confidence are auto-accepted; nil = none are.
        var threshold: Double?
        /// The error rate expected among the auto-accepted items.
        var estimatedError: Double?
    }

    /// With `.threshold(P)`, the threshold is P. With `.targetError(E)`, it is the
    /// lowest threshold whose estimated error stays at or below E, where the
    /// estimate is the larger of two:
    /// - the calibrated expectation over the pool items it would accept,
    ///   mean(1 − confidence);
    /// - the error actually observed among held-out labels (the calibration
    ///   folds) at or above that confidence, with one error added as a
    ///   continuity correction, so a threshold backed by few held-out items is not trusted.
    ///
    /// - Complexity: O(n log n) for n pool items.
    static func decide(_ routing: RoundService.Routing, confidences: [Double], reliability: Reliability?) throws -> Decision {
        switch routing {
        case .threshold(let p):
            let accepted = confidences.filter { $0 >= p }
            return Decision(threshold: p, estimatedError: accepted.isEmpty ? nil : accepted.map { 1 - $0 }.reduce(0, +) / Double(accepted.count))
        case .targetError(let e):
            guard let reliability else {
                throw QuorumError(.state, "--target-error needs a model calibrated on held-out labels",
                                  hint: "train with at least 20 labelled items, or give --auto-accept P instead")
            }
            // Walk thresholds from the most confident item down, keeping the lowest that still meets E.
            let sorted = confidences.sorted(by: >)
            var best: Decision = Decision(threshold: nil, estimatedError: nil)
            var sumError = 0.0
            var index = 0
            while index < sorted.count {
                let t = sorted[index]
                while index < sorted.count && sorted[index] >= t {
                    sumError += 1 - sorted[index]
                    index += 1
                }
                let expected = sumError / Double(index)
                let held = reliability.errors(atOrAbove: Float(t))
                let observed = Double(held.errors + 1) / Double(held.count + 1)
                let estimate = max(expected, observed)
                if estimate <= e { best = Decision(threshold: t, estimatedError: estimate) }
            }
            return best
        }
    }
}

extension RoundService.Routing {
    var json: JSONValue {
        switch self {
        case .threshold(let p): .object([("auto_accept", .double(p))])
        case .targetError(let e): .object([("target_error", .double(e))])
        }
    }
}
