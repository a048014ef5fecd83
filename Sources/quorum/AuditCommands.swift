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
            let n = try AuditService.verify(store: try project.open())
            print("The audit log verifies: \(n) events, every hash and link intact.")
        }
    }

    struct Log: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the event log, or one item's history.")
        @OptionGroup var project: ProjectOptions
        @Option(help: "Only this item's events.") var item: String?
        @OptionGroup var output: FormatOptions

        func run() throws {
            let events = try AuditService.log(store: try project.open(), itemID: item)
            output.emit(.object([("events", .array(events.map(\.json)))])) {
                if events.isEmpty { return item.map { "No events for item \"\($0)\"." } ?? "The log is empty." }
                return events.map { e in
                    var line = "#\(e.seq) \(e.at) \(e.event.kind)"
                    if let a = e.event.annotator { line += " by \(a)" }
                    if let i = e.event.itemID, item == nil { line += " item \(i)" }
                    if let m = e.event.modelVersion { line += " model \(m)" }
                    if let c = e.event.confidence { line += " confidence \(fmt(c, 3))" }
                    return line + " " + e.event.detailJSON
                }.joined(separator: "\n")
            }
        }
    }
}
