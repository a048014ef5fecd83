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
/// Keys: 1–9 choose a label (0 the tenth) · Enter accepts the suggestion · s skips ·
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
    /// Answers committed in this session, newest last: (answer id, was it a skip).
    private var history: [(id: Int64, skipped: Bool)] = []
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
                    message = "\(labels.count >= 10 ? "1-9, 0" : "1-\(labels.count)") label · Enter accept suggestion · s skip · u undo · q quit"
                    try draw(task)
                case .character("s"):
                    history.append((try queue.answer(task, label: nil, seconds: monotonicSeconds() - shownAt), true))
                    summary.skipped += 1
                    message = "skipped \(task.item.id)"
                    handled = true
                case .character("u"):
                    if let last = history.popLast(), try queue.undo(answerID: last.id) {
                        summary.undone += 1
                        if last.skipped { summary.skipped -= 1 } else { summary.answered -= 1 }
                        message = "undone: the previous item is back in your queue"
                        handled = true
                    } else {
                        message = "nothing to undo"
                        try draw(task)
                    }
                case .enter:
                    if let suggestion = suggestion(task) {
                        history.append((try queue.answer(task, label: labels.names[suggestion.index],
                                                         seconds: monotonicSeconds() - shownAt), false))
                        summary.answered += 1
                        message = "\(task.item.id) → \(labels.names[suggestion.index]) (accepted)"
                        handled = true
                    } else {
                        message = "no suggestion for this item: press a number"
                        try draw(task)
                    }
                case .character(let c):
                    if let digit = c.wholeNumberValue, let index = LabelLoop.labelIndex(forDigit: digit, labels: labels.count) {
                        history.append((try queue.answer(task, label: labels.names[index],
                                                         seconds: monotonicSeconds() - shownAt), false))
                        summary.answered += 1
                        message = "\(task.item.id) → \(labels.names[index])"
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

    /// Keys 1–9 pick labels 1–9; 0 picks the tenth label.
    static func labelIndex(forDigit digit: Int, labels: Int) -> Int? {
        let index = digit == 0 ? 9 : digit - 1
        return index < min(labels, 10) ? index : nil
    }

    /// The key that picks label `index`, if any.
    static func key(forLabel index: Int) -> String? {
        index < 9 ? String(index + 1) : (index == 9 ? "0" : nil)
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
        let body = task.item.text ?? task.item.metaJSON ?? task.item.vector.map(LabelLoop.describe) ?? "(no content)"
        for line in wrap(body, width: min(columns, 80)).prefix(max(rows - 10, 3)) { out += line + "\n" }
        out += "\n"
        if let s = suggestion(task), let p = task.probabilities {
            let alternatives = p.indices.sorted { p[$0] > p[$1] }.dropFirst().prefix(2)
                .map { "\(labels.names[$0]) \(Int((p[$0] * 100).rounded()))%" }.joined(separator: ", ")
            out += "Suggestion: \(labels.names[s.index]) (\(Int((s.confidence * 100).rounded()))%)"
            out += alternatives.isEmpty ? "\n" : "   also: \(alternatives)\n"
        }
        out += labels.names.enumerated().compactMap { i, name in LabelLoop.key(forLabel: i).map { "[\($0)] \(name)" } }
            .joined(separator: "  ") + "\n"
        out += "Enter accept · s skip · u undo · ? help · q quit\n"
        let (done, remaining) = try queue.progress()
        let elapsed = monotonicSeconds() - started
        // The rate is this session's own pace; done and left are the round's.
        let rate = elapsed > 0 && history.count > 0 ? Double(history.count) / elapsed * 60 : 0
        let eta = rate > 0 ? "\(Int((Double(remaining) / rate).rounded(.up))) min" : "-"
        out += "done \(done) · left \(remaining) · \(Int(rate.rounded()))/min · ETA \(eta)\n"
        if !message.isEmpty { out += message + "\n" }
        message = ""
        terminal.write(out)
    }

    /// A vector as text: a shaded grid when it is a square image (e.g. 8×8
    /// pixels), else its leading values.
    static func describe(_ v: [Float]) -> String {
        let side = Int(Double(v.count).squareRoot())
        if side * side == v.count, (4...24).contains(side), let top = v.max(), top > 0, v.allSatisfy({ $0 >= 0 }) {
            let shades = Array(" .:-=+*#%@")
            var rows: [String] = []
            for r in 0..<side {
                rows.append(String((0..<side).flatMap { c -> [Character] in
                    let s = shades[min(shades.count - 1, Int(v[r * side + c] / top * Float(shades.count - 1)))]
                    return [s, s]
                }))
            }
            return "vector, \(v.count) values, drawn as \(side)×\(side):\n" + rows.joined(separator: "\n")
        }
        let shown = v.prefix(12).map { JSONValue.format(Double($0)) }.joined(separator: " ")
        return "vector, \(v.count) values: \(shown)\(v.count > 12 ? " …" : "")"
    }

    private func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if paragraph.count <= width {
                lines.append(String(paragraph))
                continue
            }
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

