import Foundation
/// A sampling strategy, as a blend names it.
public enum Strategy: String, Sendable, CaseIterable {
    /// The items the model is least sure of (see `UncertaintyMeasure`).
    case uncertainty
    /// Quotas over strata (a metadata field, or the predicted class).
    case stratified
    /// Aimed at known failure modes: items close to ones where people
    /// overrode a confident model, then items closest to the decision boundary.
    case adversarial
    /// Uniform: keeps estimates unbiased.
    case random

    /// Values keyed by strategy name, keyed by strategy (unknown names are dropped).
    public static func keyed(_ values: [String: Double]) -> [Strategy: Double] {
        values.reduce(into: [:]) { out, entry in if let s = Strategy(rawValue: entry.key) { out[s] = entry.value } }
    }
}

/// How uncertainty is scored: over the ensemble mean, or, with a committee,
/// over its disagreement. Every score is "higher = more worth a label".
public enum UncertaintyMeasure: String, Sendable, CaseIterable {
    /// 1 − max p̄.
    case leastConfident = "least-confident"
    /// 1 − (p̄₁ − p̄₂).
    case margin
    /// H(p̄).
    case entropy
    /// Entropy of the members' votes.
    case voteEntropy = "vote-entropy"
    /// Mean KL divergence of the members from the mean.
    case kl
    /// BALD mutual information.
    case bald
}

/// Weights over strategies, e.g. `uncertainty=0.7,stratified=0.15,random=0.15`.
public struct Blend: Sendable, Equatable {
    public private(set) var weights: [(strategy: Strategy, weight: Double)]

    public static func == (a: Blend, b: Blend) -> Bool {
        a.weights.map(\.strategy) == b.weights.map(\.strategy) && a.weights.map(\.weight) == b.weights.map(\.weight)
    }

    /// The documented default: mostly uncertainty, with stratified picks so
    /// small strata are seen and uniform picks to keep estimates unbiased.
    public static let standard = Blend(unchecked: [(.uncertainty, 0.7), (.stratified, 0.15), (.random, 0.15)])

    /// Uniform sampling alone: the baseline every blend is measured against.
    public static let uniform = Blend(unchecked: [(.random, 1)])

    init(unchecked weights: [(Strategy, Double)]) {
        self.weights = weights.map { (strategy: $0.0, weight: $0.1) }
    }

    /// Why a blend spec was refused.
    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    /// Parses `name=weight,…`. Weights must be non-negative and sum to more
    /// than 0; they are normalised to sum to 1. Each strategy may appear once.
    public init(parsing spec: String) throws(ParseError) {
        var weights: [(Strategy, Double)] = []
        for part in spec.split(separator: ",", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: "=", maxSplits: 1).map { String($0).trimmingCharacters(in: .whitespaces) }
            guard pieces.count == 2, let weight = Double(pieces[1]), weight.isFinite, weight >= 0 else {
                throw ParseError(description: "\"\(part)\" is not name=weight (e.g. uncertainty=0.7)")
            }
            guard let strategy = Strategy(rawValue: pieces[0]) else {
                throw ParseError(description: "unknown strategy \"\(pieces[0])\"; available: \(Strategy.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard !weights.contains(where: { $0.0 == strategy }) else {
                throw ParseError(description: "\(strategy.rawValue) appears twice")
            }
            weights.append((strategy, weight))
        }
        let total = weights.map(\.1).reduce(0, +)
        guard total > 0 else { throw ParseError(description: "the weights must sum to more than 0") }
        self.init(unchecked: weights.map { ($0.0, $0.1 / total) })
    }

    /// Splits `count` picks over the strategies by largest remainder, so the
    /// counts add up exactly; ties go to the strategy listed first.
    public func allocate(_ count: Int) -> [(strategy: Strategy, count: Int)] {
        let exact = weights.map { $0.weight * Double(count) }
        var counts = exact.map { Int($0) }
        var left = count - counts.reduce(0, +)
        let order = exact.indices.sorted { (exact[$0] - Double(counts[$0])) > (exact[$1] - Double(counts[$1])) }
        for i in order where left > 0 { counts[i] += 1; left -= 1 }
        return zip(weights, counts).map { (strategy: $0.strategy, count: $1) }
    }

    /// `uncertainty=0.7,stratified=0.15,random=0.15`.
    public var spec: String {
        weights.map { "\($0.strategy.rawValue)=\(($0.weight * 1000).rounded() / 1000)" }.joined(separator: ",")
    }
}
