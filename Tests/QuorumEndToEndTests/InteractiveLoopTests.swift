import Foundation
import Glibc
import Testing

/// Drives the real interactive loop through a pseudo-terminal: keys in, screen out.
@Suite struct InteractiveLoopTests {
    /// A `quorum label` process attached to a pty.
    final class Session {
        let process = Process()
        var master: Int32 = -1
        var screen = ""

        init(_ cli: CLI, args: [String]) throws {
            var slave: Int32 = -1
            var size = winsize(ws_row: 24, ws_col: 80, ws_xpixel: 0, ws_ypixel: 0)
            guard openpty(&master, &slave, nil, nil, &size) == 0 else { throw Failure("openpty failed") }
            let handle = FileHandle(fileDescriptor: slave, closeOnDealloc: true)
            process.executableURL = URL(fileURLWithPath: CLI.binary)
            process.arguments = args + ["--project", cli.project]
            process.standardInput = handle
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
        }

        /// Reads until the screen contains `text` (or 10 s pass).
        func waitFor(_ text: String) throws {
            let deadline = Date().addingTimeInterval(10)
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !screen.contains(text) {
                guard Date() < deadline else { throw Failure("timed out waiting for \"\(text)\"; screen:\n\(screen)") }
                var fds = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
                guard poll(&fds, 1, 100) > 0 else { continue }
                let n = read(master, &buffer, buffer.count)
                if n <= 0 { break }
                screen += String(decoding: buffer[0..<n], as: UTF8.self)
            }
            guard screen.contains(text) else { throw Failure("the loop ended before \"\(text)\"; screen:\n\(screen)") }
        }

        /// Sends a key, then waits for the screen to show `expect`.
        func press(_ key: String, expect: String) throws {
            screen = ""
            _ = key.utf8CString.withUnsafeBufferPointer { write(master, $0.baseAddress, $0.count - 1) }
            try waitFor(expect)
        }

        func finish() -> Int32 {
            process.waitUntilExit()
            close(master)
            return process.terminationStatus
        }
    }

    @Test func labelsSkipsUndoesAndQuits() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try cli.ok(["init", "--labels", "yes,no"])
        try cli.ok(["import", try cli.write("pool.jsonl", """
            {"id":"a","text":"the first item to label"}
            {"id":"b","text":"the second item to label"}
            {"id":"c","text":"the third item to label"}
            """)])
        try cli.ok(["round", "start", "--size", "3"])
        let s = try Session(cli, args: ["label", "--annotator", "ann"])
        try s.waitFor("left 3")
        #expect(s.screen.contains("[1] yes  [2] no"))
        #expect(s.screen.contains("item to label"))
        try s.press("1", expect: "→ yes")         // answer the first item
        try s.press("s", expect: "skipped")       // skip the second
        try s.press("u", expect: "undone")        // undo the skip: the second comes back
        try s.press("\r", expect: "no suggestion") // no model yet, so Enter has nothing to accept
        try s.press("2", expect: "→ no")          // answer the second
        try s.press("?", expect: "s skip")        // help
        try s.press("q", expect: "undone.")      // quit: the summary counts this session's answers
        #expect(s.screen.contains("ann: 2 answered, 0 skipped, 0 flagged, 1 undone."))
        #expect(s.finish() == 0)

        let status = try cli.json(["round", "status"])
        #expect(status["answers"] as? Int == 2, "two answers committed; the undone skip is gone")
        let consensus = try cli.json(["consensus"])
        #expect(Set((consensus["labels"] as? [String: String] ?? [:]).values) == ["yes", "no"])
    }

    @Test func refusesWithoutATerminal() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try cli.ok(["init", "--labels", "yes,no"])
        try cli.ok(["import", try cli.write("pool.jsonl", "{\"id\":\"a\",\"text\":\"x\"}\n")])
        try cli.ok(["round", "start", "--size", "1"])
        let r = try cli.run(["label", "--annotator", "ann"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("--answers"))
    }
}
