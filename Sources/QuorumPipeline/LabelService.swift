import Foundation
import QuorumCore
import QuorumImport
import QuorumLabelling
import QuorumStore

/// `quorum label`: an annotator answers their open tasks, from a file or interactively.
public enum LabelService {
    public struct Summary: Sendable, Equatable {
        public var annotator: String
        public var round: Int
        /// Answers recorded.
        public var answered = 0
        /// Lines whose item is not among this annotator's open tasks (left alone).
        public var notOpen = 0
        /// This annotator's open tasks still unanswered afterwards.
        public var remaining = 0

        public var json: JSONValue {
            .object([("annotator", .string(annotator)), ("round", .int(round)), ("answered", .int(answered)),
                     ("not_open", .int(notOpen)), ("remaining", .int(remaining))])
        }
    }

    /// Answers this annotator's open tasks whose item is in `path` (JSONL or
    /// CSV with `id` and `label`), in one transaction. Lines for other items
    /// are left alone. A bad line aborts the whole file.
    public static func answerFromFile(store: any ProjectStore, annotator: String, round id: Int?, path: String) throws -> Summary {
        try validateAnnotatorName(annotator)
        let reader = try ItemFileReader.open(path, mapping: FieldMapping(metaFields: []))
        return try store.write { w in
            let round = try RoundService.resolve(w, id)
            guard round.status == .open else {
                throw QuorumError(.state, "round \(round.id) is closed", hint: "answers go to the open round; see `quorum round status`")
            }
            let labels = try w.project().labels
            try AnnotatorService.admit(w, annotator)
            let open = try w.openTasks(round: round.id, annotator: annotator, limit: nil)
            var taskByItem = Dictionary(open.map { ($0.item.id, $0) }, uniquingKeysWith: { a, _ in a })
            var seen: [String: Int] = [:]
            var summary = Summary(annotator: annotator, round: round.id)
            var record = ItemRecord()
            func fail(_ line: Int, _ field: String, _ problem: String, _ hint: String) -> QuorumError {
                ItemFileError(file: path, line: line, field: field, problem: problem, hint: hint).asQuorumError
            }
            var lines = 0
            while try reader.nextRecord(into: &record) {
                lines += 1
                guard let itemID = record.id, !itemID.isEmpty else {
                    throw fail(record.line, "id", "missing id", "give every answer the id of the item it labels")
                }
                guard let label = record.label else {
                    throw fail(record.line, "label", "missing label for item \"\(itemID)\"", "give every answer a label")
                }
                guard labels.index(of: label) != nil else {
                    throw fail(record.line, "label", "\"\(label)\" is not one of the project's labels (\(labels.names.joined(separator: ", ")))",
                               "use one of the project's labels")
                }
                if let first = seen[itemID] {
                    throw fail(record.line, "id", "item \"\(itemID)\" already appears on line \(first)", "give each item one answer per file")
                }
                seen[itemID] = record.line
                guard let task = taskByItem.removeValue(forKey: itemID) else {
                    summary.notOpen += 1
                    continue
                }
                let confidence = task.probabilities.map { p in Double(p.max() ?? 0) }
                _ = try w.insertAnswer(taskID: task.taskID, annotator: annotator, label: label, seconds: 0, note: nil, flagged: false)
                try w.appendEvent(EventRecord(kind: "answer", itemID: itemID, annotator: annotator,
                                              modelVersion: round.modelVersion, confidence: confidence,
                                              detailJSON: JSONValue.object([("label", .string(label)), ("round", .int(round.id)),
                                                                            ("source", .string(path))]).serialized()))
                summary.answered += 1
            }
            guard lines > 0 else {
                throw QuorumError(.badInput, "\(path): the file has no answers", hint: "check that you passed the right file")
            }
            summary.remaining = taskByItem.count
            return summary
        }
    }

