import Foundation
import QuorumCore
import QuorumModels
import QuorumNumerics
import QuorumReporting
import QuorumStore

/// Drift: has the pool moved away from what the live model learned from?
///
/// The population stability index (PSI) of the live model's predicted-class
/// distribution on the pool items imported since it scored the pool, against
/// its predicted classes on the pool it scored (items it never learned from,
/// as the new ones). Only when it scored no pool item is the reference its
/// predictions on the labelled items (seed and consensus labels); there the
/// model fits its own training labels better than new items, which biases
/// the comparison towards an alarm (on digits, 2 false alarms in 20 pools).
/// The alarm is sample-size aware: a PSI is flagged only when it exceeds
/// what random splits of the reference into the same sizes give 99 times
/// in 100 (200 splits, seeded), and is at least 0.1; a fixed 0.25 line
/// alone alarms on any small sample (evidently#509).
public enum DriftService {
    public typealias Comparison = DriftComparison
    public typealias ClassShift = DriftClassShift

    /// One bin's term of the PSI, with an empty share taken as 1e-4.
    static func term(reference r: Int, current c: Int, referenceTotal: Double, currentTotal: Double) -> Double {
        let p = max(Double(r) / referenceTotal, 1e-4), q = max(Double(c) / currentTotal, 1e-4)
        return (q - p) * log(q / p)
    }

    /// PSI = Σ (c − r) ln(c / r) over the bins' shares, with empty bins given 1e-4.
    /// - Complexity: O(bins).
    public static func psi(reference: [Int], current: [Int]) -> Double {
        let rTotal = Double(reference.reduce(0, +)), cTotal = Double(current.reduce(0, +))
        guard rTotal > 0, cTotal > 0 else { return 0 }
        var sum = 0.0
        for (r, c) in zip(reference, current) { sum += term(reference: r, current: c, referenceTotal: rTotal, currentTotal: cTotal) }
        return sum
    }

    /// The 99th percentile of the PSI between random splits of `labels` (one
    /// part of `size` items, the other the rest), over `splits` seeded splits.
    static func nullThreshold(_ labels: [Int], size: Int, bins: Int, splits: Int = 200, seed: UInt64) -> Double {
        guard labels.count >= 2 else { return .infinity }
        let size = min(size, labels.count / 2)
        var rng = SeededGenerator(seed: seed ^ 0xD21F7)
        var order = labels
        var values: [Double] = []
        values.reserveCapacity(splits)
        var a = [Int](repeating: 0, count: bins), b = [Int](repeating: 0, count: bins)
        for _ in 0..<splits {
            order.shuffle(using: &rng)
            for i in 0..<bins { a[i] = 0; b[i] = 0 }
            for (i, y) in order.enumerated() { if i < size { a[y] += 1 } else { b[y] += 1 } }
            values.append(psi(reference: b, current: a))
        }
        return percentile(values, 99) ?? .infinity
    }

    /// The comparison now, or nil when there is nothing to compare (no
    /// Quorum model, no labelled items, or no pool item imported since the
    /// model scored the pool).
    /// - Complexity: scoring the labelled and the new pool items, plus 200 × labelled for the threshold.
    public static func measure(_ r: any StoreReader, seed: UInt64 = 1) throws -> Comparison? {
        guard let model = try r.liveModel(), let classifier = Classifier(encoded: model.state) else { return nil }
        let scored = try r.predictions(model: model.id)
        let consensus = try r.consensus()
        let pool = try r.items(kinds: [.pool])
        let current = pool.filter { scored[$0.key] == nil }
        guard !current.isEmpty else { return nil }
        func predicted(_ items: [StoredItem]) -> [Int] {
            let p = classifier.probabilities(texts: items.map(\.text), vectors: items.map(\.vector))
            return (0..<items.count).map { i in (0..<p.cols).max { p[i, $0] < p[i, $1] } ?? 0 }
        }
        let scoredPool = pool.compactMap { item in
            scored[item.key].map { p in p.probabilities.indices.max { p.probabilities[$0] < p.probabilities[$1] } ?? 0 }
        }
        let referenceClasses = scoredPool.count >= 2 ? scoredPool
            : predicted(try r.items(kinds: [.seed]) + pool.filter { consensus[$0.key]?.label != nil })
        guard referenceClasses.count >= 2 else { return nil }
        let names = try r.project().labels.names
        let classes = names.count
        let currentClasses = predicted(current)
        var r = [Int](repeating: 0, count: classes), c = [Int](repeating: 0, count: classes)
        for y in referenceClasses { r[y] += 1 }
        for y in currentClasses { c[y] += 1 }
        let value = psi(reference: r, current: c)
        let threshold = max(0.1, nullThreshold(referenceClasses, size: current.count, bins: classes, seed: seed))
        let shifts = (0..<classes).map { j in
            ClassShift(label: names[j], reference: r[j], current: c[j],
                       psi: term(reference: r[j], current: c[j], referenceTotal: Double(referenceClasses.count),
                                 currentTotal: Double(currentClasses.count)))
        }
        return Comparison(psi: value, referenceItems: referenceClasses.count, currentItems: current.count,
                          threshold: threshold, alarm: value > threshold, model: model.id, classes: shifts)
    }

    /// Measures and records the comparison as a `drift` event (after an
    /// import of pool items, and at round close); returns it.
    @discardableResult
    public static func record(store: any ProjectStore) throws -> Comparison? {
        guard let comparison = try store.read({ try measure($0) }) else { return nil }
        try store.write { w in
            try w.appendEvent(EventRecord(kind: "drift", modelVersion: comparison.model, detailJSON: comparison.json.serialized()))
        }
        return comparison
    }

    /// The latest recorded comparison (`quorum drift` without new items to compare).
    public static func latest(_ r: any StoreReader) throws -> Comparison? {
        guard let event = try r.events(kinds: ["drift"]).last else { return nil }
        let fields = try StoredJSON.object(event.event.detailJSON, "drift event \(event.seq)")
        return Comparison(psi: fields["psi"] as? Double ?? 0, referenceItems: fields["reference_items"] as? Int ?? 0,
                          currentItems: fields["current_items"] as? Int ?? 0, threshold: fields["threshold"] as? Double ?? 0,
                          alarm: fields["alarm"] as? Bool ?? false, model: fields["model"] as? String ?? "-",
                          classes: (fields["classes"] as? [[String: Any]] ?? []).compactMap(ClassShift.init), at: event.at)
    }
}
