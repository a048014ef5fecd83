import ArgumentParser
import Foundation
import QuorumCore
import QuorumPipeline
import QuorumReporting

// Running labelling as an operation: KPI checks and thresholds, drift, and the lead's incident queue.

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a round's KPIs against their thresholds; exit 1 on any breach (for a scheduled job).",
        discussion: """
            Measures the last closed round's KPIs (or --round R's) and compares each with its threshold: \
            the defaults (escalation_rate ≤ 0.2, override_rate ≤ 0.3, correction_rate ≤ 0.3, \
            audit_pass_rate ≥ 0.9, sla_met_rate ≥ 0.9, ece ≤ 0.1), or what the lead set with \
            `quorum settings set kpi.NAME.max|min VALUE`. Drift (pool items imported since the model) is \
            flagged by its sample-size-aware alarm (see `quorum drift`) unless kpi.drift_psi.max is set. \
            A KPI that does not apply is not checked.
            """)
    @OptionGroup var project: ProjectOptions
    @Option(help: "The round to check (default: the last closed one).") var round: Int?
    @OptionGroup var output: FormatOptions

    func run() throws {
        let store = try project.openForReading()
        let (round, kpis, breaches) = try KPIService.check(store: store, round: round)
        output.emit(.object([("round", .int(round)), ("kpis", kpis.json), ("breaches", .array(breaches.map(\.json)))])) {
            breaches.isEmpty ? "Round \(round): every KPI within its threshold."
                : "Round \(round): \(breaches.count) KPI\(breaches.count == 1 ? "" : "s") out of bounds:\n" + breaches.map { "  " + $0.text }.joined(separator: "\n")
        }
        if !breaches.isEmpty { throw ExitCode(1) }
    }
}

struct SettingsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settings", abstract: "The lead's project settings: KPI thresholds (kpi.NAME.max|min).",
        subcommands: [Set.self, List.self])

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set a KPI threshold, e.g. `quorum settings set kpi.override_rate.max 0.3`.")
        @OptionGroup var project: ProjectOptions
        @Argument(help: "kpi.NAME.max or kpi.NAME.min, NAME one of the report's KPIs.") var key: String
        @Argument(help: "A number.") var value: String

        func run() throws {
            guard let (kpi, bound) = KPIThreshold.parse(key: key) else {
                throw QuorumError(.badInput, "\"\(TerminalText.visible(key))\" is not a setting Quorum knows",
                                  hint: "use kpi.NAME.max or kpi.NAME.min, NAME one of: \(RoundKPIs.names.joined(separator: ", "))")
            }
            guard let number = Double(value), number.isFinite else {
                throw QuorumError(.badInput, "\(key): \"\(TerminalText.visible(value))\" is not a number", hint: "give a number, e.g. 0.3")
            }
            let store = try project.open()
            try store.write { w in
                try w.setSetting(key, String(number))
                try w.appendEvent(EventRecord(kind: "settings", detailJSON: JSONValue.object([("key", .string(key)), ("value", .double(number))]).serialized()))
            }
            print("\(kpi) \(bound == .max ? "at most" : "at least") \(number) (\(key)).")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The KPI thresholds in force, set or default.")
        @OptionGroup var project: ProjectOptions
        @OptionGroup var output: FormatOptions

        func run() throws {
            let store = try project.openForReading()
            let (thresholds, set) = try store.read { r -> ([KPIThreshold], [String]) in
                let all = try KPIService.thresholds(r)
                return (all, try all.map(\.settingKey).filter { try r.setting($0) != nil })
            }
            output.emit(.object(thresholds.map { ($0.settingKey, .double($0.value)) })) {
                thresholds.map { "\($0.settingKey) = \($0.value)\(set.contains($0.settingKey) ? "" : " (default)")" }.joined(separator: "\n")
            }
        }
    }
}

