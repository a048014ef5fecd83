import Glibc

/// `--blend auto`: weights that move toward the strategies whose picks taught the model most.
///
/// The rule, applied at each round start from the last closed round:
/// - a strategy's gain is the share of its picks whose consensus label
///   differed from the prediction of the model that picked them (a pick the
///   model already got right teaches it little);
/// - each weight is multiplied by exp(2 · gain) and the weights renormalised
///   (an exponentiated-gradient step; strategies without picks keep their weight);
/// - random never falls below 0.1, so estimates stay unbiased and every
///   strategy keeps a chance to prove itself.
public enum AdaptiveBlend {
    public static let rate = 2.0
    public static let randomFloor = 0.1

    /// The next round's blend.
    ///
    /// - Complexity: O(strategies).
    public static func update(_ blend: Blend, gains: [Strategy: Double]) -> Blend {
        var weights = blend.weights.map { (strategy: $0.strategy, weight: $0.weight * exp(rate * (gains[$0.strategy] ?? 0))) }
        if !weights.contains(where: { $0.strategy == .random }) { weights.append((.random, 0)) }
        let total = weights.map(\.weight).reduce(0, +)
        weights = weights.map { ($0.strategy, $0.weight / total) }
        if let r = weights.firstIndex(where: { $0.strategy == .random }), weights[r].weight < randomFloor {
            let others = 1 - weights[r].weight
            let scale = others > 0 ? (1 - randomFloor) / others : 0
            weights = weights.map { $0.strategy == .random ? ($0.strategy, randomFloor) : ($0.strategy, $0.weight * scale) }
        }
        return Blend(unchecked: weights.map { ($0.strategy, $0.weight) })
    }
}
