import Foundation
import QuorumCore
import QuorumLabelling
import QuorumStore

/// What can go wrong when someone labels, in words about the action, not
/// about any view: the terminal loop and the HTTP API each word these for
/// their own users (a status code, a hint naming a command).
public enum LabellingError: Error, Equatable, CustomStringConvertible {
    /// The person is not registered to label (and the project does not let anyone label).
    case notRegistered(String)
    /// The person lacks the role the action needs.
    case notPermitted(person: String, needs: String)
    /// There is no open round to label in (none was started, or it was closed).
    case noOpenRound
    /// The item is not held by this person in the open round: never claimed, or
    /// its hold ran out and someone else took its slot, or it is already answered.
    case notClaimed(String)
    /// The label is not one of the project's.
    case unknownLabel(String, labels: [String])
    /// Nothing of this person's can be taken back.
    case nothingToUndo
    /// The item is not an open dispute.
    case notDisputed(String)
    /// The project's store failed or refused (its own message says why).
    case store(QuorumError)

    public var description: String {
        switch self {
        case .notRegistered(let name): "\(name) is not registered to label in this project"
        case .notPermitted(let name, let role): "\(name) is not \(role.first.map { "aeiou".contains($0) } == true ? "an" : "a") \(role)"
        case .noOpenRound: "there is no open round: answers are not being taken"
        case .notClaimed(let id): "item \"\(id)\" is not held for you: it was never given to you, or it is answered, or your hold ran out and someone else took it"
        case .unknownLabel(let label, let labels): "\"\(TerminalText.visible(label))\" is not one of the project's labels (\(labels.joined(separator: ", ")))"
        case .nothingToUndo: "there is nothing of yours to undo in the open round"
        case .notDisputed(let id): "item \"\(id)\" is not an open dispute"
        case .store(let error): error.message
        }
    }

    /// Runs `body`, turning the store's errors into `.store`.
    static func guarding<T>(_ body: () throws -> T) throws(LabellingError) -> T {
        do { return try body() } catch let error as LabellingError { throw error } catch let error as QuorumError {
            throw .store(error)
        } catch {
            throw .store(QuorumError(.state, "\(error)"))
        }
    }
}

/// Labelling, independent of the view: claim the next task, answer, skip,
/// flag, note, undo, and the evidence behind a task. The terminal loop and
/// the HTTP API are two thin views over it.
///
/// Every task it hands out is a `TaskView` with the project's redaction
/// already applied to every field people wrote. Each call is its own short
/// transaction (an answer and the next claim share one), so a killed process
/// loses nothing already acknowledged, and nothing slow (training, consensus)
/// ever runs inside one.
///
/// One service serves any number of people at once: who is acting is an
/// argument of every call, and the state it keeps (the project's labels, the
/// compiled redaction patterns, the evidence index) is shared under a lock.
public final class LabellingService: @unchecked Sendable {
    public struct Progress: Sendable, Equatable {
        /// Answers counted in the round (labels and flags).
        public var done: Int
        /// Answers the round still wants.
        public var left: Int
        /// This person's counted answers in the round.
        public var mine: Int
    }

    public let store: any ProjectStore
    /// How long a claimed task is held for its annotator, in seconds.
    public let lease: Double
    /// The project's labels, in order.
    public let labels: LabelSet
    /// The project's name, labels and task type.
    public let project: ProjectInfo
    private let lock = NSLock()
    /// The evidence index loads itself on first use: one caller at a time.
    private let evidenceLock = NSLock()
    private var redaction: (json: String?, redactor: Redactor)?
    private var fieldsByRound: [Int: (StoredItem) -> [String]] = [:]
    private var evidence: (model: String?, value: TaskEvidence)?

    public init(store: any ProjectStore, lease: Double = LabellingService.defaultLease) throws(LabellingError) {
        self.store = store
        self.lease = lease
        project = try LabellingError.guarding { try store.read { r in try r.project() } }
        labels = project.labels
    }

    // MARK: - Who may label

    /// Lets `name` label: registered people always; anyone when the project's policy is open (they are registered on the way).
    public func admit(_ name: String) throws(LabellingError) {
        try LabellingError.guarding {
            try validateAnnotatorName(name)
            try store.write { w in
                if try w.annotators().contains(where: { $0.name == name }) { return }
                guard try AnnotatorService.policy(w) == .open else { throw LabellingError.notRegistered(name) }
                try w.ensureAnnotator(name, role: AnnotatorService.Role.annotator.rawValue)
            }
        }
    }

    // MARK: - Annotators

