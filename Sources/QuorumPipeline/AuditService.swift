import QuorumCore
import QuorumStore

/// `quorum audit verify | log`: the tamper-evident event log.
public enum AuditService {
    /// Verifies the whole hash chain; throws a failed check naming the first broken event.
    public static func verify(store: any ProjectStore) throws -> Int {
        let events = try store.read { try $0.events(itemID: nil) }
        if let broken = EventChain.verify(events) {
            let what: String
            switch broken {
            case .edited(let seq, let kind):
                what = "event \(seq) (\(kind)) was edited: its fields no longer match its hash"
            case .unlinked(let seq, _):
                what = "event \(seq) does not follow the event before it: events were deleted, inserted or reordered"
            case .gap(let after, let next):
                what = "events \(after + 1)…\(next - 1) are missing: they were deleted"
            }
            throw QuorumError(.failedCheck, "the audit log fails verification: \(what)",
                              hint: "the project database was modified outside Quorum; restore it from a backup")
        }
        return events.count
    }

    /// The log, or one item's history.
    public static func log(store: any ProjectStore, itemID: String?) throws -> [StoredEvent] {
        try store.read { try $0.events(itemID: itemID) }
    }
}

extension StoredEvent {
    public var json: JSONValue {
        .object([("seq", .int(Int(seq))), ("at", .string(at)), ("kind", .string(event.kind)), ("item", .text(event.itemID)),
                 ("annotator", .text(event.annotator)), ("model_version", .text(event.modelVersion)),
                 ("confidence", .number(event.confidence)), ("detail", .raw(event.detailJSON)), ("hash", .string(hash))])
    }
}
