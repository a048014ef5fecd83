import Foundation
import Testing

/// What the annotator's screen offers: their own progress, paging through a
/// long text, and help that fits 80 columns.
@Suite struct LoopScreenTests {
    @Test func showsOwnProgressPagesALongTextAndHelpFitsEightyColumns() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try cli.ok(["init", "--labels", "yes,no"])
        try cli.register()
        let long = (0..<600).map { "word\($0)" }.joined(separator: " ")
        try cli.ok(["import", try cli.write("pool.jsonl", #"{"id":"l1","text":"\#(long) one"}"# + "\n"
                                              + #"{"id":"l2","text":"\#(long) two"}"# + "\n")])
        try cli.ok(["round", "start", "--size", "2"])
        let s = try PTYSession(cli, args: ["label", "--annotator", "ann"], environment: ["NO_COLOR": "1"])
        try s.waitFor("ETA")
        #expect(s.screen.contains("you 0 this session"))
        try s.press("1", expect: "ETA")
        let first = s.lastFrame
        #expect(first.contains { $0.contains("you 1 this session") }, "the annotator's own count")
        #expect(first[2].hasPrefix("word0 ") && first.contains { $0.contains("more lines below") })
        try s.press(" ", expect: "ETA")
        let second = s.lastFrame
        #expect(!second[2].hasPrefix("word0 ") && second[2].hasPrefix("word"), "space shows the next page: \(second)")
        let lastWordBefore = try #require(first.filter { $0.hasPrefix("word") }.last?.split(separator: " ").last)
        let firstWordAfter = try #require(second[2].split(separator: " ").first)
        #expect(Int(firstWordAfter.dropFirst(4)) == Int(lastWordBefore.dropFirst(4))! + 1, "no line skipped or repeated")
        try s.press("\u{1B}[6~", expect: "ETA")   // Page Down
        #expect(s.lastFrame[2] != second[2])
        try s.press("\u{1B}[5~", expect: "ETA")   // Page Up
        #expect(s.lastFrame[2] == second[2])
        try s.press("b", expect: "ETA")
        #expect(s.lastFrame[2] == first[2])
        // Help: every line fits 80 columns, none cut short.
        try s.press("?", expect: "ETA")
        let help = s.lastFrame
        #expect(help.contains { $0.contains("b/PgUp") } && help.contains { $0.contains("/ find") })
        #expect(help.allSatisfy { $0.count <= 80 && !$0.hasSuffix("…") }, "\(help.joined(separator: "\n"))")
        try s.press("q", expect: "answered")
        #expect(s.finish() == 0)
    }

    /// Issue 11, item 18: the metadata fields the lead chooses appear above the text (escaped,
    /// redacted); the others do not.
    @Test func theLeadsChosenFieldsAppearAboveTheText() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try cli.ok(["init", "--labels", "yes,no"])
        try cli.register()
        try cli.ok(["import", try cli.write("pool.jsonl", #"{"id":"m1","text":"is this spam","source":"web","lang":"en","contact":"bob@example.com"}"# + "\n"),
                    "--meta-fields", "source,lang,contact"])
        try cli.ok(["round", "start", "--size", "1", "--show-fields", "source,contact"])
        let s = try PTYSession(cli, args: ["label", "--annotator", "ann"], environment: ["NO_COLOR": "1"])
        try s.waitFor("ETA")
        let frame = s.lastFrame
        #expect(frame.contains("source: web"), "\(frame)")
        #expect(frame.contains { $0.hasPrefix("contact: ") } && !frame.contains { $0.contains("bob@example.com") }, "redacted: \(frame)")
        #expect(!frame.contains { $0.hasPrefix("lang:") }, "a field the lead did not choose")
        #expect(frame.contains("is this spam"))
        try s.press("q", expect: "answered")
        #expect(s.finish() == 0)
    }
}
