import Glibc

/// `--blend auto`: weights that follow what each strategy's picks bought,
/// with random sampling as the bar, so that a lead is never worse off than
/// with uniform picks for long.
///
/// The rule, applied at each round start from the last closed round's gains
/// (a strategy's gain is the held-out accuracy its picks bought per label,
/// measured on the round's random picks at as many labels as random's
/// halves; random's gain is measured the same way on halves of its own picks):
/// - a strategy whose picks bought less than random's, by more than the
///   noise of the two estimates (`z` standard errors of their difference),
///   loses half its weight to random (uncertainty sampling can stop paying:
///   on noisy or saturated data its picks are the ones least worth a label);
/// - a strategy whose picks bought more, by more than the noise, gets its
///   weight × 1.25, taken from random, while random stays at or above `randomFloor`;
/// - within the noise, nothing moves: a round of 6 random picks cannot tell
///   two strategies apart, and moving on its word alone sent weight to random
///   on data where uncertainty paid (satellite: 99% of full-pool accuracy at
///   660 labels under auto, 340 with the fixed blend);
/// - strategies without a measured gain keep their weight; random never
///   falls below `randomFloor`, so there is always a bar to measure.
public enum AdaptiveBlend {
    public static let randomFloor = 0.1
    public static let loss = 0.5
    public static let reward = 1.25
    /// How many standard errors of the difference a gain must clear random's by, either way, to move weight.
    public static let z = 1.0

    /// Whether `strategy`'s gain is below random's (-1), above it (+1), or
    /// within the noise (0); nil without both gains.
    static func verdict(_ strategy: Strategy, gains: [Strategy: Double], errors: [Strategy: Double]) -> Int? {
        guard let bar = gains[.random], let gain = gains[strategy] else { return nil }
        let se = errors[strategy] ?? 0, barSE = errors[.random] ?? 0
        let noise = z * (se * se + barSE * barSE).squareRoot()
        return gain < bar - noise ? -1 : gain > bar + noise ? 1 : 0
    }

    /// The next round's blend. `errors` are the gains' standard errors
    /// (without them, any difference counts, as if they were 0).
    ///
    /// - Complexity: O(strategies).
    public static func update(_ blend: Blend, gains: [Strategy: Double], errors: [Strategy: Double] = [:]) -> Blend {
        var weights = blend.weights.map { (strategy: $0.strategy, weight: $0.weight) }
        if !weights.contains(where: { $0.strategy == .random }) { weights.append((.random, 0)) }
        let r = weights.firstIndex { $0.strategy == .random }!
        // Without random's gain there is no bar: only the floor applies (so that the next round measures one).
        for i in weights.indices where i != r {
            guard gains[.random] != nil else { break }
            guard let verdict = verdict(weights[i].strategy, gains: gains, errors: errors), verdict != 0 else { continue }
            if verdict < 0 {
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
    public static func note(gains: [Strategy: Double], errors: [Strategy: Double] = [:]) -> String? {
        guard let bar = gains[.random] else { return nil }
        let fmt = { (x: Double) in String(format: "%.4f", x) }
        let others = gains.filter { $0.key != .random }.sorted { $0.key.rawValue < $1.key.rawValue }
        let behind = others.filter { verdict($0.key, gains: gains, errors: errors) == -1 }
        let ahead = others.filter { verdict($0.key, gains: gains, errors: errors) == 1 }
        let even = others.filter { verdict($0.key, gains: gains, errors: errors) == 0 }
        var parts: [String] = []
        if !behind.isEmpty {
            parts.append(behind.map { "\($0.key.rawValue) picks bought less than random picks (\(fmt($0.value)) vs \(fmt(bar)) accuracy per label)" }
                .joined(separator: "; ") + ": under --blend auto their weight moves to random")
        }
        if !ahead.isEmpty {
            parts.append(ahead.map { "\($0.key.rawValue) picks paid (\(fmt($0.value)) vs random \(fmt(bar)))" }.joined(separator: "; "))
        }
        if !even.isEmpty {
            parts.append(even.map { "\($0.key.rawValue) picks were within the noise of random's (\(fmt($0.value)) vs \(fmt(bar)))" }
                .joined(separator: "; ") + ": weights stay")
        }
        return parts.isEmpty ? nil : parts.joined(separator: ". ")
    }
}
