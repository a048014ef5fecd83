import Foundation
import Glibc
import QuorumStore
import Testing

/// The interactive loop against hostile and extreme items: control characters,
/// huge texts, and label sets whose keys are easy to get wrong.
@Suite struct LoopSafetyTests {
    /// Every ESC the loop writes starts one of its own CSI sequences (styling,
    /// clearing, moving the cursor): `ESC [` digits and `;`, then m, H, J or K.
    static func strayEscapes(_ transcript: String) -> [String] {
        var stray: [String] = []
        var rest = Substring(transcript)
        while let i = rest.firstIndex(of: "\u{1B}") {
            let after = rest[rest.index(after: i)...]
            let body = after.dropFirst().prefix { $0.isNumber || $0 == ";" }
            let end = after.dropFirst(1 + body.count).first
            if after.first != "[" || !(end.map { "mHJK".contains($0) } ?? false) { stray.append(String(after.prefix(12))) }
            rest = after
        }
        return stray
    }

    /// Text with ESC sequences and BEL (JSON escapes), and metadata (shown for an item
    /// without text) with a raw C1 CSI (U+009B) and a bidi override (U+202E), reach
    /// the screen as visible escapes.
    @Test func controlCharactersInItemsAreShownAsVisibleEscapes() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try cli.ok(["init", "--labels", "yes,no"])
        try cli.register()
        let hostileText = #"{"id":"evil","text":"hello \u001b]0;pwned\u0007 and \u001b[2J\u001b[1;1Hforged header \u009b31m red \u202Eexe.txt"}"#
        let hostileMeta = "{\"id\":\"meta\",\"vector\":[1,2],\"source\":\"\u{9B}2J wipe \u{202E}gpj.exe\"}"
        try cli.ok(["import", try cli.write("pool.jsonl", hostileText + "\n" + hostileMeta + "\n")])
        try cli.ok(["round", "start", "--size", "2", "--diversity", "none"])
        let s = try PTYSession(cli, args: ["label", "--annotator", "ann"])
        try s.waitFor("ETA")
        try s.press("1", expect: "→ yes")
        try s.waitFor("ETA")
        try s.press("f", expect: "Reason")
        try s.press("bell\u{7}ring\r", expect: "No tasks left")
        #expect(s.finish() == 0)
        for payload in ["\u{1B}]0;pwned", "\u{7}", "\u{1B}[1;1Hforged", "\u{9B}", "\u{202E}"] {
            #expect(!s.transcript.contains(payload), "raw \(payload.debugDescription) reached the annotator's terminal")
        }
        #expect(Self.strayEscapes(s.transcript).isEmpty, "stray escapes: \(Self.strayEscapes(s.transcript))")
        #expect(s.transcript.contains(#"\e]0;pwned"#) && s.transcript.contains(#"\e[2J\e[1;1Hforged"#), "text shown escaped")
        #expect(s.transcript.contains(#"\u{009B}2J wipe \u{202E}gpj.exe"#), "metadata shown escaped")

