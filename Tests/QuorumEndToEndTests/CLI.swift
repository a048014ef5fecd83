import Foundation

/// Runs the built `quorum` binary against a temporary project, the way a user would.
struct CLI {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The project directory (deleted by `cleanUp`).
    let project: String
    /// The PostgreSQL database `init` puts the project in (`init --database`), or nil for SQLite.
    let database: String?

    init(database: String? = nil) {
        project = FileManager.default.temporaryDirectory.appendingPathComponent("quorum-e2e-\(UUID().uuidString)").path
        self.database = database
        try? FileManager.default.createDirectory(atPath: project, withIntermediateDirectories: true)
    }

    func cleanUp() { try? FileManager.default.removeItem(atPath: project) }

    /// The binary: $QUORUM_BIN, else `quorum` next to the test bundle (SwiftPM builds it first).
    static let binary: String = {
        if let path = ProcessInfo.processInfo.environment["QUORUM_BIN"] { return path }
        var dir = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<3 {
            let candidate = dir.appendingPathComponent("quorum").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/quorum").path
    }()

    /// Runs `quorum ARGS --project DIR`.
    @discardableResult
    func run(_ args: [String], stdin: String? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        let placed = args.first == "init" ? database.map { ["--database", $0] } ?? [] : []
        process.arguments = args + placed + ["--project", project]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes to the end before waiting, so a chatty command cannot block.
        let group = DispatchGroup()
        nonisolated(unsafe) var errData = Data()
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Runs a command that must succeed, returning its stdout.
    @discardableResult
    func ok(_ args: [String]) throws -> String {
        let r = try run(args)
        guard r.status == 0 else { throw Failure("quorum \(args.joined(separator: " ")) exited \(r.status): \(r.stderr)") }
        return r.stdout
    }

    /// Runs a command with `--format json` and parses its output.
    func json(_ args: [String]) throws -> [String: Any] {
        let text = try ok(args + ["--format", "json"])
        guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw Failure("not a JSON object: \(text)")
        }
        return object
    }

    /// The people the end-to-end tests label as. Only registered people may
    /// label (issue 11), so a test's project registers them after `init`.
    static let people = ["ann", "bo", "cy", "dee", "alice", "bob", "carol", "dave", "simulated-1"]

    /// Registers `people` as annotators.
    func register(_ people: [String] = CLI.people) throws {
        for name in people { try ok(["annotators", "add", name]) }
    }

    /// Writes a file inside the project directory and returns its path.
    /// Runs a Python 3 script with `arguments` and returns what it printed.
    func python(_ script: String, _ arguments: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_NUM_THREADS"] = "1"
        p.environment = environment
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    func write(_ name: String, _ text: String) throws -> String {
        let path = (project as NSString).appendingPathComponent(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func write(_ name: String, bytes: [UInt8]) throws -> String {
        let path = (project as NSString).appendingPathComponent(name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
}

struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// The bundled digits dataset, split the way the demo splits it:
/// every 5th line is test, the first 40 others are seed, the rest pool.
enum Digits {
    static let path: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent("datasets/digits/digits.jsonl").path
    }()

    static let lines: [String] = {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }()

    static var test: [String] { lines.enumerated().filter { ($0.offset + 1) % 5 == 0 }.map(\.element) }
    static var rest: [String] { lines.enumerated().filter { ($0.offset + 1) % 5 != 0 }.map(\.element) }
    static var seed: [String] { Array(rest.prefix(40)) }
    static var pool: [String] { Array(rest.dropFirst(40)) }

    /// id → label, from the dataset.
    static let truth: [String: String] = {
        var out: [String: String] = [:]
        for line in lines {
            if let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
               let id = obj["id"] as? String, let label = obj["label"] as? String { out[id] = label }
        }
        return out
    }()
}
