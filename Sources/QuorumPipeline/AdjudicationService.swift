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

        public var json: JSONValue {
            .object([("adjudicator", .string(adjudicator)), ("settled", .int(settled)),
                     ("not_disputed", .int(notDisputed)), ("remaining", .int(remaining))])
        }
    }

    static func requireAdjudicator(_ r: any StoreReader, _ name: String) throws {
        try validateAnnotatorName(name)
        guard try r.annotators().contains(where: { $0.name == name && $0.role == AnnotatorService.Role.adjudicator.rawValue }) else {
            throw QuorumError(.state, "\(name) is not an adjudicator",
                              hint: "a lead can grant the role with `quorum annotators add \(name) --role adjudicator`")
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
        return try r.items(keys: keys.filter { rulings[$0] == nil }).filter { $0.kind == .pool || $0.kind == .gold }
    }

    /// Rules on the disputed items listed in `path` (`{"id", "label"}` per line), all or nothing.
    public static func fromFile(store: any ProjectStore, adjudicator: String, path: String) throws -> Summary {
        let reader = try ItemFileReader.open(path, mapping: FieldMapping(metaFields: []))
        return try store.write { w in
            try requireAdjudicator(w, adjudicator)
            let labels = try w.project().labels
            var open = Dictionary(uniqueKeysWithValues: try openDisputes(w).map { ($0.id, $0) })
            var summary = Summary(adjudicator: adjudicator)
            var record = ItemRecord()
            while try reader.nextRecord(into: &record) {
                guard let id = record.id, let label = record.label else {
                    throw ItemFileError(file: path, line: record.line, field: record.id == nil ? "id" : "label",
                                        problem: "missing \(record.id == nil ? "id" : "label")", hint: "give every ruling an id and a label").asQuorumError
                }
                guard labels.index(of: label) != nil else {
                    throw ItemFileError(file: path, line: record.line, field: "label",
                                        problem: "\"\(label)\" is not one of the project's labels (\(labels.names.joined(separator: ", ")))",
                                        hint: "use one of the project's labels").asQuorumError
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

    /// The interactive loop over open disputes.
    /// Refuses anyone without the adjudicator role (before anything else is asked of them).
    public static func checkAdjudicator(store: any ProjectStore, name: String) throws {
        try store.read { r in try requireAdjudicator(r, name) }
    }

    public static func interactive(store: any ProjectStore, adjudicator: String) throws -> LabelLoop.Summary {
        let labels = try store.read { r in
            try requireAdjudicator(r, adjudicator)
            return try r.project().labels
        }
        return try LabelLoop(queue: DisputeQueue(store: store, adjudicator: adjudicator), labels: labels, annotator: adjudicator,
                             redact: try RedactionService.redactor(store: store).apply, detailsOpen: true).run()
    }
}

/// The label loop's queue over open disputes; each ruling is its own transaction.
final class DisputeQueue: LabelQueue {
    let store: any ProjectStore
    let adjudicator: String
    private var skipped = Set<Int64>()

    init(store: any ProjectStore, adjudicator: String) {
        self.store = store
        self.adjudicator = adjudicator
    }

    func next() throws -> ClaimOutcome {
        try store.read { r in
            try AdjudicationService.openDisputes(r).first { !skipped.contains($0.key) }.map {
                .claimed(OpenTask(taskID: $0.key, roundID: 0, item: $0, probabilities: nil))
            } ?? .finished
        }
    }

    func answer(_ task: OpenTask, _ response: Response, note: String?, seconds: Double) throws -> Int64 {
        guard case .label(let label) = response else {
            skipped.insert(task.item.key)
            return -task.item.key
        }
        try store.writePatiently { w in
            try AdjudicationService.rule(w, item: task.item, label: label, adjudicator: adjudicator)
            _ = try ConsensusService.aggregate(w)
        }
        return task.item.key
    }

    func undo(answerID: Int64) throws -> Bool {
        if answerID < 0 { return skipped.remove(-answerID) != nil }
        return try store.writePatiently { w in
            let removed = try w.deleteAdjudication(itemKey: answerID)
            if removed {
                try w.appendEvent(EventRecord(kind: "adjudication.undo", itemID: try w.items(keys: [answerID]).first?.id,
                                              annotator: adjudicator, detailJSON: "{}"))
                _ = try ConsensusService.aggregate(w)
            }
            return removed
        }
    }

    /// What the annotators answered, with their notes and flag reasons.
    func details(_ task: OpenTask) throws -> TaskDetails {
        let answers = try store.read { r in try r.answers(round: nil).filter { $0.itemKey == task.item.key } }
        return TaskDetails(sections: [("Answers", answers.isEmpty ? ["(none)"] : answers.map { a in
            let what = a.flagged ? "flagged" : (a.label ?? "skipped")
            return "\(a.annotator): \(what)" + (a.note.map { " — \($0)" } ?? "")
        })])
    }

    func release() throws {}

    func progress() throws -> (done: Int, remaining: Int) {
        try store.read { r in (try r.adjudications().count, try AdjudicationService.openDisputes(r).count) }
    }
}
