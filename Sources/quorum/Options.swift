import ArgumentParser
import Foundation
import QuorumCore
import QuorumPipeline
import QuorumStore

/// `--project DIR`, shared by every command.
struct ProjectOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The project directory (holds quorum.sqlite, or quorum.json naming a PostgreSQL database).", valueName: "dir"))
    var project: String?

    /// The directory: --project, else $QUORUM_PROJECT, else ".".
    var directory: String {
        project ?? ProcessInfo.processInfo.environment["QUORUM_PROJECT"] ?? "."
    }

    /// Opens the project for a command that changes it (upgrading its schema if needed).
    func open() throws -> any ProjectStore { try Project.open(directory) }
    /// Opens the project for a command that only reads: nothing is written to it.
    func openForReading() throws -> any ProjectStore { try Project.open(directory, readOnly: true) }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// `--format text|json`, for commands that print data.
struct FormatOptions: ParsableArguments {
    @Option(help: "Output format.")
    var format: OutputFormat = .text

    /// Prints `json` in JSON mode, or `text()` otherwise. Text goes through
    /// `TerminalText.visible` (line breaks kept): whatever user strings it
    /// holds, no control or bidi character reaches the terminal raw. Fields
    /// that could forge a line (ids, labels) are escaped where they are
    /// formatted, with `TerminalText.visible(_:)`.
    func emit(_ json: JSONValue, _ text: () throws -> String) rethrows {
        switch format {
        case .json: print(json.serialized(pretty: false))
        case .text:
            let body = TerminalText.visible(try text(), keepNewlines: true)
            print(body, terminator: body.hasSuffix("\n") ? "" : "\n")
        }
    }
}

/// Writes to standard error (the global `stderr` is not concurrency-safe).
/// Messages quote ids, labels and file content: every control and bidi
/// character but the line break is shown as a visible escape.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((TerminalText.visible(message, keepNewlines: true) + "\n").utf8))
}

func fmt(_ v: Double?, _ digits: Int = 3) -> String {
    guard let v, v.isFinite else { return "-" }
    return String(format: "%.\(digits)f", v)
}
