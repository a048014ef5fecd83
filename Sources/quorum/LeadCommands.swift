import ArgumentParser
import Foundation
import Glibc
import QuorumCore
import QuorumImport
import QuorumPipeline
import QuorumReporting

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create a project. Refuses to overwrite one.")

    @OptionGroup var project: ProjectOptions
    @Option(help: ArgumentHelp("The labels, comma-separated, in key order (key 1 = first). Not for --task preference (always a, b, tie).", valueName: "A,B,C"))
    var labels: String?
    @Option(help: "A name for the project (default: the directory's name).")
    var name: String?
    @Flag(help: "The labels are a scale in the order given (e.g. 1,2,3,4,5): agreement adds ordinal and interval Krippendorff's α.")
    var ordered = false
    @Option(help: ArgumentHelp("Keep the data in this (empty) PostgreSQL database instead of DIR/quorum.sqlite; DIR gets a quorum.json naming it. The password comes from PGPASSWORD or ~/.pgpass.",
                               valueName: "postgresql://user@host:port/dbname"))
    var database: String?
    @Option(help: "What an answer is: one label (single), a set of labels, possibly empty (multi-label), or which of two responses is better: a, b or tie (preference).")
    var task: TaskType = .single
    @OptionGroup var output: FormatOptions

    func validate() throws {
        guard labels != nil || task == .preference else {
            throw ValidationError("Missing expected argument '--labels <A,B,C>' (a preference project alone has fixed labels: a, b, tie)")
        }
    }

    func run() throws {
        let dir = project.directory
        let projectName = name ?? URL(fileURLWithPath: dir).standardizedFileURL.lastPathComponent
        let info = try Project.create(dir, name: projectName, labels: labels.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) } ?? [],
                                      ordered: ordered, task: task, database: database)
        let location = try Project.location(dir)
        let where_: String = switch location {
        case .sqlite: dir
        case .postgres(let url): "\(dir) (data in \(url))"
        }
        var fields: [(String, JSONValue)] = [("project", .string(info.name)), ("labels", .array(info.labels.names.map { .string($0) })),
                                             ("ordered", .bool(info.ordered)), ("task", .string(info.task.rawValue))]
        if case .postgres(let url) = location { fields.append(("database", .string(url))) }
        output.emit(.object(fields)) {
            "Created \(info.task == .single ? "" : info.task.rawValue + " ")project \"\(info.name)\" in \(where_) with \(info.ordered ? "ordered " : "")labels: \(info.labels.names.joined(separator: ", "))"
        }
    }
}

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import items from a JSONL or CSV file (all or nothing).",
        discussion: "Duplicates (same id, same content) are skipped and counted. On any bad line nothing is imported, and the error reads FILE:LINE: field: problem.")

    @OptionGroup var project: ProjectOptions
    @Argument(help: "A .jsonl or .csv file.") var file: String
    @Option(name: .customLong("as"), help: "What the items are.") var kind: ItemKind = .pool
    @Option(help: "The id field (ids are derived from content when the file has none).") var idField = "id"
    @Option(help: "The text field (default: text, or prompt in a preference project, whose items also carry a and b).")
    var textField: String?
    @Option(help: "The vector field; in CSV, `p*` takes every column p0, p1, ….") var vectorField = "vector"
    @Option(help: "The label field (read for seed, test and gold; default: label, or labels in a multi-label project).")
    var labelField: String?
    @Option(help: ArgumentHelp("Metadata fields to keep, comma-separated (default: every other field).", valueName: "a,b"))
    var metaFields: String?
    @OptionGroup var output: FormatOptions

    func run() throws {
        let store = try project.open()
        let task = try store.read { try $0.project().task }
        let mapping = FieldMapping(idField: idField, textField: textField ?? task.textField, vectorField: vectorField,
                                   labelField: labelField ?? task.labelField,
                                   metaFields: metaFields.map { $0.split(separator: ",").map(String.init) })
        let showProgress = isatty(2) == 1
        let summary = try ImportService.run(store: store, path: file, options: .init(kind: kind, mapping: mapping)) { bytes, total, items in
            guard showProgress else { return }
            let percent = total > 0 ? 100 * bytes / total : 100
            FileHandle.standardError.write(Data("\rimporting \(TerminalText.visible(file)): \(percent)% · \(items) items".utf8))
        }
        if showProgress { FileHandle.standardError.write(Data("\n".utf8)) }
        output.emit(summary.json) {
            "Imported \(summary.inserted) \(kind.rawValue) items from \(file) in \(fmt(summary.seconds, 2)) s"
                + " (\(summary.duplicates) duplicates skipped, \(summary.contentDuplicates) content duplicates linked)."
        }
    }
}

