import ArgumentParser
import QuorumCore
import QuorumPipeline
import QuorumReporting
import QuorumSampling

struct Round: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start, watch and close labelling rounds.",
        subcommands: [Start.self, RoundStatus.self, Close.self, Cancel.self])

    struct Start: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sample pool items and create this round's tasks.",
            discussion: """
                Picks blend strategies (default \(Blend.standard.spec)): uncertainty (the items the model is least sure of), \
                stratified (quotas over --stratify-by, or the predicted class) and random. Diversity keeps near-duplicates out \
                of a batch. Before the first model, uncertainty's share goes to stratified picks. With --auto-accept or \
                --target-error, confident items are labelled automatically and a share --audit-rate of them goes to people.
                """)
        @OptionGroup var project: ProjectOptions
        @Option(help: "How many tasks the round has (gold and audit tasks included).") var size: Int
        @Option(help: "Annotators per item (K).") var overlap = 1
        @Option(help: "Seed for every random choice.") var seed: UInt64 = 1
        @Option(help: ArgumentHelp("Auto-accept pool items whose calibrated confidence is at least P.", valueName: "P"))
        var autoAccept: Double?
        @Option(help: ArgumentHelp("Auto-accept with the lowest threshold whose estimated error is at most E.", valueName: "E"))
        var targetError: Double?
        @Option(help: ArgumentHelp("Share of auto-accepted items also sent to people as audits.", valueName: "R"))
        var auditRate = 0.05
        @Option(help: ArgumentHelp("Strategy weights, e.g. uncertainty=0.7,stratified=0.15,random=0.15, or auto (adapts each round).", valueName: "spec"))
        var blend: String?
        @Option(help: "How uncertainty is scored.") var uncertainty: UncertaintyMeasure = SamplerOptions.defaultUncertainty
        @Option(help: "How a batch is kept diverse.") var diversity: Diversity.Method = SamplerOptions.defaultDiversity
        @Option(help: ArgumentHelp("Metadata field whose values are the strata (default: the predicted class).", valueName: "field"))
        var stratifyBy: String?
        @Option(help: ArgumentHelp("Picks every stratum gets at least, when it has them.", valueName: "n"))
        var stratumFloor = 0
        @Option(help: ArgumentHelp("Gold items to mix in, as a share of --size.", valueName: "G"))
        var goldRate = 0.0
        @Option(help: ArgumentHelp("Share of tasks whose suggestion is hidden from annotators (blind mode).", valueName: "B"))
        var blindRate = 0.0
        @Option(help: ArgumentHelp("Metadata field with each item's deadline (ISO 8601); the queue serves what is due first, then the most uncertain.", valueName: "field"))
        var deadlineField: String?
        @Option(help: ArgumentHelp("A review SLA: every task is due this long after the round starts (e.g. 90m, 4h, 2d; or the metadata deadline, if earlier). The queue serves what is due first (then the most uncertain); `round status` shows what is overdue and at risk.", valueName: "duration"))
        var sla: String?
        @Option(help: ArgumentHelp("Metadata fields annotators see above each item's text, comma-separated.", valueName: "a,b"))
        var showFields: String?
        @Flag(help: "Show what the round would be (tasks, strategies, auto-accepted items) without creating it.") var dryRun = false
        @OptionGroup var output: FormatOptions

        /// A duration such as 90s, 90m, 4h, 2d or 1.5h, in seconds (a bare number is seconds); nil if it is not one.
        static func seconds(_ text: String) -> Double? {
            let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
            let trimmed = text.trimmingWhitespace()
            let unit = trimmed.last.flatMap { units[$0] }
            guard let value = Double(unit == nil ? trimmed : String(trimmed.dropLast())), value.isFinite, value > 0 else { return nil }
            return value * (unit ?? 1)
        }

        func validate() throws {
            guard size >= 1 else { throw ValidationError("--size must be at least 1.") }
            guard overlap >= 1 else { throw ValidationError("--overlap must be at least 1.") }
            if autoAccept != nil && targetError != nil {
                throw ValidationError("Give --auto-accept P or --target-error E, not both.")
            }
            if let p = autoAccept, !(p > 0 && p <= 1) { throw ValidationError("--auto-accept must be in (0, 1], e.g. 0.95.") }
            if let e = targetError, !(e > 0 && e < 1) { throw ValidationError("--target-error must be in (0, 1), e.g. 0.02.") }
            guard (0...1).contains(auditRate) else { throw ValidationError("--audit-rate must be in [0, 1], e.g. 0.05.") }
            guard stratumFloor >= 0 else { throw ValidationError("--stratum-floor must be 0 or more.") }
            guard (0...1).contains(goldRate) else { throw ValidationError("--gold-rate must be in [0, 1], e.g. 0.1.") }
            guard (0...1).contains(blindRate) else { throw ValidationError("--blind-rate must be in [0, 1], e.g. 0.2.") }
            if let sla, Self.seconds(sla) == nil { throw ValidationError("--sla: \"\(sla)\" is not a duration; write e.g. 90m, 4h or 2d.") }
            if let blend, blend != "auto" {
                do { _ = try Blend(parsing: blend) } catch { throw ValidationError("--blend: \(error.description).") }
            }
        }

        func run() throws {
            let routing: RoundService.Routing? = autoAccept.map { .threshold($0) } ?? targetError.map { .targetError($0) }
            var options = RoundService.StartOptions(size: size, overlap: overlap, seed: seed, routing: routing, auditRate: auditRate,
                                                   blend: try blend.flatMap { $0 == "auto" ? nil : try Blend(parsing: $0) } ?? .standard,
                                                   adaptive: blend == "auto",
                                                   uncertainty: uncertainty, diversity: diversity,
                                                   stratifyBy: stratifyBy, stratumFloor: stratumFloor, goldRate: goldRate,
                                                   blindRate: blindRate, deadlineField: deadlineField)
            options.sla = sla.flatMap(Self.seconds)
            options.showFields = (showFields ?? "").split(separator: ",").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
            let store = try project.open()
            let s = try RoundService.start(store: dryRun ? store.rehearsal() : store, options: options)
            output.emit(s.json) {
                let strategies = s.byStrategy.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                var text = (dryRun ? "Dry run, nothing was written. Round \(s.round) would start with" : "Round \(s.round) started:")
                    + " \(s.tasks) items × \(s.overlap) annotators (\(strategies))"
                    + (s.modelVersion.map { ", model \($0)." } ?? ", no model yet.")
                if routing != nil {
                    text += s.threshold.map { t in
                        "\nAuto-accepted \(s.autoAccepted) items at confidence ≥ \(fmt(t, 4)) (estimated error \(fmt(s.estimatedError, 4)))."
                    } ?? "\nNo threshold meets the target error: nothing was auto-accepted."
                }
                for note in s.notes { text += "\nFewer tasks than --size \(s.requested): \(note)." }
                return text
            }
        }
    }

    struct RoundStatus: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "status", abstract: "Show a round's progress.")
        @OptionGroup var project: ProjectOptions
        @Option(help: "The round (default: the open one, else the latest).") var round: Int?
        @OptionGroup var output: FormatOptions

        /// "45 min", "3 h", "2 d".
        static func duration(_ seconds: Double) -> String {
            seconds < 3600 ? "\(Int((seconds / 60).rounded(.up))) min" : seconds < 172_800 ? "\(Int((seconds / 3600).rounded())) h" : "\(Int((seconds / 86400).rounded())) d"
        }

        func run() throws {
            let s = try RoundService.status(store: try project.openForReading(), round: round)
            output.emit(s.json) {
                let strategies = s.byStrategy.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                return """
                    Round \(s.round.id) (\(s.round.status.rawValue)), model \(s.round.modelVersion ?? "none")
                    tasks:    \(s.tasks) (\(strategies)); \(s.complete) complete
                    answers:  \(s.answers) of \(s.wanted) wanted (K = \(s.round.overlap))
                    """ + (s.annotators.isEmpty ? "" : "\npeople:   " + s.annotators.map { a in
                        "\(a.name) \(a.answers)" + (a.skips + a.flags > 0 ? " (+\(a.skips) skipped, \(a.flags) flagged)" : "")
                    }.joined(separator: ", "))
                    + (s.claims.isEmpty ? "" : "\nworking:  " + s.claims.map { c in
                        "\(c.annotator) on \(TerminalText.visible(c.itemID)) (\(Int((c.secondsLeft / 60).rounded(.up))) min left on the lease)"
                    }.joined(separator: ", "))
                    + (s.withDeadline == 0 ? "" : "\ndeadlines: \(s.overdue.count) overdue, \(s.atRisk.count) due within the hour, of \(s.withDeadline) tasks with one"
                        + (s.overdue.isEmpty ? "" : "\noverdue:  " + s.overdue.prefix(5).map { "\(TerminalText.visible($0.itemID)) (\(Self.duration($0.seconds)) late)" }
                            .joined(separator: ", ") + (s.overdue.count > 5 ? ", …" : ""))
                        + (s.atRisk.isEmpty ? "" : "\nat risk:  " + s.atRisk.prefix(5).map { "\(TerminalText.visible($0.itemID)) (\(Self.duration($0.seconds)) left)" }
                            .joined(separator: ", ") + (s.atRisk.count > 5 ? ", …" : "")))
                    + Dictionary(grouping: s.picks, by: \.pick.strategy.rawValue).sorted { $0.key < $1.key }.map { strategy, picks in
                        "\n\(strategy): " + picks.prefix(5).map { "#\($0.pick.rank) \(TerminalText.visible($0.itemID)) (\(fmt($0.pick.score, 3)))" }
                            .joined(separator: ", ") + (picks.count > 5 ? ", …" : "")
                    }.joined()
            }
        }
    }

    struct Close: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Close a round: consensus, retrain, evaluate on the test items, record the metrics.")
        @OptionGroup var project: ProjectOptions
        @Option(help: "The round (default: the open one).") var round: Int?
        @Option(help: ArgumentHelp("Inverse regularisation strength of the retrained model; default: chosen by cross-validation, as `quorum train`.",
                                   valueName: "C"))
        var c: Double?
        @Option(help: "Ensemble members of the retrained model.") var members = 5
        @Option(help: "Seed for every random choice.") var seed: UInt64 = 1
        @Flag(help: "Close a round that has no answers (it retrains on the same labels and does not count toward the stopping signal).")
        var force = false

        func validate() throws {
            if let c { guard c > 0, c.isFinite else { throw ValidationError("--c must be a positive number.") } }
            guard (1...50).contains(members) else { throw ValidationError("--members must be between 1 and 50.") }
        }
        @OptionGroup var output: FormatOptions

        func run() throws {
            let s = try RoundService.close(store: try project.open(), round: round,
                                           train: .init(c: c, members: members, seed: seed), force: force)
            let m = s.metrics
            output.emit(m.json) {
                var lines = ["Round \(m.round) closed. Model \(m.modelVersion ?? "-") trained on \(m.labelled) labelled items."]
                if s.unfinishedTasks > 0 { lines.append("Note: \(s.unfinishedTasks) tasks were not complete.") }
                lines.append("answers \(m.answers) · disputes \(m.disputes) · agreement \(Report.percent(m.percentAgreement))")
                lines.append("test accuracy \(Report.percent(m.testAccuracy)) · macro F1 \(Report.percent(m.macroF1)) · ECE \(Report.fixed(m.ece))")
                lines.append("stopping signal: prediction stability κ \(Report.fixed(m.predictionStability)) · mean uncertainty \(Report.fixed(m.meanUncertainty))"
                             + (m.stop == true ? " → stop: \(m.stopReason ?? "")" : " → keep labelling"))
                return lines.joined(separator: "\n")
            }
        }
    }
}

extension UncertaintyMeasure: ExpressibleByArgument {}
extension Diversity.Method: ExpressibleByArgument {}

extension Round {
    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Withdraw an open round nobody has answered: its tasks go, its auto-accepted items return to the pool.")
        @OptionGroup var project: ProjectOptions
        @Option(help: "The round (default: the open one).") var round: Int?

        func run() throws {
            let r = try RoundService.cancel(store: try project.open(), round: round)
            print("Round \(r.id) is cancelled: its tasks are withdrawn and its items are back in the pool.")
        }
    }
}
