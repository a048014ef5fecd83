import Foundation
import QuorumCore
import QuorumReporting
import QuorumStore

/// `quorum report`: the per-round metrics recorded at each close.
public enum ReportService {
    /// The live model set against the shadow model.
    public struct ShadowComparison: Sendable, Equatable {
        public var live: String
        public var shadow: String
        /// Items both models scored.
        public var compared: Int
        /// Share of those on which they predict the same label.
        public var agreement: Double?
        public var liveTestAccuracy: Double?
        public var shadowTestAccuracy: Double?
        /// Items where the predicted labels differ, sorted by id.
        public var differing: [String]

        public var json: JSONValue {
            .object([("live", .string(live)), ("shadow", .string(shadow)), ("compared", .int(compared)),
                     ("agreement", .number(agreement)), ("live_test_accuracy", .number(liveTestAccuracy)),
                     ("shadow_test_accuracy", .number(shadowTestAccuracy)), ("differing", .int(differing.count)),
                     ("differing_examples", .array(differing.prefix(20).map { .string($0) }))])
        }
    }

    /// Compares the shadow model with the live one, when both exist.
    public static func shadowComparison(store: any ProjectStore) throws -> ShadowComparison? {
        try store.read { r in
            guard let live = try r.liveModel(), let shadow = try r.shadowModel() else { return nil }
            let a = try r.predictions(model: live.id), b = try r.predictions(model: shadow.id)
            var ids: [Int64: String] = [:]
            for item in try r.items(kinds: [.pool, .gold]) { ids[item.key] = item.id }
            var compared = 0, same = 0
            var differing: [String] = []
            for (key, p) in a {
                guard let q = b[key], let id = ids[key] else { continue }
                compared += 1
                if p.label == q.label { same += 1 } else { differing.append(id) }
            }
            func accuracy(_ m: ModelVersion) -> Double? {
                (try? JSONSerialization.jsonObject(with: Data(m.metricsJSON.utf8)) as? [String: Any])?["test_accuracy"] as? Double
            }
            return ShadowComparison(live: live.id, shadow: shadow.id, compared: compared,
                                    agreement: compared == 0 ? nil : Double(same) / Double(compared),
                                    liveTestAccuracy: accuracy(live), shadowTestAccuracy: accuracy(shadow),
                                    differing: differing.sorted())
        }
    }

    /// Agreement over every answer of every round, open or closed (tasks are
    /// the units): the overall figures and Cohen's κ per annotator pair.
    ///
    /// - Complexity: O(answers log answers + pairs × labels²).
    public static func agreement(store: any ProjectStore) throws -> AgreementFigures {
        try store.read { r in RoundService.agreement(try r.answers(round: nil), project: try r.project()) }
    }

    public static func rounds(store: any ProjectStore) throws -> [RoundMetrics] {
        try store.read { r in
            try r.rounds().compactMap { round in
                guard let json = round.metricsJSON else { return nil }
                return try RoundMetrics.decode(json)
            }
        }
    }
}

extension RoundMetrics {
    /// The storage form (Codable JSON) of the metrics.
    func encodedJSON() throws -> String {
        String(decoding: try JSONEncoder().encode(self), as: UTF8.self)
    }

    static func decode(_ json: String) throws -> RoundMetrics {
        try JSONDecoder().decode(RoundMetrics.self, from: Data(json.utf8))
    }
}