        // The adjudicator's screen: the same items, and the flag's reason.
        try cli.ok(["consensus"])
        try cli.ok(["annotators", "add", "lead", "--role", "adjudicator"])
        let a = try PTYSession(cli, args: ["adjudicate", "--annotator", "lead"])
        try a.waitFor("ETA")
        #expect(a.screen.contains("ann: flagged — bellring"), "a typed control character is not kept in the reason")
        try a.press("q", expect: "settled")
        #expect(a.finish() == 0)
        for payload in ["\u{1B}]0;pwned", "\u{7}", "\u{9B}", "\u{202E}"] {
            #expect(!a.transcript.contains(payload), "raw \(payload.debugDescription) reached the adjudicator's terminal")
        }
        #expect(Self.strayEscapes(a.transcript).isEmpty, "stray escapes: \(Self.strayEscapes(a.transcript))")
    }

    /// One 200,000-character word: the screen shows a bounded part of it at once,
    /// and q and Ctrl-C still quit promptly.
    @Test func aHugeSingleWordItemDrawsAndQuitsPromptly() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try cli.ok(["init", "--labels", "yes,no"])
        try cli.register()
        let word = String(repeating: "abcdefghij", count: 20_000)
        try cli.ok(["import", try cli.write("pool.jsonl", #"{"id":"huge","text":"\#(word)"}"# + "\n")])
        try cli.ok(["round", "start", "--size", "1"])
        for quit in ["q", "\u{3}"] {
            let s = try PTYSession(cli, args: ["label", "--annotator", quit == "q" ? "ann" : "bo"], environment: ["NO_COLOR": "1"])
            let started = Date()
            try s.waitFor("ETA", seconds: 10)
            #expect(Date().timeIntervalSince(started) < 5, "the first frame took \(Date().timeIntervalSince(started)) s")
            let frame = s.lastFrame
            #expect(frame.count <= 24 && frame.allSatisfy { $0.count <= 80 }, "frame:\n\(frame.joined(separator: "\n"))")
            #expect(frame.contains { $0.contains("more lines") })
            #expect(s.transcript.utf8.count < 20_000, "the screen holds a screenful, not the whole text")
            try s.press("d", expect: "ETA")   // a redraw is as quick
            let pressed = Date()
            try s.press(quit, expect: "answered")
            #expect(Date().timeIntervalSince(pressed) < 2)
            #expect(s.finish() == 0)
        }
    }

    static func answered(_ cli: CLI) throws -> [String] {
        try SQLiteStore.open(project: cli.project).read { r in try r.answers(round: 1) }.compactMap(\.label)
    }

    /// Labels 0–9: each digit key records its own label, not the label at that position.
    @Test func digitLabelsAreChosenByTheirOwnKey() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try cli.ok(["init", "--labels", "0,1,2,3,4,5,6,7,8,9"])
        try cli.register()
        try cli.ok(["import", try cli.write("pool.jsonl", #"{"id":"a","text":"first"}"# + "\n" + #"{"id":"b","text":"second"}"# + "\n")])
        try cli.ok(["round", "start", "--size", "2"])
        let s = try PTYSession(cli, args: ["label", "--annotator", "ann"])
        try s.waitFor("ETA")
        try s.press("6", expect: "→ ")
        try s.press("0", expect: "No tasks left")
        #expect(s.finish() == 0)
        #expect(try Self.answered(cli).sorted() == ["0", "6"])
    }

    /// Twelve labels: `/` and a few letters pick one beyond the tenth; Esc cancels.
    @Test func typeToFilterPicksALabelBeyondTheTenth() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        let names = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliett", "kilo", "lima"]
        try cli.ok(["init", "--labels", names.joined(separator: ",")])
        try cli.register()
        try cli.ok(["import", try cli.write("pool.jsonl", #"{"id":"a","text":"first"}"# + "\n" + #"{"id":"b","text":"second"}"# + "\n")])
        try cli.ok(["round", "start", "--size", "2"])
        let s = try PTYSession(cli, args: ["label", "--annotator", "ann"])
        try s.waitFor("ETA")
        #expect(s.screen.contains("[1] alpha") && s.screen.contains("[0] juliett"), "the keys are shown next to the labels")
        try s.press("/", expect: "Label")
        try s.press("li", expect: "lima")
        try s.press("\r", expect: "→ lima")
        try s.press("/", expect: "Label")
        try s.press("k", expect: "kilo")
        try s.press("\u{1B}", expect: "ETA")     // Esc cancels: nothing recorded
        try s.press("/", expect: "Label")
        try s.press("KI\r", expect: "No tasks left")
        #expect(s.finish() == 0)
        #expect(try Self.answered(cli) == ["lima", "kilo"])
    }

    /// A pattern that backtracks catastrophically, or matches nothing at all, is refused when added.
    @Test func redactionPatternsThatWouldFreezeTheScreenAreRefused() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try cli.ok(["init", "--labels", "yes,no"])
        try cli.register()
        for pattern in ["(a+)+$", "(x*)*y", "a*", ""] {
            let r = try cli.run(["redact", "add", pattern])
            #expect(r.status == 1, "\(pattern) was accepted")
            #expect(r.stderr.contains("\"\(pattern)\""), "the message names the pattern: \(r.stderr)")
        }
        let nested = try cli.run(["redact", "add", "(a+)+$"])
        #expect(nested.stderr.contains("nested") && nested.stderr.contains("e.g."), "says why and what to write: \(nested.stderr)")
        #expect(try cli.run(["redact", "add", "a*"]).stderr.contains("empty"))
        #expect(try cli.json(["redact", "list"])["patterns"] as? [String] == [], "nothing was written")
        try cli.ok(["redact", "add", #"ACC-\d{6}"#])
    }

    /// A pattern stored before the check existed is refused when the loop starts, not run on every redraw.
    @Test func aStoredPatternThatWouldFreezeTheScreenStopsTheLoopBeforeItStarts() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try cli.ok(["init", "--labels", "yes,no"])
        try cli.register()
        try cli.ok(["import", try cli.write("pool.jsonl", #"{"id":"a","text":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"}"# + "\n")])
        try cli.ok(["round", "start", "--size", "1"])
        try SQLiteStore.open(project: cli.project).write { w in try w.setSetting("redaction_patterns", #"["(a+)+$"]"#) }
        let s = try PTYSession(cli, args: ["label", "--annotator", "ann"])
        try s.waitFor("quorum redact remove")
        #expect(s.finish() == 1)
        #expect(s.transcript.contains("\"(a+)+$\" has nested repetition"), "\(s.transcript)")
    }
}
