import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// The labelling page in a real browser: `quorum serve`, Debian's chromedriver and
/// headless chromium, driven over the W3C WebDriver protocol (plain HTTP, no Selenium).
/// Skipped when chromium or chromedriver is not installed (`apt-get install chromium chromium-driver`).
@Suite struct BrowserTests {
    static let hostile = #"<img src=x onerror="document.title='pwned'">"#

    @Test(.enabled(if: Browser.available, "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"))
    func labelsUndoesAndFlagsByKeyboardInChromium() throws {
        let cli = CLI()
        let session = BrowserSession()
        defer {
            session.close()
            cli.cleanUp()
        }

        // A project: ten items whose texts are HTML that would run script if it were inserted as HTML.
        try cli.ok(["init", "--labels", "pos,neg"])
        var texts: [String: String] = ["h0": Self.hostile]
        for n in 1..<10 {
            texts["h\(n)"] = "review h\(n): <b>bold?</b> \(Self.hostile) <script>document.title='pwned'</script>"
        }
        let lines = texts.keys.sorted().map { id in
            String(decoding: try! JSONSerialization.data(withJSONObject: ["id": id, "text": texts[id]!]), as: UTF8.self)
        }
        try cli.ok(["import", try cli.write("pool.jsonl", lines.joined(separator: "\n") + "\n")])
        try cli.ok(["round", "start", "--size", "10", "--overlap", "1"])
        let token = try #require(try cli.json(["annotators", "add", "web"])["token"] as? String)

        let base = try session.serve(cli)
        let web = try session.start()

        // Log in by keyboard: the token, then Enter.
        try web.navigate(base + "/")
        #expect(try web.script("return document.title") as? String == "Quorum")
        try web.type(into: "#token", token + WebDriver.enter)
        try web.waitUntil("the first task is shown", "return document.body.dataset.state === 'task' && document.body.dataset.pending === '0'")

        func shown() throws -> String { try web.script("return document.getElementById('item').dataset.id") as? String ?? "" }
        func waitForItem(other id: String) throws {
            try web.waitUntil("an item other than \(id)",
                              "return document.getElementById('item').dataset.id !== \(WebDriver.js(id)) && document.body.dataset.pending === '0'")
        }
        // Each item shown is the stored text, as text: no element made from it, no script run.
        func checkShownAsText(_ id: String) throws {
            let text = try web.script("return document.getElementById('item-text').textContent") as? String
            #expect(text == texts[id], "item \(id) is shown as its text")
            #expect(try web.script("return document.querySelectorAll('#item img, #item script, #item b').length") as? Int == 0)
            #expect(try web.script("return document.title") as? String == "Quorum")
        }

        // Five answers by keyboard: 1 = pos, 2 = neg (the keys /api/v1/me gives for these labels).
        var answered: [(id: String, label: String)] = []
        for n in 0..<5 {
            let id = try shown()
            try checkShownAsText(id)
            let (key, label) = n % 2 == 0 ? ("1", "pos") : ("2", "neg")
            try web.press(key)
            try waitForItem(other: id)
            answered.append((id, label))
        }
        // Undo: the last item comes back.
        let undone = answered.removeLast()
        try web.press("u")
        try web.waitUntil("the undone item is shown again",
                          "return document.getElementById('item').dataset.id === \(WebDriver.js(undone.id)) && document.body.dataset.pending === '0'")
        try checkShownAsText(undone.id)
        // Flag it, typing the reason: its letters (s, u, f, n, d, 1, 2, ?) go to the field, not to the page's keys.
        let reason = "unsure: 1 or 2? needs a second look (f/d)"
        try web.press("f")
        try web.waitUntil("the reason field has the focus", "return document.activeElement && document.activeElement.id === 'flag-reason'")
        try web.press(reason + WebDriver.enter)
        try waitForItem(other: undone.id)
        let message = try web.script("return document.getElementById('message').dataset.kind + ': ' + document.getElementById('message').textContent") as? String ?? ""
        #expect(!message.hasPrefix("error"), "\(message)")
        #expect(try web.script("return document.getElementById('flag-form').hidden") as? Bool == true)
        #expect(try web.script("return document.getElementById('help').hidden") as? Bool == true, "the ? in the reason did not open the help")
        #expect(try web.script("return document.title") as? String == "Quorum")

        // The project holds exactly what was typed: the page sent five answers, one undo, one flag.
        let events = try #require(try cli.json(["audit", "log"])["events"] as? [[String: Any]])
        let mine = events.filter { $0["annotator"] as? String == "web" && ["answer", "skip", "flag", "undo"].contains($0["kind"] as? String ?? "") }
        let expected = (answered + [undone]).map { "answer \($0.id)" } + ["undo \(undone.id)", "flag \(undone.id)"]
        #expect(mine.map { "\($0["kind"] as? String ?? "?") \($0["item"] as? String ?? "?")" } == expected)
        let labels = mine.filter { $0["kind"] as? String == "answer" }.map { ($0["detail"] as? [String: Any])?["label"] as? String }
        #expect(labels == (answered + [undone]).map(\.label))
        let flag = try #require(mine.last)
        #expect((flag["detail"] as? [String: Any])?["note"] as? String == reason)
        // And its state: four labels and one flag by web; the undone answer is gone.
        let cards = try #require(try cli.json(["annotators", "list"])["annotators"] as? [[String: Any]])
        let card = try #require(cards.first { $0["name"] as? String == "web" })
        #expect(card["answers"] as? Int == 4 && card["flags"] as? Int == 1 && card["skips"] as? Int == 0, "\(card)")
        let consensus = try #require(try cli.json(["consensus", "--dry-run"])["labels"] as? [String: String])
        #expect(consensus == Dictionary(uniqueKeysWithValues: answered.map { ($0.id, $0.label) }))

        // Logging out gives back the item on screen (and the one fetched ahead) at once.
        func holders() throws -> [String] {
            try #require(try cli.json(["round", "status"])["claims"] as? [[String: Any]]).compactMap { $0["annotator"] as? String }
        }
        #expect(try holders().contains("web"))
        _ = try web.script("document.getElementById('logout').click(); return true")
        try web.waitUntil("logged out", "return document.body.dataset.state === 'login'")
        let deadline = Date().addingTimeInterval(10)
        while try holders().contains("web"), Date() < deadline { usleep(100_000) }
        #expect(try holders().isEmpty, "released on log out")
    }
}

