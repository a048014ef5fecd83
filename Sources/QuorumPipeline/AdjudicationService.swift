import QuorumCore
import QuorumImport
import QuorumLabelling
import QuorumStore

/// `quorum adjudicate`: an adjudicator settles disputed items. Only people
/// registered with the adjudicator role may; a ruling outranks every vote.
public enum AdjudicationService {
    public struct Summary: Sendable, Equatable {
        public var adjudicator: String
        public var settled = 0
        /// Lines whose item is not an open dispute (left alone).
        public var notDisputed = 0
        /// Disputes still open afterwards.
        public var remaining = 0
        /// Disputes sent on to the lead (`"escalate": reason` lines).
        public var escalated = 0

        public var json: JSONValue {
            .object([("adjudicator", .string(adjudicator)), ("settled", .int(settled)), ("escalated", .int(escalated)),
                     ("not_disputed", .int(notDisputed)), ("remaining", .int(remaining))])
        }
    }

    static func requireAdjudicator(_ r: any StoreReader, _ name: String) throws {
        try validateAnnotatorName(name)
        let role = try r.annotators().first { $0.name == name }?.role
        guard role == AnnotatorService.Role.adjudicator.rawValue || role == AnnotatorService.Role.lead.rawValue else {
            throw LabellingError.notPermitted(person: name, needs: AnnotatorService.Role.adjudicator.rawValue)
        }
    }

    /// The adjudication queue: items whose answers did not settle, and items an
    /// annotator flagged, that nobody has ruled on yet.
    static func openDisputes(_ r: any StoreReader) throws -> [StoredItem] {
        let consensus = try r.consensus()
        let rulings = try r.adjudications()
        let flagged = Set(try r.answers(round: nil).filter(\.flagged).map(\.itemKey))
        // Items still being answered (e.g. waiting for an extra annotator) are not ready.
        var answering = Set<Int64>()
        if let round = try r.openRound() {
            for task in try r.taskStates(round: round.id) where task.done < task.needed { answering.insert(task.itemKey) }
        }
        var keys = flagged
        for (key, c) in consensus where c.isDispute && !answering.contains(key) { keys.insert(key) }
        // Items escalated to the lead wait in the lead's queue (`quorum incidents`), not here.
        let escalated = Set(try IncidentService.open(r).map(\.itemID))
        return try r.items(keys: keys.filter { rulings[$0] == nil }).filter { ($0.kind == .pool || $0.kind == .gold) && !escalated.contains($0.id) }
    }

    /// Rules on the disputed items listed in `path` (`{"id", "label"}` per
    /// line), or escalates them to the lead (`{"id", "escalate": reason}`), all or nothing.
    public static func fromFile(store: any ProjectStore, adjudicator: String, path: String) throws -> Summary {
        let field = try store.read { try $0.project().task.labelField }
        let reader = try ItemFileReader.open(path, mapping: FieldMapping(textField: "escalate", labelField: field, metaFields: []))
        return try store.write { w in
            try requireAdjudicator(w, adjudicator)
            let project = try w.project()
            func fail(_ line: Int, _ field: String, _ problem: String, _ hint: String) -> QuorumError {
                ItemFileError(file: path, line: line, field: field, problem: problem, hint: hint).asQuorumError
            }
            var open = Dictionary(uniqueKeysWithValues: try openDisputes(w).map { ($0.id, $0) })
            var summary = Summary(adjudicator: adjudicator)
            var record = ItemRecord()
            while try reader.nextRecord(into: &record) {
                if let id = record.id, let reason = record.text {
                    guard record.label == nil, record.labelList == nil else {
                        throw ItemFileError(file: path, line: record.line, field: "escalate", problem: "item \"\(id)\" has both a label and an escalation",
                                            hint: "either rule (\"label\") or escalate to the lead (\"escalate\": reason)").asQuorumError
                    }
                    guard let item = open.removeValue(forKey: id) else { summary.notDisputed += 1; continue }
                    try IncidentService.escalate(w, item: item, by: adjudicator, reason: reason)
                    summary.escalated += 1
                    continue
                }
                guard let id = record.id, let label = try project.storedLabel(of: record, field: field, fail: fail) else {
                    throw fail(record.line, record.id == nil ? "id" : field, "missing \(record.id == nil ? "id" : field)",
                               "give every ruling an id and a \(field == "labels" ? "list of labels" : "label")")
                }
                guard let item = open.removeValue(forKey: id) else { summary.notDisputed += 1; continue }
                try rule(w, item: item, label: label, adjudicator: adjudicator)
                summary.settled += 1
            }
            _ = try ConsensusService.aggregate(w)
            summary.remaining = open.count
            return summary
        }
    }

