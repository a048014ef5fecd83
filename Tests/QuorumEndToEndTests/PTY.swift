import Foundation
import Glibc

/// A `quorum` process attached to a pseudo-terminal: keys in, screen out.
final class PTYSession {
    let process = Process()
    var master: Int32 = -1
    /// Everything the process wrote since the last `press` (or since start).
    var screen = ""
    /// Everything it ever wrote.
    var transcript = ""

    init(_ cli: CLI, args: [String], columns: UInt16 = 80, rows: UInt16 = 24, environment: [String: String] = [:]) throws {
        var slave: Int32 = -1
        var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        guard openpty(&master, &slave, nil, nil, &size) == 0 else { throw Failure("openpty failed") }
        let handle = FileHandle(fileDescriptor: slave, closeOnDealloc: true)
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = args + ["--project", cli.project]
        var env = ProcessInfo.processInfo.environment
        env["TERM"] = "xterm-256color"
        env.removeValue(forKey: "NO_COLOR")
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.standardInput = handle
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    /// Reads what is available within `milliseconds`; false at end of output.
    @discardableResult
    func pump(milliseconds: Int32 = 100) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var fds = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        guard poll(&fds, 1, milliseconds) > 0 else { return true }
        let n = read(master, &buffer, buffer.count)
        if n <= 0 { return false }
        let text = String(decoding: buffer[0..<n], as: UTF8.self)
        screen += text
        transcript += text
        return true
    }

    /// Reads until the screen contains `text` (or `seconds` pass).
    func waitFor(_ text: String, seconds: Double = 20) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !screen.contains(text) {
            guard Date() < deadline else { throw Failure("timed out waiting for \"\(text)\"; screen:\n\(screen)") }
            guard pump() else { break }
        }
        guard screen.contains(text) else { throw Failure("the loop ended before \"\(text)\"; screen:\n\(screen)") }
    }

    /// Sends keys without waiting.
    func type(_ keys: String) {
        _ = keys.utf8CString.withUnsafeBufferPointer { write(master, $0.baseAddress, $0.count - 1) }
    }

    /// Sends a key, then waits for the screen to show `expect`.
    func press(_ key: String, expect: String) throws {
        screen = ""
        type(key)
        try waitFor(expect)
    }

    /// Changes the terminal's size, as a window manager would.
    func resize(columns: UInt16, rows: UInt16) {
        var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, UInt(TIOCSWINSZ), &size)
    }

    /// The last full frame drawn (after the last clear-screen), split into lines without styling.
    var lastFrame: [String] {
        guard let range = transcript.range(of: "\u{1B}[2J\u{1B}[H", options: .backwards) else { return [] }
        let frame = String(transcript[range.upperBound...])
        let plain = frame.replacingOccurrences(of: "\u{1B}\\[[0-9;]*[A-Za-z]", with: "", options: .regularExpression)
        return plain.components(separatedBy: "\r\n").map { $0.replacingOccurrences(of: "\r", with: "") }
    }

    /// A test that failed half-way leaves no process behind (e.g. one frozen in a draw).
    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        close(master)
    }

    func finish() -> Int32 {
        while pump() { if !process.isRunning { _ = pump(milliseconds: 0); break } }
        process.waitUntilExit()
        close(master)
        return process.terminationStatus
    }
}