extension BrowserTests {
    /// An adjudicator on the web page escalates a dispute to the lead with f and a
    /// reason, takes it back with u, and escalates it again.
    @Test(.enabled(if: Browser.available, "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"))
    func adjudicatorEscalatesInChromium() throws {
        let cli = CLI()
        let session = BrowserSession()
        defer {
            session.close()
            cli.cleanUp()
        }
        try cli.ok(["init", "--labels", "pos,neg"])
        try cli.register(["ann", "bo"])
        try cli.ok(["import", try cli.write("pool.jsonl", #"{"id":"d1","text":"a split review"}"# + "\n")])
        try cli.ok(["round", "start", "--size", "1", "--overlap", "2"])
        try cli.ok(["label", "--annotator", "ann", "--answers", try cli.write("ann.jsonl", #"{"id":"d1","label":"pos"}"# + "\n")])
        try cli.ok(["label", "--annotator", "bo", "--answers", try cli.write("bo.jsonl", #"{"id":"d1","label":"neg"}"# + "\n")])
        try cli.ok(["consensus"])
        let token = try #require(try cli.json(["annotators", "add", "judge", "--role", "adjudicator"])["token"] as? String)
        let base = try session.serve(cli)
        let web = try session.start()
        try web.navigate(base + "/")
        try web.type(into: "#token", token + WebDriver.enter)
        try web.waitUntil("logged in", "return document.body.dataset.state !== 'login' && document.body.dataset.pending === '0'")
        _ = try web.script("document.getElementById('mode-disputes').click(); return true")
        try web.waitUntil("the dispute is shown", "return document.body.dataset.mode === 'disputes' && document.getElementById('item').dataset.id === 'd1' && document.body.dataset.pending === '0'")
        func incidents() throws -> [String] {
            try #require(try cli.json(["incidents", "list"])["incidents"] as? [[String: Any]]).compactMap { $0["reason"] as? String }
        }
        try web.press("f")
        try web.waitUntil("the reason field has the focus", "return document.activeElement && document.activeElement.id === 'flag-reason'")
        #expect(try web.script("return document.getElementById('flag-label').textContent") as? String == "Why escalate this dispute to the lead?")
        try web.press("needs a policy call" + WebDriver.enter)
        try web.waitUntil("escalated", "return document.getElementById('message').textContent.includes('escalated to the lead') && document.body.dataset.pending === '0'")
        #expect(try incidents() == ["needs a policy call"])
        try web.press("u")
        try web.waitUntil("withdrawn", "return document.getElementById('item').dataset.id === 'd1' && document.body.dataset.pending === '0' && document.getElementById('message').textContent.includes('Undone')")
        #expect(try incidents().isEmpty)
        try web.press("f")
        try web.waitUntil("the reason field has the focus again", "return document.activeElement && document.activeElement.id === 'flag-reason'")
        let reason = "policy <b>call</b>"
        try web.press(reason + WebDriver.enter)
        try web.waitUntil("escalated again", "return document.getElementById('message').textContent.includes('escalated to the lead') && document.body.dataset.pending === '0'")
        #expect(try incidents() == [reason])

        // The lead's page lists it, the reason as text.
        let lead = try #require(try cli.json(["annotators", "add", "boss", "--role", "lead"])["token"] as? String)
        _ = try web.script("sessionStorage.clear(); return true")
        try web.navigate(base + "/lead")
        try web.type(into: "#token", lead + WebDriver.enter)
        try web.waitUntil("the lead's queue", "return document.querySelectorAll('#incidents tbody tr td').length === 5")
        let row = try web.script("return Array.from(document.querySelectorAll('#incidents tbody td')).map(td => td.textContent)") as? [String] ?? []
        #expect(row.count == 5 && row[0] == "d1" && row[1] == "judge" && row[2] == reason && row[3] == "ann: pos, bo: neg", "\(row)")
        #expect(try web.script("return document.querySelectorAll('#incidents b').length") as? Int == 0)
    }
}

// MARK: - Child processes

/// A child process whose output (stdout and stderr) is collected as it comes.
final class Child: @unchecked Sendable {
    let process = Process()
    private let lock = NSLock()
    private var text = ""

    init(_ path: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil; return }
            guard let self else { return }
            self.lock.lock(); self.text += String(decoding: data, as: UTF8.self); self.lock.unlock()
        }
        try process.run()
    }

    var output: String { lock.lock(); defer { lock.unlock() }; return text }

    /// The first whole line of output containing `needle`.
    func waitForLine(containing needle: String, seconds: Double) throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let out = output
            if let line = out.split(separator: "\n", omittingEmptySubsequences: false).dropLast().first(where: { $0.contains(needle) }) {
                return String(line)
            }
            if !process.isRunning && !output.contains(needle) {
                throw Failure("\(process.executableURL!.lastPathComponent) exited (\(process.terminationStatus)) before \"\(needle)\":\n\(output)")
            }
            usleep(20_000)
        }
        throw Failure("timed out waiting for \"\(needle)\" from \(process.executableURL!.lastPathComponent):\n\(output)")
    }

    /// SIGTERM, then SIGKILL after 5 s; reaps the process.
    func stop() {
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
    }
}

/// Headless Chromium under chromedriver, and the processes a test started beside it.
/// `close()` stops everything, whatever happened: the browser (found by its profile
/// directory, which only its processes name), chromedriver, and the adopted children.
final class BrowserSession {
    let profile = FileManager.default.temporaryDirectory.appendingPathComponent("quorum-chromium-\(UUID().uuidString)").path
    private var children: [Child] = []
    private var driver: WebDriver?

    /// Keeps a child process to stop at `close()`.
    func adopt(_ child: Child) -> Child {
        children.append(child)
        return child
    }

    /// Starts `quorum serve` on the project on a free port; returns its base URL.
    func serve(_ cli: CLI) throws -> String {
        let serve = adopt(try Child(CLI.binary, ["serve", "--project", cli.project, "--port", "0"]))
        let listening = try serve.waitForLine(containing: "listening on http://", seconds: 60)
        return String(listening[listening.range(of: "http://")!.lowerBound...]).trimmingCharacters(in: .whitespaces)
    }

    /// Starts chromedriver and a browser session.
    func start(consoleLog: Bool = false) throws -> WebDriver {
        let chromedriver = adopt(try Child(Browser.chromedriver, ["--port=0"]))
        let started = try chromedriver.waitForLine(containing: "started successfully on port", seconds: 30)
        let port = try #require(Int(started.split(separator: " ").last?.trimmingCharacters(in: CharacterSet(charactersIn: ". ")) ?? ""))
        let web = try WebDriver(port: port, profile: profile, consoleLog: consoleLog)
        driver = web
        return web
    }

    func close() {
        driver?.quit()
        for child in children.reversed() { child.stop() }
        Browser.killProcesses(mentioning: profile)
        try? FileManager.default.removeItem(atPath: profile)
    }
}

enum Browser {
    static let chromium = "/usr/bin/chromium"
    static let chromedriver = "/usr/bin/chromedriver"
    static var available: Bool {
        FileManager.default.isExecutableFile(atPath: chromium) && FileManager.default.isExecutableFile(atPath: chromedriver)
    }

    /// Kills every process whose command line contains `marker` (a unique temporary path),
    /// so a browser left behind by a failed session does not outlive the test.
    static func killProcesses(mentioning marker: String) {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return }
        for entry in entries {
            guard let pid = Int32(entry), pid != getpid(),
                  let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"),
                  String(decoding: data, as: UTF8.self).contains(marker) else { continue }
            kill(pid, SIGKILL)
        }
    }
}

// MARK: - W3C WebDriver over HTTP

/// HTTP/1.1 to a local port over a plain socket. Not URLSession: swift-corelibs-foundation's
/// URLSession (before swiftlang/swift-corelibs-foundation#5527) fails every chromedriver response
/// with "Failed writing header", because chromedriver writes headers without a space after the
/// colon (`Content-Length:252`).
enum HTTP {
    static func request(_ method: String, port: Int, path: String, body: Data?) throws -> (status: Int, body: Data) {
        #if os(Linux)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let noSignal = Int32(MSG_NOSIGNAL)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        let noSignal: Int32 = 0
        #endif
        guard fd >= 0 else { throw Failure("socket: errno \(errno)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure("connect to port \(port): errno \(errno)") }
        let head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
            + "Content-Type: application/json; charset=utf-8\r\nContent-Length: \(body?.count ?? 0)\r\n\r\n"
        let out = Array(head.utf8) + Array(body ?? Data())
        var sent = 0
        while sent < out.count {
            let n = out[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, noSignal) }
            guard n > 0 else { throw Failure("send to port \(port): errno \(errno)") }
            sent += n
        }
        // Read the response: the head, then Content-Length bytes (or to the end: Connection: close).
        var response = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var bodyStart: Int?, length: Int?
        while true {
            if let start = bodyStart, let length, response.count - start >= length { break }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { break }
            guard n > 0 else { throw Failure("no response from port \(port) (errno \(errno))") }
            response += buffer[0..<n]
            if bodyStart == nil, let end = response.firstRange(of: separator) {
                bodyStart = end.upperBound
                let headers = String(decoding: response[..<end.lowerBound], as: UTF8.self).lowercased()
                if let line = headers.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }) {
                    length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
                }
            }
        }
        guard let start = bodyStart else { throw Failure("a malformed response from port \(port)") }
        let statusLine = String(decoding: response[..<start], as: UTF8.self).split(separator: " ")
        let status = statusLine.count > 1 ? Int(statusLine[1]) ?? 0 : 0
        let end = length.map { min(response.count, start + $0) } ?? response.count
        return (status, Data(response[start..<end]))
    }
}

/// A browser session through chromedriver's W3C WebDriver endpoint.
final class WebDriver {
    static let enter = "\u{E007}"
    let base: String
    private var session = ""

    /// - Parameter consoleLog: keep the page's console messages for `consoleMessages()`.
    init(port: Int, profile: String, consoleLog: Bool = false) throws {
        base = "http://127.0.0.1:\(port)"
        let options: [String: Any] = [
            "binary": Browser.chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--user-data-dir=\(profile)", "--window-size=1280,900"],
        ]
        var match: [String: Any] = ["browserName": "chrome", "goog:chromeOptions": options]
        if consoleLog { match["goog:loggingPrefs"] = ["browser": "ALL"] }
        let caps: [String: Any] = ["capabilities": ["alwaysMatch": match]]
        let value = try Self.call("POST", base + "/session", caps) as? [String: Any]
        session = try #require(value?["sessionId"] as? String)
    }

    /// A Swift string as a JavaScript string literal.
    static func js(_ s: String) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: [s]), as: UTF8.self).dropFirst().dropLast().description
    }

