import QuorumConsensus
import QuorumCore
import QuorumReporting
import QuorumStore

/// When more labelling stops paying: recorded with every closed round.
///
/// - Prediction stability: Cohen's κ between the previous and the new
///   model's predicted labels on the still-unlabelled pool. Stop when it is
///   at least 0.99 for 3 rounds in a row (this one and the two before).
/// - Overall uncertainty: the mean least-confidence over that pool. Stop when
///   it falls below 0.02.
enum StoppingSignal {
    static let kappaThreshold = 0.99
    static let stableRounds = 3
    static let uncertaintyBound = 0.02

    struct Signal {
        var stability: Double?
        var meanUncertainty: Double?
        var stop: Bool
        var reason: String?
    }

    /// - Parameter history: metrics of the rounds closed before this one, oldest first.
    static func measure(_ w: any StoreWriter, previous: String?, current: String, history: [RoundMetrics]) throws -> Signal {
        let consensus = try w.consensus()
        let auto = try w.autoLabels()
        let unlabelled = Set(try w.items(kinds: [.pool]).filter { consensus[$0.key]?.label == nil && auto[$0.key] == nil }.map(\.key))
        let now = try w.predictions(model: current).filter { unlabelled.contains($0.key) }
        var stability: Double?
        if let previous {
            let before = try w.predictions(model: previous)
            var a: [Int] = [], b: [Int] = []
            for (key, p) in now {
                guard let q = before[key] else { continue }
                a.append(q.label)
                b.append(p.label)
            }
            let classes = (a + b).max().map { $0 + 1 } ?? 0
            if !a.isEmpty { stability = Agreement.cohenKappa(a, b, classes: classes) }
        }
        let meanUncertainty = now.isEmpty ? nil : now.values.map { 1 - Double($0.confidence) }.reduce(0, +) / Double(now.count)
        let recent = history.suffix(stableRounds - 1).map(\.predictionStability) + [stability]
        if recent.count == stableRounds, recent.allSatisfy({ ($0 ?? 0) >= kappaThreshold }) {
            return Signal(stability: stability, meanUncertainty: meanUncertainty, stop: true,
                          reason: "predictions stable: κ ≥ \(kappaThreshold) for \(stableRounds) rounds")
        }
        if let u = meanUncertainty, u < uncertaintyBound {
            return Signal(stability: stability, meanUncertainty: meanUncertainty, stop: true,
                          reason: "mean uncertainty \(JSONValue.format((u * 1e4).rounded() / 1e4)) below \(uncertaintyBound)")
        }
        return Signal(stability: stability, meanUncertainty: meanUncertainty, stop: false, reason: nil)
    }
}