extension ItemKind: ExpressibleByArgument {}
extension TaskType: ExpressibleByArgument {}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Counts of items by kind, open tasks, rounds and snapshots.")
    @OptionGroup var project: ProjectOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
        let (counts, task) = try Project.status(try project.openForReading())
        output.emit(Project.statusJSON(counts, task: task)) {
            let items = ItemKind.allCases.map { "\($0.rawValue) \(counts.items[$0] ?? 0)" }.joined(separator: " · ")
            return """
                task:       \(task.rawValue)
                items:      \(items)
                open tasks: \(counts.openTasks)
                answers:    \(counts.answers) (consensus labels: \(counts.consensus))
                rounds:     \(counts.rounds)
                snapshots:  \(counts.snapshots)
                """
        }
    }
}

struct Consensus: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Aggregate answers into consensus labels and list disputes.",
        discussion: """
            Methods: majority (a tie is a dispute); weighted (majority weighted by each annotator's \
            log-odds of being right on gold items); dawid-skene (EM over per-annotator confusion \
            matrices); model-aware (CROWDLAB: the live model votes as one more weighted annotator). \
            An item is a dispute when its posterior is below --dispute-below or no label is uniquely \
            most probable. With --extra-annotator-below P, items of the open round whose posterior is \
            below P first go to one more annotator; only then can they become disputes for `quorum adjudicate`. \
            Adjudicators' rulings outrank every method. The method and thresholds you choose here are \
            remembered: `round close`, adjudication and a bare `quorum consensus` aggregate the same way.
            """)
    @OptionGroup var project: ProjectOptions
    @Option(help: "How answers are aggregated: majority, weighted, dawid-skene or model-aware (default: the project's last choice, else majority).")
    var method: ConsensusService.Method?
    @Option(help: ArgumentHelp("Posterior below which an item is a dispute (default: 0 for majority, 0.5 for the others).",
                               valueName: "P"))
    var disputeBelow: Double?
    @Option(help: ArgumentHelp("Ask one more annotator for items of the open round whose posterior is below P.", valueName: "P"))
    var extraAnnotatorBelow: Double?
    @Flag(help: "Preview: aggregate and show the result without saving the settings, consensus, extra tasks or events.") var dryRun = false
    @OptionGroup var output: FormatOptions

    func validate() throws {
        if let p = disputeBelow, !(0...1).contains(p) {
            throw ValidationError("--dispute-below must be a probability in [0, 1], e.g. 0.5.")
        }
        if let p = extraAnnotatorBelow, !(0...1).contains(p) {
            throw ValidationError("--extra-annotator-below must be a probability in [0, 1], e.g. 0.7.")
        }
    }

    func run() throws {
        let store = try project.open()
        // With no options, the project's remembered settings; with any, the options given
        // (defaults for the rest) become the settings.
        let settings = method == nil && disputeBelow == nil && extraAnnotatorBelow == nil
            ? try ConsensusService.settings(store: store)
            : ConsensusService.Settings(method: method ?? .majority, disputeBelow: disputeBelow, extraAnnotatorBelow: extraAnnotatorBelow)
        let summary = try ConsensusService.run(store: dryRun ? store.rehearsal() : store, settings: settings)
        if dryRun, output.format == .text { print("Dry run, nothing was written.") }
        output.emit(summary.json) {
            var lines = ["\(summary.items) items aggregated by \(summary.method.rawValue): \(summary.labels.count) settled, "
                         + "\(summary.disputes.count) disputes ("
                         + (summary.disputeBelow > 0 ? "posterior below \(summary.disputeBelow) or no unique top label)." : "no unique top label).")]
            if let agreement = summary.percentAgreement { lines.append("Pairwise agreement: \(Report.percent(agreement)).") }
            if let weight = summary.modelWeight { lines.append("Model weight: \(Report.fixed(weight)).") }
            for q in summary.annotators {
                var line = "  \(q.annotator): estimated accuracy \(Report.percent(q.accuracy)) over \(q.answers) answers"
                if let weight = q.weight { line += ", weight \(Report.fixed(weight))" }
                if let gold = q.goldAnswers, let basis = q.weightBasis { line += " (\(gold) gold answers; weight from \(basis))" }
                lines.append(line)
            }
            for note in summary.notes { lines.append("Note: \(note).") }
            if !summary.awaitingAnotherAnnotator.isEmpty {
                lines.append("\(summary.awaitingAnotherAnnotator.count) unsure items wait for one more annotator.")
            }
            if !summary.disputes.isEmpty {
                lines.append("Disputes: " + summary.disputes.prefix(20).joined(separator: ", ") + (summary.disputes.count > 20 ? ", …" : ""))
            }
            return lines.joined(separator: "\n")
        }
    }
}