    /// Claims the next task for `annotator` in the open round.
    ///
    /// Without `after`, a task they already hold comes first (a reopened page
    /// resumes). With `after` (the item a page is showing), a different task
    /// is claimed and the hold on `after` is kept: the page fetches the next
    /// item ahead while the current one is on screen, so at most two are held.
    public func next(_ annotator: String, after: String? = nil) throws(LabellingError) -> (next: NextTask, progress: Progress) {
        let (outcome, round, progress) = try LabellingError.guarding {
            try store.writePatiently { w -> (ClaimOutcome, RoundRecord?, Progress) in
                guard let round = try w.openRound() else { return (.finished, nil, Progress(done: 0, left: 0, mine: 0)) }
                let kept = try after.flatMap { try w.heldTask(round: round.id, annotator: annotator, itemID: $0, now: w.now)?.taskID }
                let outcome = try w.claimTask(round: round.id, annotator: annotator, leaseSeconds: lease, now: w.now, keeping: kept)
                return (outcome, round, try self.progress(w, round: round.id, annotator: annotator))
            }
        }
        guard let round else { throw .noOpenRound }
        return (try view(outcome, round: round), progress)
    }

    /// Records `annotator`'s answer to `itemID`, which they must hold in the
    /// open round. With `claimNext`, the next task is claimed in the same
    /// transaction (one commit between two items) and returned.
    @discardableResult
    public func answer(_ annotator: String, itemID: String, _ response: Response, note: String?, seconds: Double,
                       claimNext: Bool = false) throws(LabellingError) -> (answerID: Int64, next: NextTask?) {
        if case .label(let label) = response, !project.accepts(answer: label) {
            throw .unknownLabel(label, labels: labels.names)
        }
        let seconds = seconds.isFinite ? min(max(seconds, 0), 86_400) : 0
        // Notes and flag reasons are stored redacted, as every text people see is shown.
        let redactor = try LabellingError.guarding { try self.redactor() }
        let note = note.map(redactor.apply)
        var response = response
        if case .flag(let reason) = response { response = .flag(reason: redactor.apply(reason)) }
        let (id, outcome, round) = try LabellingError.guarding {
            try store.writePatiently { w -> (Int64, ClaimOutcome?, RoundRecord) in
                guard let round = try w.openRound() else { throw LabellingError.noOpenRound }
                guard let task = try w.heldTask(round: round.id, annotator: annotator, itemID: itemID, now: w.now) else {
                    throw LabellingError.notClaimed(itemID)
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
                let next = claimNext ? try w.claimTask(round: round.id, annotator: annotator, leaseSeconds: lease, now: w.now) : nil
                return (id, next, round)
            }
        }
        return (id, try outcome.map { o throws(LabellingError) in try view(o, round: round) })
    }

    /// Takes back `annotator`'s answer `answerID` (default: their latest in the
    /// open round) and gives its task back to them, keeping their other holds.
    /// Returns the item's id. A closed round's answers are its record: they
    /// cannot be undone.
    @discardableResult
    public func undo(_ annotator: String, answerID: Int64? = nil) throws(LabellingError) -> String {
        try LabellingError.guarding {
            try store.writePatiently { w in
                guard let round = try w.openRound(),
                      let answer = try answerID.map({ try w.answer($0) }) ?? w.latestAnswer(round: round.id, annotator: annotator),
                      answer.roundID == round.id, answer.annotator == annotator, try w.deleteAnswer(answer.answerID) else {
                    throw LabellingError.nothingToUndo
                }
                let held = try w.heldClaims(round: round.id, annotator: annotator, now: w.now).map(\.taskID)
                let now = w.now
                try w.claim(taskID: answer.taskID, annotator: annotator, until: now + lease, keeping: held, now: now)
                try w.appendEvent(EventRecord(kind: "undo", itemID: answer.itemID, annotator: annotator,
                                              detailJSON: JSONValue.object([("answer", .int(Int(answer.answerID)))]).serialized()))
                return answer.itemID
            }
        }
    }

    /// The evidence behind a task `annotator` holds (nearest labelled examples,
    /// strongest features), redacted; a notice only on blind tasks.
    public func details(_ annotator: String, itemID: String) throws(LabellingError) -> TaskDetails {
        let task = try LabellingError.guarding {
            try store.read { r -> OpenTask in
                guard let round = try r.openRound(),
                      let task = try r.heldTask(round: round.id, annotator: annotator, itemID: itemID, now: r.now) else {
                    throw LabellingError.notClaimed(itemID)
                }
                return task
            }
        }
        return try details(task)
    }

    func details(_ task: OpenTask) throws(LabellingError) -> TaskDetails {
        try LabellingError.guarding {
            let index = try evidenceIndex()
            evidenceLock.lock()
            defer { evidenceLock.unlock() }
            let found = try index.details(for: task, blind: task.blind)
            let redactor = try self.redactor()
            return TaskDetails(sections: found.sections.map { ($0.title, $0.lines.map(redactor.apply)) })
        }
    }

    /// How far the open round is, and how many answers `annotator` gave in it.
    public func progress(_ annotator: String) throws(LabellingError) -> Progress {
        try LabellingError.guarding {
            try store.read { r in
                guard let round = try r.openRound() else { return Progress(done: 0, left: 0, mine: 0) }
                return try progress(r, round: round.id, annotator: annotator)
            }
        }
    }

    /// Gives back every task `annotator` holds (they quit).
    public func release(_ annotator: String) throws(LabellingError) {
        try LabellingError.guarding { try store.write { w in try w.releaseClaims(annotator: annotator) } }
    }

    private func progress(_ r: any StoreReader, round: Int, annotator: String) throws -> Progress {
        let p = try r.taskProgress(round: round)
        return Progress(done: p.answers, left: max(0, p.wanted - p.answers), mine: try r.answerCount(round: round, annotator: annotator))
    }

    // MARK: - Views of tasks

    private func view(_ outcome: ClaimOutcome, round: RoundRecord) throws(LabellingError) -> NextTask {
        switch outcome {
        case .finished: return .finished
        case .waiting(let until): return .waiting(until: until)
        case .claimed(let task): return .task(try view(task, fields: try fieldLines(round)))
        }
    }

    /// `task` as people see it: every field they wrote redacted.
    func view(_ task: OpenTask, fields: (StoredItem) -> [String], answers: [PersonAnswer] = []) throws(LabellingError) -> TaskView {
        let redactor = try LabellingError.guarding { try self.redactor() }
        let item = task.item
        let meta = Self.meta(item.metaJSON, redactor: redactor)
        let content = item.text != nil ? "" : redactor.apply(item.metaJSON ?? item.vector.map(TaskView.describe) ?? "(no content)")
        let sets = project.task == .multiLabel
        // A preference item shows its prompt, then response a, then response b.
        let pair = project.task == .preference ? PreferencePair(item) : nil
        let shownText = pair.map { "\($0.prompt)\n\n── a ──\n\($0.a)\n\n── b ──\n\($0.b)" } ?? item.text
        var view = TaskView(taskID: task.taskID, roundID: task.roundID, itemID: item.id,
                            text: shownText.map { RedactedText($0, redactor: redactor) }, content: content,
                            meta: pair == nil ? meta : meta.filter { $0.key != "a" && $0.key != "b" },
                            fields: item.text == nil ? [] : fields(item).map(redactor.apply),
                            suggestion: sets ? nil : task.probabilities.flatMap { Suggestion(probabilities: $0, labels: labels.names) },
                            blind: task.blind, labels: labels.names, answers: answers)
        if let pair { view.pair = (redactor.apply(pair.prompt), redactor.apply(pair.a), redactor.apply(pair.b)) }
        if sets {
            view.labelSets = true
            if !task.blind, let p = task.probabilities, p.count == labels.count { view.labelProbabilities = p }
        }
        return view
    }

    /// The item's metadata with every string in it redacted, keys in order.
    static func meta(_ json: String?, redactor: Redactor) -> [(key: String, value: JSONValue)] {
        guard let json, let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return [] }
        func value(_ v: Any) -> JSONValue {
            switch v {
            case let s as String: return .string(redactor.apply(s))
            case let a as [Any]: return .array(a.map(value))
            case let o as [String: Any]: return .object(o.keys.sorted().map { ($0, value(o[$0]!)) })
            case is NSNull: return .null
            default:
                // Numbers and booleans, exactly as the file wrote them.
                guard let data = try? JSONSerialization.data(withJSONObject: v, options: [.fragmentsAllowed]) else { return .null }
                return .raw(String(decoding: data, as: UTF8.self))
            }
        }
        return object.keys.sorted().map { ($0, value(object[$0]!)) }
    }

    // MARK: - Shared state

    /// The redactor for the project's current patterns (rebuilt when a lead changes them).
    func redactor() throws -> Redactor {
        let json = try store.read { r in try r.setting(RedactionService.key) }
        lock.lock(); defer { lock.unlock() }
        if let redaction, redaction.json == json { return redaction.redactor }
        let redactor = try RedactionService.redactor(store: store)
        redaction = (json, redactor)
        return redactor
    }

    private func fieldLines(_ round: RoundRecord) throws(LabellingError) -> (StoredItem) -> [String] {
        lock.lock(); defer { lock.unlock() }
        if let known = fieldsByRound[round.id] { return known }
        let lines = try LabellingError.guarding { try LabellingService.fieldLines(round) }
        fieldsByRound[round.id] = lines
        return lines
    }

    /// The evidence index for the live model (rebuilt when the model changes).
    private func evidenceIndex() throws -> TaskEvidence {
        let model = try store.read { r in try r.liveModelID() }
        lock.lock(); defer { lock.unlock() }
        if let evidence, evidence.model == model { return evidence.value }
        let fresh = TaskEvidence(store: store)
        evidence = (model, fresh)
        return fresh
    }
}
