import Foundation
import QuorumCore
import Testing

// The store's rules (queue, events, snapshots, staging, schema) are checked on
// every backend by QuorumStoreConformanceTests; what is left here needs no store.

@Suite struct TimestampTests {
    /// The hand-written formatter agrees with Foundation's ISO 8601 parser and the clock.
    @Test func isISO8601WithMillisecondsInUTC() throws {
        let text = Timestamp.now()
        let parser = ISO8601DateFormatter()
        parser.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let date = try #require(parser.date(from: text), "\(text) does not parse")
        #expect(abs(date.timeIntervalSinceNow) < 2)
        #expect(text.count == 24 && text.hasSuffix("Z") && text.dropFirst(19).first == ".")
    }
}