    static func rule(_ w: any StoreWriter, item: StoredItem, label: String, adjudicator: String) throws {
        try w.insertAdjudication(itemKey: item.key, label: label, adjudicator: adjudicator)
        try w.appendEvent(EventRecord(kind: "adjudication", itemID: item.id, annotator: adjudicator,
                                      detailJSON: JSONValue.object([("label", .string(label))]).serialized()))
    }

    /// Refuses anyone without the adjudicator role (before anything else is asked of them).
    public static func checkAdjudicator(store: any ProjectStore, name: String) throws {
        try store.read { r in try requireAdjudicator(r, name) }
    }

    /// An adjudicator's session over open disputes, for the terminal loop.
    public static func session(store: any ProjectStore, adjudicator: String) throws -> DisputeSession {
        try checkAdjudicator(store: store, name: adjudicator)
        return DisputeSession(service: try LabellingService(store: store), adjudicator: adjudicator)
    }
}

extension LabellingService {
    /// The next open dispute for an adjudicator, with everyone's answers,
    /// notes and flag reasons: the first after `after` in the queue's order
    /// (wrapping around), skipping `skipping`.
    public func nextDispute(_ adjudicator: String, after: String? = nil,
                            skipping: Set<String> = []) throws(LabellingError) -> (next: NextTask, settled: Int, left: Int) {
        let found = try LabellingError.guarding {
            try store.read { r -> (OpenTask?, [AnswerRecord], Int, Int) in
                try AdjudicationService.requireAdjudicator(r, adjudicator)
                let open = try AdjudicationService.openDisputes(r).sorted { $0.key < $1.key }.filter { !skipping.contains($0.id) }
                let settled = try r.adjudications().count
                let start = after.flatMap { id in open.firstIndex { $0.id == id } }.map { $0 + 1 } ?? 0
                let order = open[min(start, open.count)...] + open[..<min(start, open.count)]
                guard let item = order.first(where: { $0.id != after }) else { return (nil, [], settled, open.count) }
                return (OpenTask(taskID: item.key, roundID: 0, item: item, probabilities: nil), try r.answers(itemKey: item.key),
                        settled, open.count)
            }
        }
        guard let task = found.0 else { return (.finished, found.2, found.3) }
        let redactor = try LabellingError.guarding { try self.redactor() }
        let answers = found.1.map { PersonAnswer(annotator: $0.annotator, label: $0.label, flagged: $0.flagged, note: $0.note.map(redactor.apply)) }
        return (.task(try view(task, fields: { _ in [] }, answers: answers)), found.2, found.3)
    }

    /// Rules on an open dispute: the ruling outranks every vote, and consensus is brought up to date.
    public func rule(_ adjudicator: String, itemID: String, label: String) throws(LabellingError) {
        guard project.accepts(answer: label) else { throw .unknownLabel(label, labels: labels.names) }
        try onOpenDispute(adjudicator, itemID) { w, item in
            try AdjudicationService.rule(w, item: item, label: label, adjudicator: adjudicator)
            _ = try ConsensusService.aggregate(w)
        }
    }

    /// Runs `body` in one write on the open dispute `itemID`, for an adjudicator.
    private func onOpenDispute(_ adjudicator: String, _ itemID: String,
                               _ body: @escaping (any StoreWriter, StoredItem) throws -> Void) throws(LabellingError) {
        try LabellingError.guarding {
            try store.writePatiently { w in
                try AdjudicationService.requireAdjudicator(w, adjudicator)
                guard let item = try AdjudicationService.openDisputes(w).first(where: { $0.id == itemID }) else {
                    throw LabellingError.notDisputed(itemID)
                }
                try body(w, item)
            }
        }
    }

    /// Sends an open dispute on to the lead with a reason: it leaves the
    /// adjudicators' queue for `quorum incidents`.
    public func escalate(_ adjudicator: String, itemID: String, reason: String) throws(LabellingError) {
        try onOpenDispute(adjudicator, itemID) { w, item in
            try IncidentService.escalate(w, item: item, by: adjudicator, reason: reason)
        }
    }

