import Glibc

/// `--blend auto`: weights that follow what each strategy's picks bought,
/// with random sampling as the bar, so that a lead is never worse off than
/// with uniform picks for long.
///
/// The rule, applied at each round start from the last closed round's gains
/// (a strategy's gain is the held-out log-likelihood its picks bought per
/// label, measured on the round's random picks; random's gain is measured
/// the same way on halves of its own picks):
/// - a strategy whose picks bought less than random's loses half its weight
///   to random (uncertainty sampling can stop paying: on noisy or saturated
///   data its picks are the ones least worth a label);
/// - a strategy whose picks bought more gets its weight × 1.25, taken from
///   random, while random stays at or above `randomFloor`;
/// - strategies without a measured gain keep their weight; random never
///   falls below `randomFloor`, so there is always a bar to measure.
public enum AdaptiveBlend {
    public static let randomFloor = 0.1
    public static let loss = 0.5
    public static let reward = 1.25

    /// The next round's blend.
    ///
    /// - Complexity: O(strategies).
    public static func update(_ blend: Blend, gains: [Strategy: Double]) -> Blend {
        var weights = blend.weights.map { (strategy: $0.strategy, weight: $0.weight) }
        if !weights.contains(where: { $0.strategy == .random }) { weights.append((.random, 0)) }
        let r = weights.firstIndex { $0.strategy == .random }!
        // Without random's gain there is no bar: only the floor applies (so that the next round measures one).
        for i in weights.indices where i != r {
            guard let bar = gains[.random] else { break }
            guard let gain = gains[weights[i].strategy] else { continue }
            if gain < bar {
                let moved = weights[i].weight * (1 - loss)
                weights[i].weight -= moved
                weights[r].weight += moved
            } else {
                let moved = min(weights[i].weight * (reward - 1), max(weights[r].weight - randomFloor, 0))
                weights[i].weight += moved
                weights[r].weight -= moved
            }
        }
        let total = weights.map(\.weight).reduce(0, +)
        weights = weights.map { ($0.strategy, $0.weight / total) }
        if weights[r].weight < randomFloor {
            let others = 1 - weights[r].weight
            let scale = others > 0 ? (1 - randomFloor) / others : 0
            weights = weights.map { $0.strategy == .random ? ($0.strategy, randomFloor) : ($0.strategy, $0.weight * scale) }
        }
        return Blend(unchecked: weights.map { ($0.strategy, $0.weight) })
    }

    /// The rule's verdict in words, for `report`: which strategies paid less
    /// than random (their weight moves to random under `--blend auto`); nil
    /// when there is no random bar.
    public static func note(gains: [Strategy: Double]) -> String? {
        guard let bar = gains[.random] else { return nil }
        let fmt = { (x: Double) in String(format: "%.4f", x) }
        let behind = gains.filter { $0.key != .random && $0.value < bar }.sorted { $0.key.rawValue < $1.key.rawValue }
        let ahead = gains.filter { $0.key != .random && $0.value >= bar }.sorted { $0.key.rawValue < $1.key.rawValue }
        var parts: [String] = []
        if !behind.isEmpty {
            parts.append(behind.map { "\($0.key.rawValue) picks bought less than random picks (\(fmt($0.value)) vs \(fmt(bar)) log-likelihood per label)" }
                .joined(separator: "; ") + ": under --blend auto their weight moves to random")
        }
        if !ahead.isEmpty {
            parts.append(ahead.map { "\($0.key.rawValue) picks paid (\(fmt($0.value)) vs random \(fmt(bar)))" }.joined(separator: "; "))
        }
        return parts.isEmpty ? nil : parts.joined(separator: ". ")
    }
}
