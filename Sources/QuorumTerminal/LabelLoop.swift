import Glibc
import QuorumCore
import QuorumLabelling

/// The interactive loop: shows one item at a time and reads single keys.
///
/// Keys: a label's key chooses it (`LabelKeys`: its own key for one-character
/// labels, else 1–9 and 0 by position) · `/` finds a label by name · Enter
/// accepts the suggestion · s skips · u undoes the last answer · f flags the
/// item with a reason · n adds a note · d toggles details · space/PgDn and
/// b/PgUp page through a long text · ? help · q or Ctrl-C quits.
///
/// Everything people wrote (texts, ids, labels, metadata, notes) is shown
/// through `TerminalText.visible` by `Screen`, and only a screenful of a long
/// text is redacted and laid out, so a draw takes bounded time.
///
/// Every answer is committed by the queue before the next item is drawn.
/// The screen fits the terminal (80×24 or larger, redrawn when resized) and
/// uses no colour when `NO_COLOR` is set.
public final class LabelLoop {
    public struct Summary: Sendable, Equatable {
        public var answered = 0
        public var skipped = 0
        public var flagged = 0
        public var undone = 0
    }

    private let queue: any LabelQueue
    let labels: LabelSet
    let keys: LabelKeys
    private let annotator: String
    let terminal: RawTerminal
    private let style: Style
    /// Answers committed in this session, newest last.
    private var history: [(id: Int64, response: Response)] = []
    private var message = ""
    private var note: String?
    private var showDetails = false
    private var details: (taskID: Int64, value: TaskDetails)?
    private var showHelp = false
    private var drawnSize = (columns: 0, rows: 0)
    /// Paging through the item's text: the first line shown, and what the last draw found.
    private var scroll = 0
    private var page = (lines: 1, more: false)
    private var summary = Summary()
    private var started = monotonicSeconds()
    /// A key typed while waiting for work, applied to the next item.
    var typedAhead: Key?
    /// Multi-label: the labels toggled on for the item on screen (the suggestion's to begin with).
    var chosen = Set<Int>()

    public init(queue: any LabelQueue, labels: LabelSet, annotator: String, terminal: RawTerminal = RawTerminal(),
                style: Style = .fromEnvironment(), detailsOpen: Bool = false) {
        self.showDetails = detailsOpen
        self.queue = queue
        self.labels = labels
        self.keys = LabelKeys(labels: labels.names)
        self.annotator = annotator
        self.terminal = terminal
        self.style = style
    }

    /// How long to wait for a key before checking the terminal's size.
    static let tick: Int32 = 250

