import Glibc
import QuorumCore

/// What the labelling loop needs from the project: the next task, and a way
/// to commit (and undo) answers. The pipeline provides it over the store, so
/// every answer is committed before the next item is shown.
public protocol LabelQueue {
    /// The next task for this annotator, or nil when none is left.
    func next() throws -> OpenTask?
    /// Commits an answer (label nil = skip) and returns its id.
    func answer(_ task: OpenTask, label: String?, seconds: Double) throws -> Int64
    /// Removes a committed answer; false when it can no longer be undone.
    func undo(answerID: Int64) throws -> Bool
    /// (answered, remaining) for the progress line.
    func progress() throws -> (done: Int, remaining: Int)
}

/// The interactive loop: shows one item at a time and reads single keys.
///
/// Keys: 1–9 choose a label · Enter accepts the suggestion · s skips ·
/// u undoes the last answer · ? help · q quits.
public final class LabelLoop {
    public struct Summary: Sendable, Equatable {
        public var answered = 0
        public var skipped = 0
        public var undone = 0
    }

    private let queue: any LabelQueue
    private let labels: LabelSet
    private let annotator: String
    private let terminal: RawTerminal
    private var history: [Int64] = []
    private var message = ""
    private var started = monotonicSeconds()

    public init(queue: any LabelQueue, labels: LabelSet, annotator: String, terminal: RawTerminal = RawTerminal()) {
        self.queue = queue
        self.labels = labels
        self.annotator = annotator
        self.terminal = terminal
    }

    /// Runs until the annotator quits or no task is left.
    public func run() throws -> Summary {
        var summary = Summary()
        terminal.enable()
        defer {
            terminal.restore()
            terminal.write("\n")
        }
        started = monotonicSeconds()
        while let task = try queue.next() {
            let shownAt = monotonicSeconds()
            try draw(task)
            var handled = false
            while !handled {
                guard let key = terminal.readKey() else { return summary }
                switch key {
                case .character("q"): return summary
                case .character("?"):
                    message = "1-\(min(labels.count, 9)) label · Enter accept suggestion · s skip · u undo · q quit"
                    try draw(task)
                case .character("s"):
                    history.append(try queue.answer(task, label: nil, seconds: monotonicSeconds() - shownAt))
                    summary.skipped += 1
                    message = "skipped \(task.item.id)"
                    handled = true
                case .character("u"):
                    if let last = history.popLast(), try queue.undo(answerID: last) {
                        summary.undone += 1
                        message = "undone: the previous item is back in your queue"
                        handled = true
                    } else {
                        message = "nothing to undo"
                        try draw(task)
                    }
                case .enter:
                    if let suggestion = suggestion(task) {
                        history.append(try queue.answer(task, label: labels.names[suggestion.index],
                                                        seconds: monotonicSeconds() - shownAt))
                        summary.answered += 1
                        message = "\(task.item.id) → \(labels.names[suggestion.index]) (accepted)"
                        handled = true
                    } else {
                        message = "no suggestion for this item: press a number"
                        try draw(task)
                    }
                case .character(let c):
                    if let digit = c.wholeNumberValue, digit >= 1, digit <= min(labels.count, 9) {
                        history.append(try queue.answer(task, label: labels.names[digit - 1],
                                                        seconds: monotonicSeconds() - shownAt))
                        summary.answered += 1
                        message = "\(task.item.id) → \(labels.names[digit - 1])"
                        handled = true
                    } else {
                        message = "unknown key \"\(c)\": press ? for help"
                        try draw(task)
                    }
                default:
                    try draw(task)
                }
            }
        }
        terminal.write("\u{1B}[2J\u{1B}[H")
        terminal.write("No tasks left for \(annotator). \(summary.answered) answered, \(summary.skipped) skipped.\n")
        return summary
    }

    private func suggestion(_ task: OpenTask) -> (index: Int, confidence: Float)? {
        guard let p = task.probabilities, p.count == labels.count else { return nil }
        let best = p.indices.max { p[$0] < p[$1] }!
        return (best, p[best])
    }

    private func draw(_ task: OpenTask) throws {
        let (columns, rows) = RawTerminal.size()
        var out = "\u{1B}[2J\u{1B}[H"
        out += "Quorum · \(annotator) · round \(task.roundID) · item \(task.item.id)\n"
        out += String(repeating: "─", count: min(columns, 80)) + "\n"
        let body = task.item.text ?? task.item.metaJSON ?? (task.item.vector.map { "vector of \($0.count) values" } ?? "(no content)")
        for line in wrap(body, width: min(columns, 80)).prefix(max(rows - 10, 3)) { out += line + "\n" }
        out += "\n"
        if let s = suggestion(task), let p = task.probabilities {
            let alternatives = p.indices.sorted { p[$0] > p[$1] }.dropFirst().prefix(2)
                .map { "\(labels.names[$0]) \(Int((p[$0] * 100).rounded()))%" }.joined(separator: ", ")
            out += "Suggestion: \(labels.names[s.index]) (\(Int((s.confidence * 100).rounded()))%)"
            out += alternatives.isEmpty ? "\n" : "   also: \(alternatives)\n"
        }
        out += labels.names.prefix(9).enumerated().map { "[\($0.offset + 1)] \($0.element)" }.joined(separator: "  ") + "\n"
        out += "Enter accept · s skip · u undo · ? help · q quit\n"
        let (done, remaining) = try queue.progress()
        let elapsed = monotonicSeconds() - started
        let rate = elapsed > 0 ? Double(done) / elapsed * 60 : 0
        let eta = rate > 0 ? "\(Int((Double(remaining) / rate).rounded(.up))) min" : "-"
        out += "done \(done) · left \(remaining) · \(Int(rate.rounded()))/min · ETA \(eta)\n"
        if !message.isEmpty { out += message + "\n" }
        message = ""
        terminal.write(out)
    }

    private func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = ""
            for word in paragraph.split(separator: " ") {
                if line.count + word.count + 1 > width, !line.isEmpty { lines.append(line); line = "" }
                line += line.isEmpty ? String(word) : " " + word
            }
            lines.append(line)
        }
        return lines
    }
}