struct Drift: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Has the pool drifted from what the live model learned from? PSI of its predicted classes, sample-size aware.",
        discussion: """
            Compares the live model's predicted classes on the pool items imported since it scored the pool \
            with its predicted classes on the labelled items (population stability index). The alarm is raised \
            only when the PSI exceeds what random splits of the labelled items into the same sizes reach 1 time \
            in 100 (and is at least 0.1). Without new items, shows the last comparison recorded (at an import \
            of pool items or a round close).
            """)
    @OptionGroup var project: ProjectOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
        let store = try project.openForReading()
        let drift = try store.read { r in try DriftService.measure(r) ?? DriftService.latest(r) }
        guard let drift else {
            throw QuorumError(.state, "nothing to compare yet: drift needs a trained model, labelled items and pool items imported after it",
                              hint: "run `quorum train`, then import new pool items")
        }
        output.emit(drift.json) {
            var lines = ["PSI \(fmt(drift.psi, 3)) between \(drift.currentItems) new pool items and \(drift.referenceItems) reference items"
                + " (alarm above \(fmt(drift.threshold, 3)) at these sizes): "
                + (drift.alarm ? "DRIFT: the pool has moved away from what the model learned from" : "no drift")
                + (drift.at.map { " (recorded \($0))" } ?? "")]
            guard !drift.classes.isEmpty else { return lines.joined(separator: "\n") }
            let width = max(15, min(24, drift.classes.map { TerminalText.visible($0.label).count }.max() ?? 5))
            func pad(_ s: String, _ w: Int, left: Bool = false) -> String {
                left ? s + String(repeating: " ", count: max(0, w - s.count)) : String(repeating: " ", count: max(0, w - s.count)) + s
            }
            lines.append(pad("predicted class", width, left: true) + "  reference      new    PSI term")
            let shares = { (n: Int, total: Int) in total == 0 ? "-" : fmt(100 * Double(n) / Double(total), 1) + "%" }
            for c in drift.classes.sorted(by: { $0.psi > $1.psi }) {
                lines.append(pad(String(TerminalText.visible(c.label).prefix(width)), width, left: true) + "  "
                             + pad(shares(c.reference, drift.referenceItems), 9) + pad(shares(c.current, drift.currentItems), 9)
                             + pad(fmt(c.psi, 4), 12))
            }
            return lines.joined(separator: "\n")
        }
    }
}

struct Incidents: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The lead's queue: disputes an adjudicator escalated (adjudicate --answers with {\"id\", \"escalate\": reason}).",
        subcommands: [List.self, Resolve.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open incidents, oldest first, with everyone's answers.")
        @OptionGroup var project: ProjectOptions
        @OptionGroup var output: FormatOptions

        func run() throws {
            let incidents = try project.openForReading().read { try IncidentService.open($0) }
            output.emit(.object([("incidents", .array(incidents.map(\.json)))])) {
                incidents.isEmpty ? "No open incidents."
                    : incidents.map { i in
                        "\(TerminalText.visible(i.itemID)): escalated by \(i.escalatedBy) at \(i.at): \(TerminalText.visible(i.reason))\n  answers: "
                            + i.answers.map { "\($0.annotator) \(TerminalText.visible($0.label ?? "(none)"))" }.joined(separator: ", ")
                    }.joined(separator: "\n")
            }
        }
    }

    struct Resolve: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rule on an escalated item (the lead role only); the ruling outranks every vote.")
        @OptionGroup var project: ProjectOptions
        @Argument(help: "The item's id.") var id: String
        @Option(help: "The label.") var label: String
        @Option(help: "Your name; you need the lead role.") var annotator: String
        @Option(help: "A note for the audit log.") var note: String?

        func run() throws {
            try IncidentService.resolve(store: try project.open(), lead: annotator, itemID: id, label: label, note: note)
            print("\(TerminalText.visible(id)): \(TerminalText.visible(label)), ruled by \(annotator).")
        }
    }
}
