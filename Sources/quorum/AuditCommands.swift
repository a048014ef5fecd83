import ArgumentParser
import QuorumCore
import QuorumPipeline

struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The tamper-evident event log: every decision, automatic or human.",
        subcommands: [Verify.self, Log.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check the hash chain of the whole event log.")
        @OptionGroup var project: ProjectOptions

        func run() throws {
            let n = try AuditService.verify(store: try project.openForReading())
            print("The audit log verifies: \(n) events, every hash and link intact.")
        }
    }

    struct Log: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the event log, or one item's history.")
        @OptionGroup var project: ProjectOptions
        @Option(help: "Only this item's events.", transform: { $0.nfc }) var item: String?
        @OptionGroup var output: FormatOptions

        func run() throws {
            let events = try AuditService.log(store: try project.openForReading(), itemID: item)
            output.emit(.object([("events", .array(events.map(\.json)))])) {
                // One event per line: every field is escaped, so no id or label can forge a line.
                let v = { (s: String) in TerminalText.visible(s) }
                if events.isEmpty { return item.map { "No events for item \"\(v($0))\"." } ?? "The log is empty." }
                return events.map { e in
                    var line = "#\(e.seq) \(v(e.at)) \(v(e.event.kind))"
                    if let a = e.event.annotator { line += " by \(v(a))" }
                    if let i = e.event.itemID, item == nil { line += " item \(v(i))" }
                    if let m = e.event.modelVersion { line += " model \(v(m))" }
                    if let c = e.event.confidence { line += " confidence \(fmt(c, 3))" }
                    return line + " " + v(e.event.detailJSON)
                }.joined(separator: "\n")
            }
        }
    }
}