extension ConsensusService.Method: ExpressibleByArgument {}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Per-round metrics: what each round of labelling bought.",
        discussion: "--format html writes one self-contained page with charts (the learning curve, agreement per round); use --out FILE.")
    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json, html }

    @OptionGroup var project: ProjectOptions
    @Option(help: "Output format: text, json or html.") var format: Format = .text
    @Option(help: "Write to this file instead of standard output.") var out: String?
    @Flag(help: "Replace --out if it exists.") var force = false

    func run() throws {
        let store = try project.openForReading()
        let document: String
        switch format {
        case .json:
            document = try ReportService.json(store: store).serialized() + "\n"
        case .html:
            document = HTMLReport.page(try ReportService.document(store: store))
        case .text:
            let rounds = try ReportService.rounds(store: store)
            let shadow = try ReportService.shadowComparison(store: store)
            let agreement = try ReportService.agreement(store: store)
            let baseline = try ReportService.baseline(store: store)
            var text = Report.text(rounds, agreement: agreement, baseline: baseline)
            if let s = shadow {
                text += "\nShadow model \(s.shadow) against live \(s.live): agree on \(Report.percent(s.agreement)) of \(s.compared) items"
                    + " (\(s.differing.count) differ); test accuracy \(Report.percent(s.shadowTestAccuracy)) vs \(Report.percent(s.liveTestAccuracy))."
                if !s.differing.isEmpty { text += "\nDiffering: " + s.differing.prefix(10).joined(separator: ", ") + (s.differing.count > 10 ? ", …" : "") }
            }
            document = text.hasSuffix("\n") ? text : text + "\n"
        }
        guard let out else {
            print(format == .json ? document : TerminalText.visible(document, keepNewlines: true), terminator: "")
            return
        }
        try OutputFile.write(document, to: out, what: "report", force: force, project: project.directory)
        printError("Wrote \(TerminalText.visible(out)).")
    }
}

struct Upgrade: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bring a project made by an older Quorum up to this version's schema (read-only commands never do).")
    @OptionGroup var project: ProjectOptions

    func run() throws {
        _ = try project.open()
        print("The project is up to date with this Quorum's schema.")
    }
}

struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Move a SQLite project into an empty PostgreSQL database, audit chain and snapshots verified on both sides.",
        discussion: """
            Every table is copied as it is, in one PostgreSQL transaction. Then the copy is checked: the same \
            rows in every table, `audit verify` passing on both sides with the same chain head, and every \
            snapshot verifying on both. Only then does the project directory get a quorum.json naming the \
            database, so that every later command uses PostgreSQL; quorum.sqlite is left untouched. Stop \
            `label` and `serve` on the project first. The password comes from PGPASSWORD or ~/.pgpass.
            """)
    @OptionGroup var project: ProjectOptions
    @Option(help: ArgumentHelp("The empty PostgreSQL database to move the project into.", valueName: "postgresql://user@host:port/dbname"))
    var to: String
    @Flag(help: "Copy and verify, but leave the project directory on SQLite.")
    var copyOnly = false
    @OptionGroup var output: FormatOptions

    func run() throws {
        let showProgress = isatty(2) == 1
        let summary = try MigrateService.run(directory: project.directory, to: to, copyOnly: copyOnly) { table, done, total in
            guard showProgress else { return }
            FileHandle.standardError.write(Data("\r\u{1B}[Kcopying \(table): \(done) of \(total) rows".utf8))
        }
        if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        output.emit(summary.json) {
            let rows = summary.tables.filter { $0.rows > 0 }.map { "\($0.table) \($0.rows)" }.joined(separator: " · ")
            return """
            Copied into \(summary.url): \(rows)
            Verified on both sides: the audit chain of \(summary.events) events\(summary.snapshots.isEmpty ? "" : " and snapshots \(summary.snapshots.joined(separator: ", "))").
            \(summary.switched ? "The project now uses PostgreSQL (\(Project.configFileName) names the database); quorum.sqlite is kept as it was." : "The project still uses SQLite (--copy-only).")
            """
        }
    }
}
