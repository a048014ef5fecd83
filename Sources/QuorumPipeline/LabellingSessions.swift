import Foundation
import QuorumCore
import QuorumImport
import QuorumLabelling
import QuorumStore

/// `quorum label`: an annotator answers their open tasks, from a file or interactively.
extension LabellingService {
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
        let task = try store.read { try $0.project().task }
        let field = task.labelField
        let reader = try ItemFileReader.open(path, mapping: FieldMapping(labelField: field, metaFields: []))
        return try store.write { w in
            let round = try RoundService.resolve(w, id)
            guard round.status == .open else {
                throw QuorumError(.state, "round \(round.id) is closed", hint: "answers go to the open round; see `quorum round status`")
            }
            let project = try w.project()
            try AnnotatorService.admit(w, annotator)
            let open = try w.openTasks(round: round.id, annotator: annotator, limit: nil, now: w.now)
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
                guard let label = try project.storedLabel(of: record, field: field, fail: fail) else {
                    throw fail(record.line, field, "missing label for item \"\(TerminalText.visible(itemID))\"",
                               project.task == .multiLabel ? "give every answer its labels, [] for none" : "give every answer a label")
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

    /// One annotator's session over the service, for the terminal loop.
    public static func session(store: any ProjectStore, annotator: String, round id: Int?,
                               lease: Double = defaultLease) throws -> AnnotatorSession {
        try validateAnnotatorName(annotator)
        try validateLease(lease)
        let service = try LabellingService(store: store, lease: lease)
        try service.admit(annotator)
        let round = try store.read { r in try RoundService.resolve(r, id) }
        guard round.status == .open else {
            throw QuorumError(.state, "round \(round.id) is closed", hint: "start a new round with `quorum round start`")
        }
        return AnnotatorSession(service: service, annotator: annotator)
    }
}

/// One annotator's labelling session over `LabellingService`: the terminal
/// loop's queue. The answer and the next claim share one commit, so the next
/// item is ready the moment the answer is recorded.
public final class AnnotatorSession: LabelQueue {
    public let service: LabellingService
    public let annotator: String
    /// The next task, claimed in the same transaction as the last answer.
    private var claimedWithAnswer: NextTask?

    init(service: LabellingService, annotator: String) {
        self.service = service
        self.annotator = annotator
    }

    public func next() throws -> NextTask {
        if let ready = claimedWithAnswer {
            claimedWithAnswer = nil
            return ready
        }
        return try service.next(annotator).next
    }

    public func answer(_ task: TaskView, _ response: Response, note: String?, seconds: Double) throws -> Int64? {
        do {
            let (id, next) = try service.answer(annotator, itemID: task.itemID, response, note: note, seconds: seconds, claimNext: true)
            claimedWithAnswer = next
            return id
        } catch .notClaimed {
            return nil
        } catch .noOpenRound {
            throw QuorumError(.state, "round \(task.roundID) was closed while you were labelling; your answer to \(task.itemID) was not recorded",
                              hint: "see `quorum round status`; the lead starts the next round")
        } catch {
            throw error.asQuorumError
        }
    }

    public func undo(answerID: Int64) throws -> Bool {
        claimedWithAnswer = nil
        do {
            try service.undo(annotator, answerID: answerID)
            return true
        } catch .nothingToUndo {
            return false
        } catch {
            throw error.asQuorumError
        }
    }

    public func progress() throws -> (done: Int, remaining: Int) {
        let p = try service.progress(annotator)
        return (p.done, p.left)
    }

    public func details(_ task: TaskView) throws -> TaskDetails {
        do { return try service.details(annotator, itemID: task.itemID) } catch .notClaimed {
            return TaskDetails(sections: [("Details", ["Your hold on this item has ended; answer it to see if it is still yours."])])
        }
    }

    public func release() throws {
        try service.release(annotator)
    }
}

extension LabellingError {
    /// The error as the command line words it: with a hint naming the command that helps.
    public var asQuorumError: QuorumError {
        switch self {
        case .store(let e): e
        case .notRegistered(let name): AnnotatorService.notRegistered(name)
        case .notPermitted(let name, let role):
            QuorumError(.state, description, hint: "a lead can grant the role with `quorum annotators add \(name) --role \(role)`")
        case .noOpenRound: QuorumError(.state, description, hint: "start one with `quorum round start`")
        case .unknownLabel: QuorumError(.badInput, description, hint: "use one of the project's labels")
        case .notClaimed, .nothingToUndo, .notDisputed: QuorumError(.state, description, hint: "see `quorum round status`")
        }
    }
}