    /// Runs until the annotator quits or no task is left.
    public func run() throws -> Summary {
        summary = Summary()
        terminal.enable()
        defer {
            try? queue.release()
            terminal.restore()
            terminal.write("\n")
        }
        started = monotonicSeconds()
        while true {
            let task: TaskView
            switch try queue.next() {
            case .task(let t): task = t
            case .finished:
                terminal.write("\u{1B}[2J\u{1B}[H")
                terminal.write("No tasks left for \(TerminalText.visible(annotator)). \(summary.answered) answered, \(summary.skipped) skipped.\n")
                return summary
            case .waiting(let until):
                if try waitForWork(until: until) { continue }
                return summary
            }
            note = nil
            scroll = 0
            chosen = task.preselected
            let shownAt = monotonicSeconds()
            try draw(task)
            var handled = false
            while !handled {
                let key: Key
                if let pending = typedAhead { key = pending; typedAhead = nil } else {
                    guard let read = terminal.readKey(timeoutMilliseconds: Self.tick) else { return summary }
                    key = read
                }
                var response: Response?
                if task.labelSets, let answer = setKey(key) {
                    switch answer {
                    case .submit: response = .label(LabelSetText.encode(chosen, labels: labels))
                    case .toggled: try draw(task); continue
                    }
                }
                switch key {
                case .idle:
                    if RawTerminal.size() != drawnSize { try draw(task) }
                    continue
                case .character("q"), .interrupt: return summary
                case .character("?"):
                    showHelp.toggle()
                case .character("d"):
                    showDetails.toggle()
                case .character(" "), .pageDown:
                    if page.more { scroll += page.lines } else { message = "end of the text" }
                case .character("b"), .pageUp:
                    scroll = max(0, scroll - page.lines)
                case .character("/"):
                    if let index = pickLabel() { response = .label(labels.names[index]) } else { message = "no label chosen" }
                case .character("n"):
                    if let text = prompt("Note (Enter saves, Esc cancels): "), !text.isEmpty { note = text; message = "note added" }
                case .character("f"):
                    if let reason = prompt("Flag for \(queue.flagTarget). Reason (Enter flags, Esc cancels): ") {
                        response = .flag(reason: reason.isEmpty ? "no reason given" : reason)
                    } else {
                        message = "not flagged"
                    }
                case .character("s"):
                    response = .skip
                case .character("u"):
                    if let last = history.popLast(), try queue.undo(answerID: last.id) {
                        summary.undone += 1
                        switch last.response {
                        case .label: summary.answered -= 1
                        case .skip: summary.skipped -= 1
                        case .flag: summary.flagged -= 1
                        }
                        message = "undone: the previous item is back"
                        handled = true
                        continue
                    }
                    message = "nothing to undo"
                case .enter:
                    if let s = task.suggestion { response = .label(s.label) } else {
                        message = task.blind ? "blind item: choose a label with its key (? for help)" : "no suggestion for this item: press a label's key"
                    }
                case .character(let c):
                    if let index = keys.label(forKey: c) {
                        response = .label(labels.names[index])
                    } else {
                        message = "unknown key \"\(c)\": press ? for help"
                    }
                default:
                    break
                }
                if let response {
                    guard let id = try queue.answer(task, response, note: note, seconds: monotonicSeconds() - shownAt) else {
                        message = "not recorded: your hold on \(task.itemID) ran out and someone else took it"
                        handled = true
                        continue
                    }
                    history.append((id, response))
                    switch response {
                    case .label(let l):
                        summary.answered += 1
                        let shown = task.labelSets ? (chosen.isEmpty ? "no labels" : chosen.sorted().map { labels.names[$0] }.joined(separator: ", ")) : l
                        message = "✓ \(task.itemID) → \(shown)"
                    case .skip:
                        summary.skipped += 1
                        message = "skipped \(task.itemID)"
                    case .flag:
                        summary.flagged += 1
                        message = "⚑ \(task.itemID) flagged for \(queue.flagTarget)"
                    }
                    handled = true
                } else {
                    try draw(task)
                }
            }
        }
    }

    enum SetKey { case toggled, submit }

    /// Multi-label keys: a label's key (or `/` and a name) toggles it, Enter
    /// submits the toggled set (possibly empty). nil for every other key.
    private func setKey(_ key: Key) -> SetKey? {
        func toggle(_ index: Int) {
            if chosen.remove(index) == nil { chosen.insert(index) }
            message = (chosen.contains(index) ? "+ " : "− ") + labels.names[index]
        }
        switch key {
        case .enter: return .submit
        case .character("/"):
            if let index = pickLabel() { toggle(index) } else { message = "no label chosen" }
            return .toggled
        case .character(let c):
            guard let index = keys.label(forKey: c) else { return nil }
            toggle(index)
            return .toggled
        default: return nil
        }
    }

    /// Shows that every open task is claimed by someone else, and polls until
    /// one comes back. Returns false when the annotator quits.
    private func waitForWork(until: Double) throws -> Bool {
        let (columns, _) = RawTerminal.size()
        let seconds = max(0, Int((until - Double(time(nil))).rounded(.up)))
        terminal.write("\u{1B}[2J\u{1B}[H" + String("Quorum · \(TerminalText.visible(annotator))".prefix(columns)) + "\n\n"
                       + "Every open task is being labelled by someone else right now.\n"
                       + "Unanswered claims come back within \(seconds) s; waiting… (q quits)\n")
        let deadline = monotonicSeconds() + 1
        while monotonicSeconds() < deadline {
            guard let key = terminal.readKey(timeoutMilliseconds: Self.tick) else { return false }
            switch key {
            case .idle: continue
            case .character("q"), .interrupt: return false
            default: typedAhead = key; return true
            }
        }
        return true
    }

    private func prompt(_ text: String) -> String? {
        let (_, rows) = RawTerminal.size()
        terminal.write("\u{1B}[\(rows);1H\u{1B}[2K")
        return terminal.readLine(prompt: text)
    }