    /// The metadata fields the round shows above each item's text (`round
    /// start --show-fields`), as "field: value" lines for the loop.
    static func fieldLines(_ round: RoundRecord) throws -> (StoredItem) -> [String] {
        let settings = try StoredJSON.object(round.settingsJSON, "settings of round \(round.id)")
        let fields = settings["show_fields"] as? [String] ?? []
        guard !fields.isEmpty else { return { _ in [] } }
        return { item in
            guard let json = item.metaJSON,
                  let meta = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return [] }
            return fields.compactMap { field in
                guard let value = meta[field], !(value is NSNull) else { return nil }
                let text = value as? String ?? ((try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed]))
                    .map { String(decoding: $0, as: UTF8.self) } ?? "\(value)")
                return "\(field): \(text)"
            }
        }
    }

    /// How long a claimed task is held for its annotator before it returns to the queue.
    public static let defaultLease: Double = 600
    /// The leases an annotator may ask for: one second to one day. An
    /// unbounded lease (`inf`, 1e300) would hold a task forever and overflow
    /// every "time left" shown to others.
    public static let leaseRange: ClosedRange<Double> = 1...86_400

    /// Refuses a lease outside `leaseRange` (NaN and infinities included).
    public static func validateLease(_ lease: Double) throws(QuorumError) {
        guard leaseRange.contains(lease) else {
            throw QuorumError(.badInput, "--lease \(lease) is out of range",
                              hint: "give a number of seconds from \(Int(leaseRange.lowerBound)) to \(Int(leaseRange.upperBound)) (one day), e.g. 600")
        }
    }

    /// The task queue one annotator's loop works through (also used by the latency benchmark).
    public static func queue(store: any ProjectStore, annotator: String, round: Int, lease: Double = defaultLease) throws -> any LabelQueue {
        try validateLease(lease)
        let record = try store.write { w in
            try AnnotatorService.admit(w, annotator)
            return try RoundService.resolve(w, round)
        }
        return StoreLabelQueue(store: store, annotator: annotator, round: record, lease: lease)
    }

    /// Runs the interactive loop on the terminal.
    public static func interactive(store: any ProjectStore, annotator: String, round id: Int?,
                                   lease: Double = defaultLease) throws -> LabelLoop.Summary {
        try validateAnnotatorName(annotator)
        try validateLease(lease)
        let (round, labels) = try store.write { w in
            try AnnotatorService.admit(w, annotator)
            return (try RoundService.resolve(w, id), try w.project().labels)
        }
        guard round.status == .open else {
            throw QuorumError(.state, "round \(round.id) is closed", hint: "start a new round with `quorum round start`")
        }
        let queue = StoreLabelQueue(store: store, annotator: annotator, round: round, lease: lease)
        return try LabelLoop(queue: queue, labels: labels, annotator: annotator, redact: try RedactionService.redactor(store: store).apply,
                             fieldLines: try fieldLines(round)).run()
    }
}

/// The label loop's queue over the store. Each step is its own committed
/// transaction: claiming the next task (with a lease), and each answer, so a
/// killed process loses nothing already acknowledged and holds nothing longer
/// than its lease.
final class StoreLabelQueue: LabelQueue {
    let store: any ProjectStore
    let annotator: String
    let round: RoundRecord
    let lease: Double
    private lazy var evidence = TaskEvidence(store: store)

    init(store: any ProjectStore, annotator: String, round: RoundRecord, lease: Double) {
        self.store = store
        self.annotator = annotator
        self.round = round
        self.lease = lease
    }

    static var now: Double { Date().timeIntervalSince1970 }

    /// The next task, claimed in the same transaction as the last answer.
    private var claimedWithAnswer: ClaimOutcome?

    func next() throws -> ClaimOutcome {
        if let ready = claimedWithAnswer {
            claimedWithAnswer = nil
            return ready
        }
        return try store.writePatiently { w in
            try w.claimTask(round: round.id, annotator: annotator, leaseSeconds: lease, now: Self.now)
        }
    }

    func answer(_ task: OpenTask, _ response: Response, note: String?, seconds: Double) throws -> Int64 {
        try store.writePatiently { w in
            guard try w.round(round.id)?.status == .open else {
                throw QuorumError(.state, "round \(round.id) was closed while you were labelling; your answer to \(task.item.id) was not recorded",
                                  hint: "see `quorum round status`; the lead starts the next round")
            }
            var label: String?, flagged = false, text = note, kind = "answer"
            switch response {
            case .label(let l): label = l
            case .skip: kind = "skip"
            case .flag(let reason):
                flagged = true
                kind = "flag"
                text = note.map { "\(reason) | \($0)" } ?? reason
            }
            let id = try w.insertAnswer(taskID: task.taskID, annotator: annotator, label: label, seconds: seconds,
                                        note: text, flagged: flagged)
            try w.appendEvent(EventRecord(kind: kind, itemID: task.item.id, annotator: annotator,
                                          modelVersion: round.modelVersion,
                                          confidence: task.probabilities.map { Double($0.max() ?? 0) },
                                          detailJSON: JSONValue.object([("label", .text(label)), ("round", .int(round.id)),
                                                                        ("seconds", .double(seconds)), ("note", .text(text)),
                                                                        ("blind", .bool(task.blind))]).serialized()))
            // One commit for the answer and the next claim: one lock, one write, less waiting.
            claimedWithAnswer = try w.claimTask(round: round.id, annotator: annotator, leaseSeconds: lease, now: Self.now)
            return id
        }
    }

    func undo(answerID: Int64) throws -> Bool {
        try store.writePatiently { w in
            // A closed round's answers are part of its record: they cannot be undone.
            guard try w.round(round.id)?.status == .open,
                  let answer = try w.answer(answerID), answer.roundID == round.id, answer.annotator == annotator,
                  try w.deleteAnswer(answerID) else { return false }
            try w.claim(taskID: answer.taskID, annotator: annotator, until: Self.now + lease)
            claimedWithAnswer = nil
            try w.appendEvent(EventRecord(kind: "undo", itemID: answer.itemID, annotator: annotator,
                                          detailJSON: JSONValue.object([("answer", .int(Int(answerID)))]).serialized()))
            return true
        }
    }

    func progress() throws -> (done: Int, remaining: Int) {
        try store.read { r in
            let p = try r.taskProgress(round: round.id)
            return (p.answers, max(0, p.wanted - p.answers))
        }
    }

    func details(_ task: OpenTask) throws -> TaskDetails {
        try evidence.details(for: task, blind: task.blind)
    }

    func release() throws {
        try store.write { w in try w.releaseClaims(annotator: annotator) }
    }
}
