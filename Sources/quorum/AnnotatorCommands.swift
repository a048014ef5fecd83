import ArgumentParser
import QuorumCore
import QuorumLabelling
import QuorumPipeline

struct Label: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Label your open tasks: interactively, or from a file with --answers.",
        discussion: """
            Interactive keys: 1-9 choose a label · Enter accepts the suggestion · s skip · u undo · ? help · q quit. \
            Every answer is saved before the next item appears. With --answers FILE (JSONL or CSV with id and label), \
            your open tasks whose item is in FILE are answered and the rest are left.
            """)
    @OptionGroup var project: ProjectOptions
    @Option(help: "Your name, as the lead registered it.") var annotator: String
    @Option(help: "The round (default: the open one).") var round: Int?
    @Option(help: "Answer from this file instead of interactively.") var answers: String?
    @OptionGroup var output: FormatOptions

    func run() throws {
        let store = try project.open()
        if let answers {
            let s = try LabelService.answerFromFile(store: store, annotator: annotator, round: round, path: answers)
            output.emit(s.json) {
                "\(s.annotator): \(s.answered) answers recorded in round \(s.round); \(s.remaining) of your tasks remain"
                    + (s.notOpen > 0 ? " (\(s.notOpen) lines were not among your open tasks)." : ".")
            }
            return
        }
        guard RawTerminal.isInteractive else {
            throw QuorumError(.badInput, "the interactive loop needs a terminal",
                              hint: "run it in a terminal, or pass --answers FILE")
        }
        let s = try LabelService.interactive(store: store, annotator: annotator, round: round)
        print("\(annotator): \(s.answered) answered, \(s.skipped) skipped, \(s.undone) undone.")
    }
}

struct Adjudicate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Settle disputed items (adjudicators only): interactively, or from a file with --answers.",
        discussion: "A ruling outranks every vote. With --answers FILE ({\"id\": …, \"label\": …} per line), the disputed items in FILE are settled and the rest left.")
    @OptionGroup var project: ProjectOptions
    @Option(help: "Your name; you need the adjudicator role.") var annotator: String
    @Option(help: "Settle from this file instead of interactively.") var answers: String?
    @OptionGroup var output: FormatOptions

    func run() throws {
        let store = try project.open()
        if let answers {
            let s = try AdjudicationService.fromFile(store: store, adjudicator: annotator, path: answers)
            output.emit(s.json) {
                "\(s.adjudicator) settled \(s.settled) disputes; \(s.remaining) remain"
                    + (s.notDisputed > 0 ? " (\(s.notDisputed) lines were not open disputes)." : ".")
            }
            return
        }
        guard RawTerminal.isInteractive else {
            throw QuorumError(.badInput, "the interactive loop needs a terminal", hint: "run it in a terminal, or pass --answers FILE")
        }
        let s = try AdjudicationService.interactive(store: store, adjudicator: annotator)
        print("\(annotator): \(s.answered) disputes settled, \(s.skipped) skipped, \(s.undone) undone.")
    }
}
