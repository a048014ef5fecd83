import Foundation
import QuorumCore
import QuorumStore

/// `quorum audit verify | log`: the tamper-evident event log.
public enum AuditService {
    /// Verifies the whole hash chain, every snapshot's anchor in it, and the
    /// answers and rulings against the events that recorded them; throws a
    /// failed check naming the first problem.
    ///
    /// - Complexity: O(events + answers).
    public static func verify(store: any ProjectStore) throws -> Int {
        let (events, snapshots, answers, rulings, ids) = try store.read { r in
            (try r.events(itemID: nil), try r.snapshots(), try r.answers(round: nil), try r.adjudications(),
             Dictionary(uniqueKeysWithValues: try r.items(kinds: ItemKind.allCases).map { ($0.key, $0.id) }))
        }
        try verifyChain(events)
        try verifyAnchors(events, snapshots)
        try verifyAnswers(events, answers)
        try verifyRulings(events, rulings, ids)
        return events.count
    }

    static func tampered(_ what: String) -> QuorumError {
        QuorumError(.failedCheck, "the audit log fails verification: \(what)",
                    hint: "the project database was modified outside Quorum; restore it from a backup")
    }

    static func verifyChain(_ events: [StoredEvent]) throws {
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
            throw tampered(what)
        }
    }

    /// Every snapshot recorded the log's head when it was made: that event
    /// must still be there, with that hash. Catches a deleted or rewritten tail.
    static func verifyAnchors(_ events: [StoredEvent], _ snapshots: [SnapshotInfo]) throws {
        let hashBySeq = Dictionary(uniqueKeysWithValues: events.map { ($0.seq, $0.hash) })
        let last = events.last?.seq ?? 0
        for s in snapshots {
            guard let seq = s.auditSeq, let hash = s.auditHash else { continue }
            guard let found = hashBySeq[seq] else {
                throw tampered("snapshot \(s.name) anchored the log at event \(seq), but the log ends at event \(last): events were deleted")
            }
            guard found == hash else {
                throw tampered("event \(seq) is not the one snapshot \(s.name) anchored (hash \(found.prefix(12))…, anchored \(hash.prefix(12))…): the log was rewritten")
            }
        }
    }

    /// Replays the answer, skip, flag and undo events per (item, annotator)
    /// and compares the result with the answers table, in order.
    static func verifyAnswers(_ events: [StoredEvent], _ answers: [AnswerRecord]) throws {
        struct Key: Hashable { var item: String; var annotator: String }
        struct Recorded: Equatable { var label: String?; var flagged: Bool }
        var logged: [Key: [Recorded]] = [:]
        for e in events {
            guard let item = e.event.itemID, let annotator = e.event.annotator else { continue }
            let key = Key(item: item, annotator: annotator)
            switch e.event.kind {
            case "answer": logged[key, default: []].append(Recorded(label: try label(e.event.detailJSON), flagged: false))
            case "skip": logged[key, default: []].append(Recorded(label: nil, flagged: false))
            case "flag": logged[key, default: []].append(Recorded(label: try label(e.event.detailJSON), flagged: true))
            case "undo": _ = logged[key]?.popLast()
            default: continue
            }
        }
        var stored: [Key: [Recorded]] = [:]
        for a in answers.sorted(by: { $0.answerID < $1.answerID }) {
            stored[Key(item: a.itemID, annotator: a.annotator), default: []].append(Recorded(label: a.label, flagged: a.flagged))
        }
        func describe(_ r: [Recorded]?) -> String {
            guard let r, !r.isEmpty else { return "nothing" }
            return r.map { $0.flagged ? "a flag" : ($0.label.map { "\"\(TerminalText.visible($0))\"" } ?? "a skip") }.joined(separator: ", ")
        }
        for key in Set(stored.keys).union(logged.keys).sorted(by: { ($0.item, $0.annotator) < ($1.item, $1.annotator) })
        where (stored[key] ?? []) != (logged[key] ?? []) {
            throw tampered("the answers of \(TerminalText.visible(key.annotator)) to item \"\(TerminalText.visible(key.item))\" are \(describe(stored[key])) but the log recorded \(describe(logged[key])): the answers table was edited")
        }
    }

    /// Replays adjudication events per item and compares them with the rulings.
    static func verifyRulings(_ events: [StoredEvent], _ rulings: [Int64: (label: String, adjudicator: String)],
                              _ ids: [Int64: String]) throws {
        var logged: [String: String] = [:]
        for e in events {
            guard let item = e.event.itemID else { continue }
            if e.event.kind == "adjudication" { logged[item] = try label(e.event.detailJSON) }
            if e.event.kind == "adjudication.undo" { logged[item] = nil }
        }
        var stored: [String: String] = [:]
        for (key, ruling) in rulings { if let id = ids[key] { stored[id] = ruling.label } }
        for id in Set(stored.keys).union(logged.keys).sorted() where stored[id] != logged[id] {
            throw tampered("the ruling on item \"\(TerminalText.visible(id))\" is \(stored[id].map { "\"\(TerminalText.visible($0))\"" } ?? "missing") but the log recorded \(logged[id].map { "\"\(TerminalText.visible($0))\"" } ?? "none"): the rulings table was edited")
        }
    }

    /// The "label" field of an event's detail JSON.
    static func label(_ detail: String) throws -> String? {
        try StoredJSON.object(detail, "detail of an event")["label"] as? String
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
