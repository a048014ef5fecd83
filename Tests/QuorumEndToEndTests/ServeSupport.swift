import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `quorum serve` running on 127.0.0.1 for a test: started on a free port
/// (`--port 0`, the port read from its first line), killed on `stop()`.
final class ServeProcess: @unchecked Sendable {
    let process = Process()
    let base: String
    private let errors = Pipe()

    /// Starts the server for `cli`'s project and waits until it listens.
    init(_ cli: CLI, lease: Double? = nil) throws {
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["serve", "--project", cli.project, "--port", "0"] + (lease.map { ["--lease", "\($0)"] } ?? [])
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_NUM_THREADS"] = "1"
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = errors
        try process.run()
        // The first line is "listening on http://127.0.0.1:PORT".
        var line = Data()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let byte = out.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte == Data("\n".utf8) { break }
            line.append(byte)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("listening on http://127.0.0.1:") else {
            process.terminate()
            let stderr = String(decoding: errors.fileHandleForReading.availableData, as: UTF8.self)
            throw Failure("quorum serve did not start: \(text) \(stderr)")
        }
        base = String(text.dropFirst("listening on ".count))
    }

    /// Stops the server: SIGKILL when `kill` (a crash), else SIGTERM.
    func stop(kill: Bool = false) {
        guard process.isRunning else { return }
        if kill { Foundation.kill(process.processIdentifier, SIGKILL) } else { process.terminate() }
        process.waitUntilExit()
    }

    deinit { stop() }

    /// One HTTP exchange: status and body.
    struct Reply {
        var status: Int
        var body: Data
        var headers: [String: String]
        var text: String { String(decoding: body, as: UTF8.self) }
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    }

    func send(_ method: String, _ path: String, token: String? = nil, json: Any? = nil, body: Data? = nil) throws -> Reply {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let json {
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        } else if let body {
            request.httpBody = body
        }
        let box = ReplyBox()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { data, response, error in
            let http = response as? HTTPURLResponse
            var headers: [String: String] = [:]
            for (k, v) in http?.allHeaderFields ?? [:] { headers[String(describing: k).lowercased()] = String(describing: v) }
            box.set(error.map { .failure($0) } ?? .success(Reply(status: http?.statusCode ?? 0, body: data ?? Data(), headers: headers)))
            done.signal()
        }.resume()
        guard done.wait(timeout: .now() + 60) == .success, let result = box.get() else { throw Failure("\(method) \(path): no reply in 60 s") }
        return try result.get()
    }

    func get(_ path: String, token: String? = nil) throws -> Reply { try send("GET", path, token: token) }
    func post(_ path: String, token: String? = nil, json: Any? = nil) throws -> Reply { try send("POST", path, token: token, json: json) }
}

private final class ReplyBox: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<ServeProcess.Reply, any Error>?
    func set(_ r: Result<ServeProcess.Reply, any Error>) { lock.lock(); result = r; lock.unlock() }
    func get() -> Result<ServeProcess.Reply, any Error>? { lock.lock(); defer { lock.unlock() }; return result }
}

extension CLI {
    /// Registers `name` with `role` and returns their API token.
    func token(_ name: String, role: String = "annotator") throws -> String {
        guard let token = try json(["annotators", "add", name, "--role", role])["token"] as? String else {
            throw Failure("annotators add \(name) printed no token")
        }
        return token
    }
}