    /// Takes back this adjudicator's escalation of `itemID` while the lead has
    /// not resolved it: the dispute returns to the adjudicators' queue. False when there is none to take back.
    public func withdrawEscalation(_ adjudicator: String, itemID: String) throws(LabellingError) -> Bool {
        try LabellingError.guarding {
            try store.writePatiently { w in
                guard try IncidentService.open(w).contains(where: { $0.itemID == itemID && $0.escalatedBy == adjudicator }) else { return false }
                try w.appendEvent(EventRecord(kind: "escalation.withdraw", itemID: itemID, annotator: adjudicator, detailJSON: "{}"))
                return true
            }
        }
    }

    /// Takes back this adjudicator's ruling on `itemID` (default: their latest); returns the item's id.
    @discardableResult
    public func undoRuling(_ adjudicator: String, itemID: String? = nil) throws(LabellingError) -> String {
        try LabellingError.guarding {
            try store.writePatiently { w in
                try AdjudicationService.requireAdjudicator(w, adjudicator)
                let key: Int64? = if let itemID { try w.itemKey(id: itemID) } else { try w.latestAdjudication(adjudicator: adjudicator) }
                guard let key, try w.adjudications()[key]?.adjudicator == adjudicator, try w.deleteAdjudication(itemKey: key) else {
                    throw LabellingError.nothingToUndo
                }
                let id = try w.items(keys: [key]).first?.id ?? ""
                try w.appendEvent(EventRecord(kind: "adjudication.undo", itemID: id, annotator: adjudicator, detailJSON: "{}"))
                _ = try ConsensusService.aggregate(w)
                return id
            }
        }
    }
}
/// An adjudicator's session over `LabellingService`: the terminal loop's
/// queue of open disputes; each ruling is its own transaction.
public final class DisputeSession: LabelQueue {
    let service: LabellingService
    let adjudicator: String
    private var skipped = Set<String>()

    init(service: LabellingService, adjudicator: String) {
        self.service = service
        self.adjudicator = adjudicator
    }

    public var labels: LabelSet { service.labels }

    public func next() throws -> NextTask {
        do { return try service.nextDispute(adjudicator, skipping: skipped).next } catch { throw error.asQuorumError }
    }

    /// A label rules; `f` escalates the dispute to the lead with its reason
    /// (`quorum incidents`); a skip passes it over for this session.
    public func answer(_ task: TaskView, _ response: Response, note: String?, seconds: Double) throws -> Int64? {
        switch response {
        case .label(let label):
            do { try service.rule(adjudicator, itemID: task.itemID, label: label) } catch .notDisputed { return nil } catch {
                throw error.asQuorumError
            }
            return task.taskID
        case .flag(let reason):
            do { try service.escalate(adjudicator, itemID: task.itemID, reason: reason) } catch .notDisputed { return nil } catch {
                throw error.asQuorumError
            }
            escalatedIDs[task.taskID] = task.itemID
            return task.taskID
        case .skip:
            skipped.insert(task.itemID)
            skippedIDs[task.taskID] = task.itemID
            return -task.taskID
        }
    }

    public var flagTarget: String { "the lead" }

    public func undo(answerID: Int64) throws -> Bool {
        if answerID < 0 {
            guard let id = skippedIDs[-answerID] else { return false }
            return skipped.remove(id) != nil
        }
        if let id = escalatedIDs.removeValue(forKey: answerID) {
            do { return try service.withdrawEscalation(adjudicator, itemID: id) } catch { throw error.asQuorumError }
        }
        let itemID = try service.store.read { r in try r.items(keys: [answerID]).first?.id }
        do {
            try service.undoRuling(adjudicator, itemID: itemID)
            return true
        } catch .nothingToUndo { return false } catch { throw error.asQuorumError }
    }

    private var skippedIDs: [Int64: String] = [:]
    private var escalatedIDs: [Int64: String] = [:]

    /// What the annotators answered, with their notes and flag reasons (already on the task).
    public func details(_ task: TaskView) throws -> TaskDetails {
        TaskDetails(sections: [("Answers", task.answers.isEmpty ? ["(none)"] : task.answers.map { a in
            "\(a.annotator): \(a.flagged ? "flagged" : (a.label ?? "skipped"))" + (a.note.map { " — \($0)" } ?? "")
        })])
    }

    public func release() throws {}

    public func progress() throws -> (done: Int, remaining: Int) {
        do {
            let p = try service.nextDispute(adjudicator, skipping: skipped)
            return (p.settled, p.left)
        } catch { throw error.asQuorumError }
    }
}