    /// One WebDriver command; returns its `value`, or throws the driver's error.
    @discardableResult
    static func call(_ method: String, _ url: String, _ body: [String: Any]? = nil) throws -> Any? {
        let target = URL(string: url)!
        let payload = try body.map { try JSONSerialization.data(withJSONObject: $0) }
        let (status, data) = try HTTP.request(method, port: target.port ?? 80, path: target.path, body: payload)
        guard status == 200 else {
            throw Failure("WebDriver \(method) \(url) → \(status): \(String(decoding: data, as: UTF8.self).prefix(800))")
        }
        let object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) as? [String: Any]
        let value = object?["value"]
        return value is NSNull ? nil : value
    }

    @discardableResult
    func command(_ method: String, _ path: String, _ body: [String: Any]? = nil) throws -> Any? {
        try Self.call(method, "\(base)/session/\(session)\(path)", body)
    }

    func navigate(_ url: String) throws { try command("POST", "/url", ["url": url]) }

    func script(_ source: String) throws -> Any? { try command("POST", "/execute/sync", ["script": source, "args": [Any]()]) }

    func element(_ css: String) throws -> String {
        let value = try command("POST", "/element", ["using": "css selector", "value": css]) as? [String: Any]
        return try #require(value?.values.first as? String, "no element \(css)")
    }

    /// Types into an element (it gets the focus first).
    func type(into css: String, _ text: String) throws {
        try command("POST", "/element/\(try element(css))/value", ["text": text])
    }

    /// Presses keys at whatever has the focus, as a person would (W3C key actions).
    func press(_ keys: String) throws {
        let actions = keys.unicodeScalars.flatMap { key -> [[String: Any]] in
            [["type": "keyDown", "value": String(key)], ["type": "keyUp", "value": String(key)]]
        }
        try command("POST", "/actions", ["actions": [["type": "key", "id": "keyboard", "actions": actions]]])
    }

    /// Polls a script until it returns true.
    func waitUntil(_ what: String, _ source: String, seconds: Double = 20) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try script(source) as? Bool == true { return }
            usleep(50_000)
        }
        let state = (try? script("return document.body.dataset.state + ' ' + document.body.dataset.pending + ' · ' + document.getElementById('message').textContent")) as? String
        throw Failure("timed out waiting for \(what); page: \(state ?? "?")")
    }

    /// The console messages since the last call (chromedriver's log endpoint;
    /// needs `consoleLog: true`): each with its `level` and `message`.
    func consoleMessages() throws -> [[String: Any]] {
        try command("POST", "/se/log", ["type": "browser"]) as? [[String: Any]] ?? []
    }

    /// A PNG of the window.
    func screenshot() throws -> Data {
        try #require(Data(base64Encoded: try command("GET", "/screenshot") as? String ?? ""), "the screenshot is base64 PNG")
    }

    /// The page printed to PDF (A4, as a person's print dialog would).
    func printPDF() throws -> Data {
        try #require(Data(base64Encoded: try command("POST", "/print", ["page": ["width": 21.0, "height": 29.7]]) as? String ?? ""))
    }

    func resize(width: Int, height: Int) throws { try command("POST", "/window/rect", ["width": width, "height": height]) }

    /// A Chrome DevTools command through chromedriver (for instance, emulating print media).
    func devTools(_ name: String, _ parameters: [String: Any]) throws {
        try command("POST", "/goog/cdp/execute", ["cmd": name, "params": parameters])
    }

    /// Ends the session (which quits the browser); errors are ignored, this runs in cleanup.
    func quit() { _ = try? command("DELETE", "") }
}