    /// The keys line, and the help `?` shows: each line fits 80 columns.
    static let keysLine = "Enter accept  s skip  u undo  f flag  n note  d details  / find  ? help  q quit"
    static let setKeysLine = "keys toggle  Enter submit  s skip  u undo  f flag  n note  d details  ? help  q quit"
    func helpLines(labelSets: Bool = false) -> [String] {
        if labelSets {
            return ["The key in [ ] toggles its label (✓ = chosen) · / toggle a label found by name",
                    "Enter submit the chosen labels (none is an answer too) · s skip · u undo · f flag · n note",
                    "space/PgDn next page · b/PgUp previous page · d details · ? hide help · q quit"]
        }
        return [keys.ownKeys ? "Each label's own key picks it · / find a label by typing part of its name"
                      : "The key in [ ] picks its label · / find any label by typing part of its name",
         "Enter accept the suggestion · s skip · u undo · f flag · n note · d details",
         "space/PgDn next page of the text · b/PgUp previous page · ? hide help · q quit"]
    }

    private func draw(_ task: TaskView) throws {
        let size = RawTerminal.size()
        drawnSize = size
        // Only what a screenful (scrolled down `scroll` lines) can show is redacted and laid out.
        let head = task.fields.isEmpty ? "" : task.fields.joined(separator: "\n") + "\n\n"
        let shownRows = scroll + size.rows
        let fit = { (raw: String) in Screen.shownPrefix(raw, columns: size.columns, rows: shownRows) }
        let (shown, cut) = task.text.map { $0.prefix(fit) } ?? fit(task.content)
        let body = head + shown
        var suggestionLine: String?
        if task.blind {
            suggestionLine = "Suggestion hidden for this item (blind)."
        } else if let p = task.labelProbabilities {
            let likely = p.indices.filter { p[$0] > 0.5 }.sorted { p[$0] > p[$1] }
            suggestionLine = "Suggestion: " + (likely.isEmpty ? "none of the labels"
                : likely.map { "\(labels.names[$0]) \(Int((Double(p[$0]) * 100).rounded()))%" }.joined(separator: ", "))
        } else if let s = task.suggestion {
            let alternatives = s.alternatives.map { "\($0.label) \(Int(($0.confidence * 100).rounded()))%" }.joined(separator: ", ")
            suggestionLine = "Suggestion: \(s.label) (\(Int((s.confidence * 100).rounded()))%)"
                + (alternatives.isEmpty ? "" : "   also: \(alternatives)")
        }
        if showDetails, details?.taskID != task.taskID {
            details = (task.taskID, try queue.details(task))
        }
        let (done, remaining) = try queue.progress()
        let elapsed = monotonicSeconds() - started
        // The rate is this session's own pace; done and left are the round's.
        let rate = elapsed > 0 && !history.isEmpty ? Double(history.count) / elapsed * 60 : 0
        let eta = rate > 0 ? "\(Int((Double(remaining) / rate).rounded(.up))) min" : "-"
        var shownDetails = showDetails ? details?.value : nil
        if let d = shownDetails {
            shownDetails = TaskDetails(sections: d.sections.map { section in
                (section.title, section.lines.map { Screen.shownPrefix($0, columns: size.columns, rows: 1).text })
            })
        }
        var frame = Frame(
            title: "Quorum · \(annotator) · round \(task.roundID) · item \(task.itemID)",
            body: body, suggestion: suggestionLine,
            labels: keys.shown(task.labelSets ? labels.names.indices.map { (chosen.contains($0) ? "✓" : "·") + labels.names[$0] } : labels.names),
            keys: task.labelSets ? LabelLoop.setKeysLine : LabelLoop.keysLine,
            progress: "done \(done) · left \(remaining) · you \(summary.answered + summary.flagged) this session"
                + " · \(Int(rate.rounded()))/min · ETA \(eta)",
            note: note, details: shownDetails, message: message)
        frame.bodyIsCut = cut
        frame.scroll = scroll
        frame.help = showHelp ? helpLines(labelSets: task.labelSets) : []
        message = ""
        let laid = Screen.page(frame, columns: size.columns, rows: size.rows, style: style)
        scroll = laid.scroll
        page = (laid.pageLines, laid.more)
        terminal.write("\u{1B}[2J\u{1B}[H" + laid.lines.joined(separator: "\r\n"))
    }
}
