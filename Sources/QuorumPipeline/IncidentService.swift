import Foundation
import QuorumCore
import QuorumStore

/// The top escalation tier: annotator → adjudicator → lead. An adjudicator
/// who cannot settle a dispute escalates it with a reason; it leaves the
/// adjudicators' queue and waits in the lead's (`quorum incidents list`)
/// until the lead rules on it (`quorum incidents resolve`). Every step is an
/// event in the audit log (`escalation`, then `adjudication` and
/// `incident.resolve`; or `escalation.withdraw` when the adjudicator undoes
/// it), which is also where open incidents are read from.
public enum IncidentService {
    public struct Incident: Sendable, Equatable {
        public var itemID: String
        public var escalatedBy: String
        public var reason: String
        public var at: String
        /// Everyone's answers so far: (annotator, label or nil for a skip or flag).
        public var answers: [(annotator: String, label: String?)]

        public static func == (a: Incident, b: Incident) -> Bool { a.json == b.json }

        public var json: JSONValue {
            .object([("id", .string(itemID)), ("escalated_by", .string(escalatedBy)), ("reason", .string(reason)),
                     ("at", .string(at)),
                     ("answers", .array(answers.map { .object([("annotator", .string($0.annotator)), ("label", .text($0.label))]) }))])
        }
    }

    /// The incidents not resolved yet, oldest first.
    /// - Complexity: O(events).
    public static func open(_ r: any StoreReader) throws -> [Incident] {
        var open: [String: Incident] = [:]
        var order: [String] = [], seen = Set<String>()
        for stored in try r.events(kinds: ["escalation", "incident.resolve", "escalation.withdraw"]) {
            let e = stored.event
            guard let item = e.itemID else { continue }
            switch e.kind {
            case "escalation":
                let detail = try StoredJSON.object(e.detailJSON, "event \(stored.seq)")
                if seen.insert(item).inserted { order.append(item) }
                open[item] = Incident(itemID: item, escalatedBy: e.annotator ?? "", reason: detail["reason"] as? String ?? "",
                                      at: stored.at, answers: [])
            case "incident.resolve", "escalation.withdraw":
                open[item] = nil
            default:
                break
            }
        }
        let pending = order.filter { open[$0] != nil }
        guard !pending.isEmpty else { return [] }
        return try pending.map { id in
            var incident = open[id]!
            if let key = try r.itemKey(id: id) {
                incident.answers = try r.answers(itemKey: key).map { ($0.annotator, $0.label) }
            }
            return incident
        }
    }

    /// Sends a disputed item on to the lead.
    static func escalate(_ w: any StoreWriter, item: StoredItem, by adjudicator: String, reason: String) throws {
        try w.appendEvent(EventRecord(kind: "escalation", itemID: item.id, annotator: adjudicator,
                                      detailJSON: JSONValue.object([("reason", .string(reason))]).serialized()))
    }

    /// `quorum incidents resolve`: the lead rules on an escalated item. The
    /// ruling outranks every vote, as an adjudicator's does.
    public static func resolve(store: any ProjectStore, lead: String, itemID: String, label: String, note: String?) throws {
        try store.write { w in
            try validateAnnotatorName(lead)
            guard try w.annotators().first(where: { $0.name == lead })?.role == AnnotatorService.Role.lead.rawValue else {
                throw QuorumError(.badInput, "\(lead) may not resolve incidents: that takes the lead role",
                                  hint: "register them with `quorum annotators add \(lead) --role lead`")
            }
            guard try open(w).contains(where: { $0.itemID == itemID }) else {
                throw QuorumError(.badInput, "item \"\(TerminalText.visible(itemID))\" has no open incident",
                                  hint: "see `quorum incidents list`")
            }
            guard try w.project().labels.index(of: label) != nil else {
                throw QuorumError(.badInput, "\"\(TerminalText.visible(label))\" is not one of the project's labels",
                                  hint: "use one of: \(try w.project().labels.names.joined(separator: ", "))")
            }
            guard let key = try w.itemKey(id: itemID), let item = try w.items(keys: [key]).first else {
                throw QuorumError(.badInput, "there is no item \"\(TerminalText.visible(itemID))\"")
            }
            try AdjudicationService.rule(w, item: item, label: label, adjudicator: lead)
            try w.appendEvent(EventRecord(kind: "incident.resolve", itemID: itemID, annotator: lead,
                                          detailJSON: JSONValue.object([("label", .string(label)), ("note", .text(note))]).serialized()))
            _ = try ConsensusService.aggregate(w)
        }
    }
}
