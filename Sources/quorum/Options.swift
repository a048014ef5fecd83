import ArgumentParser
import Foundation
import QuorumCore
import QuorumPipeline
import QuorumStore

/// `--project DIR`, shared by every command.
struct ProjectOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The project directory (holds quorum.sqlite).", valueName: "dir"))
    var project: String?

    /// The directory: --project, else $QUORUM_PROJECT, else ".".
    var directory: String {
        project ?? ProcessInfo.processInfo.environment["QUORUM_PROJECT"] ?? "."
    }

    func open() throws -> any ProjectStore { try Project.open(directory) }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// `--format text|json`, for commands that print data.
struct FormatOptions: ParsableArguments {
    @Option(help: "Output format.")
    var format: OutputFormat = .text

    /// Prints `json` in JSON mode, or `text()` otherwise.
    func emit(_ json: JSONValue, _ text: () -> String) {
        switch format {
        case .json: print(json.serialized(pretty: false))
        case .text: print(text(), terminator: text().hasSuffix("\n") ? "" : "\n")
        }
    }
}

/// Writes to standard error (the global `stderr` is not concurrency-safe).
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

func fmt(_ v: Double?, _ digits: Int = 3) -> String {
    guard let v, v.isFinite else { return "-" }
    return String(format: "%.\(digits)f", v)
}
