import Foundation
import QuorumCore
import QuorumLabelling
import QuorumStore

/// `quorum redact add | list`: the project's own redaction patterns, applied
/// with the built-in rules (e-mail, phone, card) to everything annotators see.
public enum RedactionService {
    static let key = "redaction_patterns"

    /// The project's custom patterns, in the order they were added.
    public static func patterns(store: any ProjectStore) throws -> [String] {
        try store.read { r in try decode(r.setting(key)) }
    }

    static func decode(_ json: String?) throws -> [String] {
        guard let json else { return [] }
        guard let patterns = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String] else {
            throw QuorumError(.failedCheck, "the stored project setting \(key) is not a JSON list of patterns",
                              hint: "the project database was modified outside Quorum; restore it from a backup")
        }
        return patterns
    }

    /// The redactor annotators' screens go through. Stored patterns are checked
    /// again (one added before the check existed may freeze the screen).
    public static func redactor(store: any ProjectStore) throws -> Redactor {
        let patterns = try patterns(store: store)
        do {
            for p in patterns { try Redactor.check(pattern: p) }
            return try Redactor(patterns: patterns)
        } catch {
            throw QuorumError(.state, "project setting \(key): \(error.description)",
                              hint: "remove it with `quorum redact remove '\(error.pattern)'`, then add a fixed one: \(error.hint)")
        }
    }

    /// Adds a pattern after checking that it compiles, cannot freeze the screen
    /// (`Redactor.check(pattern:)`), and does not match the empty string.
    public static func add(store: any ProjectStore, pattern: String) throws -> [String] {
        do { try Redactor.check(pattern: pattern) } catch {
            throw QuorumError(.badInput, error.description, hint: error.hint)
        }
        return try update(store: store, event: "redaction.add", pattern: pattern) { all in
            if !all.contains(pattern) { all.append(pattern) }
        }
    }

    /// Removes a pattern; fails when it is not there.
    public static func remove(store: any ProjectStore, pattern: String) throws -> [String] {
        try update(store: store, event: "redaction.remove", pattern: pattern) { all in
            guard let i = all.firstIndex(of: pattern) else {
                throw QuorumError(.badInput, "no redaction pattern \"\(pattern)\"", hint: "see `quorum redact list`")
            }
            all.remove(at: i)
        }
    }

    /// Changes the stored patterns in one transaction, with an audit event; returns them.
    static func update(store: any ProjectStore, event: String, pattern: String,
                       _ change: (inout [String]) throws -> Void) throws -> [String] {
        try store.write { w in
            var all = try decode(w.setting(key))
            try change(&all)
            try w.setSetting(key, JSONValue.array(all.map { .string($0) }).serialized())
            try w.appendEvent(EventRecord(kind: event, detailJSON: JSONValue.object([("pattern", .string(pattern))]).serialized()))
            return all
        }
    }
}
