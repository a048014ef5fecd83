import Foundation
import QuorumCore
import QuorumReporting
import QuorumStore

/// `quorum report`: the per-round metrics recorded at each close.
public enum ReportService {
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
