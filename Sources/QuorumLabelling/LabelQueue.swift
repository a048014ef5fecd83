import QuorumCore

/// What an annotator answers for one task.
public enum Response: Sendable, Equatable {
    /// One of the project's labels.
    case label(String)
    /// Not now: the task goes to someone else, and this annotator does not see it again.
    case skip
    /// Escalate to an adjudicator, with a reason.
    case flag(reason: String)
}

/// The evidence `d` shows: titled sections of short lines (nearest labelled
/// examples, the strongest features, other people's answers, …).
public struct TaskDetails: Sendable, Equatable {
    public var sections: [(title: String, lines: [String])]

    public init(sections: [(title: String, lines: [String])]) {
        self.sections = sections
    }

    public static func == (a: TaskDetails, b: TaskDetails) -> Bool {
        a.sections.map(\.title) == b.sections.map(\.title) && a.sections.map(\.lines) == b.sections.map(\.lines)
    }
}

/// What the terminal loop needs from the project: the next task, and a way
/// to commit (and undo) answers. The pipeline provides it over its labelling
/// service, so every answer is committed before the next item is shown.
public protocol LabelQueue: AnyObject {
    /// Claims the next task for this annotator, or says to wait or stop.
    func next() throws -> NextTask
    /// Commits an answer and returns its id; nil when the task is no longer
    /// this annotator's (their hold ran out and someone else took it), so
    /// nothing was recorded.
    func answer(_ task: TaskView, _ response: Response, note: String?, seconds: Double) throws -> Int64?
    /// Removes a committed answer and gives its task back to this annotator; false when it can no longer be undone.
    func undo(answerID: Int64) throws -> Bool
    /// (answers counted in the round, answers still wanted) for the progress line.
    func progress() throws -> (done: Int, remaining: Int)
    /// The evidence behind the task, shown on `d`.
    func details(_ task: TaskView) throws -> TaskDetails
    /// Gives back any task this annotator holds (on quit).
    func release() throws
    /// Who a flag (`f`) sends the item to, as the screen says it: "an adjudicator"
    /// for annotators, "the lead" for an adjudicator's disputes.
    var flagTarget: String { get }
}

extension LabelQueue {
    public var flagTarget: String { "an adjudicator" }
}
