import ArgumentParser
import QuorumCore
import QuorumPipeline
import QuorumReporting

struct Annotators: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Who may label and adjudicate, with each person's scorecard.",
                                                    subcommands: [Add.self, List.self, PolicyCommand.self, Token.self])

    struct Token: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace a person's API token: the new one is shown once, the old one stops working.")
        @OptionGroup var project: ProjectOptions
        @Argument(help: "The person.") var name: String
        @Flag(help: "Issue a new token (required: tokens are never shown again).") var rotate = false
        @OptionGroup var output: FormatOptions

        func validate() throws {
            guard rotate else { throw ValidationError("Tokens are stored only as hashes and cannot be shown again; pass --rotate for a new one.") }
        }

        func run() throws {
            let token = try AnnotatorService.rotateToken(store: try project.open(), name: name)
            output.emit(.object([("annotator", .string(name)), ("token", .string(token))])) {
                "New API token for \(name): \(token)\nIt is shown once, here; the old token no longer works."
            }
        }
    }

    struct PolicyCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "policy",
            abstract: "Who may label: registered (only people added with `annotators add`; the default) or open (anyone who gives a name).")
        @OptionGroup var project: ProjectOptions
        @Argument(help: "registered or open.") var policy: AnnotatorService.Policy

        func run() throws {
            try AnnotatorService.setPolicy(store: try project.open(), policy)
            print(policy == .open ? "Anyone who gives a name may now label." : "Only registered people may now label.")
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a person, or change their role.")
        @OptionGroup var project: ProjectOptions
        @Argument(help: "Their name, as they will pass it to --annotator.") var name: String
        @Option(help: "What they may do: annotator, adjudicator or lead.") var role: AnnotatorService.Role = .annotator
        @OptionGroup var output: FormatOptions

        func run() throws {
            let token = try AnnotatorService.add(store: try project.open(), name: name, role: role)
            output.emit(.object([("annotator", .string(name)), ("role", .string(role.rawValue)), ("token", .text(token))])) {
                "\(name) is registered as \(role == .annotator ? "an" : "a") \(role.rawValue)."
                    + (token.map { "\nAPI token for `quorum serve`: \($0)\nIt is shown once, here: only its hash is stored. Rotate it with `quorum annotators token \(name) --rotate`." } ?? "")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Everyone, with answers, gold accuracy, agreement with consensus, override rate, wrong suggestions accepted on gold, agreement with the model where its suggestion was shown and where it was hidden (blind), and median time.")
        @OptionGroup var project: ProjectOptions
        @OptionGroup var output: FormatOptions

        func run() throws {
            let cards = try AnnotatorService.list(store: try project.openForReading())
            output.emit(.object([("annotators", .array(cards.map(\.json)))])) {
                guard !cards.isEmpty else { return "Nobody yet. Add people with `quorum annotators add NAME`." }
                var lines = ["name          role         answers  gold acc  agree  override  trap fell  =model shown/blind  median s"]
                for c in cards {
                    lines.append([c.name.padding(13), c.role.padding(11), String(c.answers).padding(8, left: true),
                                  Report.percent(c.goldAccuracy).padding(9, left: true), Report.percent(c.consensusAgreement).padding(6, left: true),
                                  Report.percent(c.overrideRate).padding(9, left: true), Report.percent(c.wrongSuggestionsAccepted).padding(10, left: true),
                                  (Report.percent(c.agreementWithSuggestionShown) + " / " + Report.percent(c.agreementWithModelBlind)).padding(19, left: true),
                                  fmt(c.medianSeconds, 1).padding(9, left: true)].joined(separator: " "))
                }
                return lines.joined(separator: "\n")
            }
        }
    }
}

extension AnnotatorService.Role: ExpressibleByArgument {}

extension AnnotatorService.Policy: ExpressibleByArgument {}
