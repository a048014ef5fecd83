import ArgumentParser
import QuorumCore
import QuorumLabelling
import QuorumPipeline
import QuorumTerminal

struct Label: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Label your open tasks: interactively, or from a file with --answers.",
        discussion: """
            Interactive keys: 1-9 choose a label · Enter accepts the suggestion · s skip · u undo · f flag (with a reason) · \
            n note · d details (nearest labelled examples, strongest features) · ? help · q quit. \
            Every answer is saved before the next item appears. Each item you are shown is held for you for --lease seconds; \
            if you leave, it returns to the queue when the lease runs out. With --answers FILE (JSONL or CSV with id and label), \
            your open tasks whose item is in FILE are answered and the rest are left.
            """)
    @OptionGroup var project: ProjectOptions
    @Option(help: "Your name, as the lead registered it.") var annotator: String
    @Option(help: "The round (default: the open one).") var round: Int?
    @Option(help: "Answer from this file instead of interactively.") var answers: String?
    @Option(help: ArgumentHelp("How long an item shown to you is held for you, in seconds.", valueName: "seconds"))
    var lease = LabellingService.defaultLease
    @OptionGroup var output: FormatOptions

    func validate() throws {
        guard LabellingService.leaseRange.contains(lease) else {
            throw ValidationError("--lease must be a number of seconds from 1 to 86400 (one day), e.g. 600.")
        }
    }

    func run() throws {
        let store = try project.open()
        if let answers {
            let s = try LabellingService.answerFromFile(store: store, annotator: annotator, round: round, path: answers)
            output.emit(s.json) {
                "\(s.annotator): \(s.answered) answers recorded in round \(s.round); \(s.remaining) of your tasks remain"
                    + (s.notOpen > 0 ? " (\(s.notOpen) lines were not among your open tasks)." : ".")
            }
            return
        }
        try AnnotatorService.checkMayLabel(store: store, name: annotator)
        guard RawTerminal.isInteractive else {
            throw QuorumError(.badInput, "the interactive loop needs a terminal",
                              hint: "run it in a terminal, or pass --answers FILE")
        }
        let session = try LabellingService.session(store: store, annotator: annotator, round: round, lease: lease)
        let s = try LabelLoop(queue: session, labels: session.service.labels, annotator: annotator).run()
        print("\(annotator): \(s.answered) answered, \(s.skipped) skipped, \(s.flagged) flagged, \(s.undone) undone.")
    }
}

struct Adjudicate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Settle disputed items (adjudicators only): interactively, or from a file with --answers.",
        discussion: "A ruling outranks every vote. With --answers FILE ({\"id\": …, \"label\": …} per line), the disputed items in FILE are settled and the rest left; a line {\"id\": …, \"escalate\": reason} sends the item to the lead instead (`quorum incidents`). Interactively, a label's key rules, f escalates to the lead with a reason, s passes, u undoes the last ruling or escalation.")
    @OptionGroup var project: ProjectOptions
    @Option(help: "Your name; you need the adjudicator role.") var annotator: String
    @Option(help: "Settle from this file instead of interactively.") var answers: String?
    @OptionGroup var output: FormatOptions

    func run() throws {
        let store = try project.open()
        if let answers {
            let s = try AdjudicationService.fromFile(store: store, adjudicator: annotator, path: answers)
            output.emit(s.json) {
                "\(s.adjudicator) settled \(s.settled) disputes\(s.escalated > 0 ? ", escalated \(s.escalated) to the lead" : ""); \(s.remaining) remain"
                    + (s.notDisputed > 0 ? " (\(s.notDisputed) lines were not open disputes)." : ".")
            }
            return
        }
        try AdjudicationService.checkAdjudicator(store: store, name: annotator)
        guard RawTerminal.isInteractive else {
            throw QuorumError(.badInput, "the interactive loop needs a terminal", hint: "run it in a terminal, or pass --answers FILE")
        }
        let session = try AdjudicationService.session(store: store, adjudicator: annotator)
        let s = try LabelLoop(queue: session, labels: session.labels, annotator: annotator, detailsOpen: true).run()
        print("\(annotator): \(s.answered) disputes settled, \(s.flagged) escalated to the lead, \(s.skipped) skipped, \(s.undone) undone.")
    }
}

struct Redact: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Patterns hidden from annotators, on top of e-mails, phone numbers and card numbers.",
        subcommands: [Add.self, Remove.self, List.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a regular expression (ICU syntax); matches show as [redacted].")
        @OptionGroup var project: ProjectOptions
        @Argument(help: "The pattern, e.g. 'ACC-\\d{6}'.") var pattern: String
        func run() throws {
            let all = try RedactionService.add(store: try project.open(), pattern: pattern)
            print("\(all.count) custom redaction pattern\(all.count == 1 ? "" : "s").")
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a pattern.")
        @OptionGroup var project: ProjectOptions
        @Argument(help: "The pattern, as listed.") var pattern: String
        func run() throws {
            let all = try RedactionService.remove(store: try project.open(), pattern: pattern)
            print("\(all.count) custom redaction pattern\(all.count == 1 ? "" : "s") left.")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the built-in rules and the project's patterns.")
        @OptionGroup var project: ProjectOptions
        @OptionGroup var output: FormatOptions
        func run() throws {
            let all = try RedactionService.patterns(store: try project.openForReading())
            output.emit(.object([("builtin", .array(["email", "phone", "card"].map { .string($0) })),
                                 ("patterns", .array(all.map { .string($0) }))])) {
                "Built in: e-mail addresses, phone numbers, card numbers (Luhn-checked).\n"
                    + (all.isEmpty ? "No custom patterns." : all.map { "  \($0)" }.joined(separator: "\n"))
            }
        }
    }
}
