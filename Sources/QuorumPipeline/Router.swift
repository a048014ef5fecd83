import Glibc
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
    /// - the one-sided 95% Clopper–Pearson upper bound on the error observed
    ///   among the held-out calibration labels at or above that confidence.
    /// The bound is what keeps a handful of held-out labels from certifying
    /// a low error: with no error among n of them, it is 1 − 0.05^(1/n), so
    /// E = 0.02 needs at least 149 held-out labels above the threshold.
    ///
    /// - Complexity: O(n log n + h log n) for n pool items and h held-out labels.
    static func decide(_ routing: RoundService.Routing, confidences: [Double], reliability: Reliability?) throws -> Decision {
        switch routing {
        case .threshold(let p):
            let accepted = confidences.filter { $0 >= p }
            return Decision(threshold: p, estimatedError: accepted.isEmpty ? nil : accepted.map { 1 - $0 }.reduce(0, +) / Double(accepted.count))
        case .targetError(let e):
            guard let reliability, !reliability.confidences.isEmpty else {
                throw QuorumError(.state, "--target-error needs a model calibrated on held-out labels, which takes 100 labelled items or more",
                                  hint: "label more items, or give --auto-accept P instead")
            }
            let pool = confidences.sorted(by: >)
            var prefix = [Double](repeating: 0, count: pool.count + 1)
            for (i, c) in pool.enumerated() { prefix[i + 1] = prefix[i] + (1 - c) }
            var best = Decision(threshold: nil, estimatedError: nil)
            var errors = 0
            let held = reliability.confidences.map(Double.init)
            var j = 0
            while j < held.count {
                let t = held[j]
                while j < held.count && held[j] >= t {  // every held-out label at this confidence
                    if !reliability.correct[j] { errors += 1 }
                    j += 1
                }
                let accepted = countAtOrAbove(t, in: pool)
                guard accepted > 0 else { continue }
                let estimate = max(prefix[accepted] / Double(accepted), clopperPearsonUpper(errors: errors, trials: j))
                if estimate <= e { best = Decision(threshold: t, estimatedError: estimate) }
            }
            return best
        }
    }

    /// How many values of `sorted` (descending) are ≥ t.
    static func countAtOrAbove(_ t: Double, in sorted: [Double]) -> Int {
        var lo = 0, hi = sorted.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if sorted[mid] >= t { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The one-sided upper confidence bound on a binomial rate (Clopper–Pearson):
    /// the p at which seeing `errors` or fewer in `trials` has probability `alpha`.
    static func clopperPearsonUpper(errors: Int, trials: Int, alpha: Double = 0.05) -> Double {
        guard trials > 0 else { return 1 }
        if errors >= trials { return 1 }
        func cdf(_ p: Double) -> Double {
            var total = 0.0
            for i in 0...errors {
                let logTerm = lgamma(Double(trials + 1)) - lgamma(Double(i + 1)) - lgamma(Double(trials - i + 1))
                    + Double(i) * log(p) + Double(trials - i) * log1p(-p)
                total += exp(logTerm)
            }
            return total
        }
        var lo = Double(errors) / Double(trials), hi = 1.0
        for _ in 0..<60 {
            let mid = (lo + hi) / 2
            if cdf(mid) > alpha { lo = mid } else { hi = mid }
        }
        return hi
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
