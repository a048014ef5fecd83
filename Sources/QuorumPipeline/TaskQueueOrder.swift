import Foundation
import QuorumCore
import QuorumNumerics

/// What decides a round's queue order and display: each task's uncertainty,
/// deadline and blind flag, set once when the round starts.
enum TaskQueueOrder {
    /// Fills `uncertainty`, `deadline` and `blind` on every pick.
    ///
    /// - Uncertainty is 1 − the live model's confidence (0 before the first model).
    ///   Gold tasks take the uncertainty of a randomly chosen other pick, so
    ///   their place in the queue does not give them away.
    /// - The deadline comes from metadata field `deadlineField`, when given,
    ///   and from `sla` (seconds after `now`, the round's start): the earlier of the two.
    /// - A seeded share `blindRate` of the tasks is blind (largest remainder, exact count).
    ///
    /// - Complexity: O(picks).
    static func assign(_ picks: inout [TaskPick], predictions: [Int64: Prediction], items: [StoredItem],
                       options: RoundService.StartOptions, now: Double) throws {
        var rng = SeededGenerator(seed: options.seed ^ 0x0B11_D000)
        for i in picks.indices where picks[i].strategy != .gold {
            picks[i].uncertainty = predictions[picks[i].itemKey].map { 1 - Double($0.confidence) } ?? 0
        }
        let real = picks.filter { $0.strategy != .gold }.map(\.uncertainty)
        for i in picks.indices where picks[i].strategy == .gold {
            picks[i].uncertainty = real.isEmpty ? 0 : real[Int(rng.next() % UInt64(real.count))]
        }
        if let field = options.deadlineField {
            let byKey = Dictionary(items.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
            for i in picks.indices {
                guard let item = byKey[picks[i].itemKey],
                      let value = SamplingInput.metaValue(item.metaJSON, field) else { continue }
                guard let due = parseDeadline(value) else {
                    throw QuorumError(.badInput, "item \"\(item.id)\": metadata field \(field): \"\(value)\" is not a date",
                                      hint: "write deadlines as ISO 8601, e.g. 2026-12-01 or 2026-12-01T17:00:00Z")
                }
                picks[i].deadline = due
            }
        }
        if let sla = options.sla {
            for i in picks.indices { picks[i].deadline = min(picks[i].deadline ?? .infinity, now + sla) }
        }
        let blind = Int((Double(picks.count) * options.blindRate).rounded())
        if blind > 0 {
            var order = Array(picks.indices)
            for i in stride(from: order.count - 1, to: 0, by: -1) {
                order.swapAt(i, Int(rng.next() % UInt64(i + 1)))
            }
            for i in order.prefix(blind) { picks[i].blind = true }
        }
    }

    /// An ISO 8601 date (midnight UTC) or date-time, as seconds since 1970.
    static func parseDeadline(_ text: String) -> Double? {
        let full = ISO8601DateFormatter()
        if let d = full.date(from: text) { return d.timeIntervalSince1970 }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = fractional.date(from: text) { return d.timeIntervalSince1970 }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        return day.date(from: text)?.timeIntervalSince1970
    }
}
