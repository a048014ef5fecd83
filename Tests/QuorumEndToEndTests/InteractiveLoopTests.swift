import Foundation
import Glibc
import QuorumStore
import Testing

/// Drives the real interactive loop through a pseudo-terminal: keys in, screen out.
@Suite struct InteractiveLoopTests {
    @Test func labelsSkipsUndoesAndQuits() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try cli.ok(["init", "--labels", "yes,no"])
        try cli.register()
        try cli.ok(["import", try cli.write("pool.jsonl", """
            {"id":"a","text":"the first item to label"}
            {"id":"b","text":"the second item to label"}
            {"id":"c","text":"the third item to label"}
            """)])
        try cli.ok(["round", "start", "--size", "3"])
        let s = try PTYSession(cli, args: ["label", "--annotator", "ann"])
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

    /// A small text project with a trained model, so items have suggestions.
    static func textProject(_ cli: CLI, blindRate: String) throws {
        try cli.ok(["init", "--labels", "pos,neg"])
        try cli.register()
        var seed: [String] = []
        for i in 0..<8 {
            seed.append(#"{"id":"sp\#(i)","text":"good great fine lovely film number \#(i)","label":"pos"}"#)
            seed.append(#"{"id":"sn\#(i)","text":"bad awful poor dreadful film number \#(i)","label":"neg"}"#)
        }
        try cli.ok(["import", try cli.write("seed.jsonl", seed.joined(separator: "\n") + "\n"), "--as", "seed"])
        try cli.ok(["import", try cli.write("pool.jsonl", """
            {"id":"p1","text":"a great good film; write to jo@example.com for tickets"}
            {"id":"p2","text":"an awful bad film, account ACC-123456"}
            {"id":"p3","text":"a good fine film, call +44 20 7946 0958"}
            {"id":"p4","text":"a poor bad film, card 4111 1111 1111 1111"}
            """)])
        try cli.ok(["train", "--members", "2"])
        try cli.ok(["redact", "add", #"ACC-\d{6}"#])
        try cli.ok(["round", "start", "--size", "4", "--blind-rate", blindRate, "--seed", "3"])
    }

    @Test func flagsNotesDetailsBlindModeAndRedaction() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try Self.textProject(cli, blindRate: "0.5")
        #expect(try cli.json(["round", "status"])["blind_tasks"] as? Int == 2)
        let s = try PTYSession(cli, args: ["label", "--annotator", "ann"])
        try s.waitFor("left 4")
        // Details: the nearest labelled examples and the features behind the suggestion, except on a blind
        // item, where they would give the answer away (the examples come with their labels).
        var blindSeen = 0
        func checkDetails() throws {
            try s.waitFor("ETA")   // the progress line ends the frame: the whole of it has arrived
            let frame = s.lastFrame.joined(separator: "\n")
            if frame.contains("Suggestion hidden") {
                blindSeen += 1
                #expect(!frame.contains("Nearest labelled examples") && !frame.contains("Features behind"),
                        "a blind item shows no evidence:\n\(frame)")
                #expect(!frame.contains("  pos  ") && !frame.contains("  neg  "), "no labels of examples:\n\(frame)")
                #expect(frame.contains("hidden for this item (blind)"))
            } else {
                #expect(frame.contains("Nearest labelled examples") && frame.contains("Features behind"), "\(frame)")
            }
        }
        try s.press("d", expect: "ETA")
        try checkDetails()
        try s.press("n", expect: "Note")
        try s.press("double check\r", expect: "note: double check")
        try s.press("f", expect: "Reason")
        try s.press("offensive\r", expect: "flagged for an adjudicator")
        try checkDetails()   // details stay open for the next item
        // The next item: Enter accepts the suggestion, except on a blind item.
        if s.screen.contains("Suggestion hidden") {
            try s.press("\r", expect: "blind item")
            try s.press("1", expect: "→ pos")
        } else {
            #expect(s.screen.contains("Suggestion: "))
            try s.press("\r", expect: "→ ")
        }
        try checkDetails()
        try s.press("s", expect: "skipped")
        try checkDetails()
        try s.press("2", expect: "No tasks left")
        #expect(s.finish() == 0)
        #expect(blindSeen == 2, "both blind items were checked")
        #expect(s.transcript.contains("ann: 2 answered, 1 skipped, 1 flagged, 0 undone."))
        // What annotators see is redacted: built-in rules and the project's pattern.
        for secret in ["jo@example.com", "ACC-123456", "7946 0958", "4111 1111"] {
            #expect(!s.transcript.contains(secret), "\(secret) reached the screen")
        }
        #expect(["[email]", "[redacted]", "[phone]", "[card]"].filter { s.transcript.contains($0) }.count >= 3,
                "three of the four items were shown, each with its placeholder")

        let store = try SQLiteStore.open(project: cli.project)
        let answers = try store.read { r in try r.answers(round: 1) }
        let flag = try #require(answers.first { $0.flagged })
        #expect(flag.note == "offensive | double check" && flag.label == nil)
        #expect(answers.filter { $0.label == nil && !$0.flagged }.count == 1, "one skip")
        #expect(answers.allSatisfy { $0.seconds > 0 }, "time per answer is recorded")
        // The flagged item is in the adjudication queue.
        try cli.ok(["annotators", "add", "lead", "--role", "adjudicator"])
        let rulings = try cli.write("rulings.jsonl", #"{"id":"\#(flag.itemID)","label":"neg"}"# + "\n")
        #expect(try cli.json(["adjudicate", "--annotator", "lead", "--answers", rulings])["settled"] as? Int == 1)
    }

    @Test func anAnswerAfterTheRoundClosedIsRefusedClearly() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try Self.textProject(cli, blindRate: "0")
        let s = try PTYSession(cli, args: ["label", "--annotator", "ann"])
        try s.waitFor("left 4")
        try cli.ok(["round", "close", "--force"])   // the lead closes the round (no answers yet) under the annotator's feet
        try s.press("1", expect: "was closed while you were labelling")
        #expect(s.finish() == 1)
        #expect(try SQLiteStore.open(project: cli.project).read { r in try r.answers(round: 1) }.isEmpty)
    }

    @Test func fitsEightyByTwentyFourHonoursNoColorAndRedrawsWhenResized() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try cli.ok(["init", "--labels", "yes,no"])
        try cli.register()
        let long = (0..<600).map { "word\($0)" }.joined(separator: " ")
        try cli.ok(["import", try cli.write("pool.jsonl", #"{"id":"long","text":"\#(long)"}"# + "\n")])
        try cli.ok(["round", "start", "--size", "1"])

        let plain = try PTYSession(cli, args: ["label", "--annotator", "ann"], environment: ["NO_COLOR": "1"])
        try plain.waitFor("left 1")
        var frame = plain.lastFrame
        #expect(frame.count <= 24 && frame.allSatisfy { $0.count <= 80 }, "frame:\n\(frame.joined(separator: "\n"))")
        #expect(frame.contains { $0.contains("more lines") }, "the long text is cut to fit, and says so")
        #expect(frame.contains { $0.hasPrefix("done 0 · left 1") }, "the progress line survives")
        #expect(!plain.transcript.contains("\u{1B}[1m") && !plain.transcript.contains("\u{1B}[7m"), "NO_COLOR: no styling")
        plain.screen = ""
        plain.resize(columns: 60, rows: 16)
        try plain.waitFor("left 1")
        frame = plain.lastFrame
        #expect(frame.count <= 16 && frame.allSatisfy { $0.count <= 60 }, "after resize:\n\(frame.joined(separator: "\n"))")
        #expect(frame.contains(String(repeating: "─", count: 60)))
        try plain.press("q", expect: "answered")
        #expect(plain.finish() == 0)

        let styled = try PTYSession(cli, args: ["label", "--annotator", "bo"])
        try styled.waitFor("left 1")
        #expect(styled.transcript.contains("\u{1B}[7m"), "styled when NO_COLOR is unset")
        try styled.press("\u{3}", expect: "answered")   // Ctrl-C quits cleanly, like q
        #expect(styled.finish() == 0)
        // Quitting gave the claim back at once (the lease is 10 minutes): someone else can answer.
        let answers = try cli.write("answers.jsonl", #"{"id":"long","label":"yes"}"# + "\n")
        #expect(try cli.json(["label", "--annotator", "cy", "--answers", answers])["answered"] as? Int == 1)
    }

    /// The adjudicator's loop: disputes and flagged items, with everyone's answers shown.
    @Test func adjudicatorSettlesADisputeAndAFlaggedItem() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try Self.disputes(cli)

        let s = try PTYSession(cli, args: ["adjudicate", "--annotator", "lead"])
        try s.waitFor("item a")
        try s.waitFor("ETA")
        #expect(s.screen.contains("ann: yes") && s.screen.contains("bo: no"), "the adjudicator sees the answers")
        try s.press("1", expect: "item c")
        try s.waitFor("ETA")
        #expect(s.screen.contains("cy: flagged — spam?"), "and the flag's reason")
        #expect(!s.transcript.contains("jo@example.com"), "redacted for adjudicators too")
        try s.press("2", expect: "No tasks left")
        #expect(s.finish() == 0)
        let labels = try #require(try cli.json(["consensus"])["labels"] as? [String: String])
        #expect(labels == ["a": "yes", "b": "yes", "c": "no"])
    }

    /// The top tier: an adjudicator escalates a dispute to the lead with f and a
    /// reason, takes it back with u, escalates it again; the lead resolves it.
    @Test func adjudicatorEscalatesADisputeToTheLead() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try Self.disputes(cli)
        let s = try PTYSession(cli, args: ["adjudicate", "--annotator", "lead"])
        try s.waitFor("item a")
        try s.press("f", expect: "Flag for the lead")
        try s.press("annotators split, needs policy\r", expect: "flagged for the lead")
        try s.waitFor("item c")
        #expect(try (cli.json(["incidents", "list"])["incidents"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["a"])
        try s.press("u", expect: "undone")
        try s.waitFor("item a")
        #expect(try (cli.json(["incidents", "list"])["incidents"] as? [[String: Any]])?.isEmpty == true, "withdrawn")
        try s.press("f", expect: "Flag for the lead")
        try s.press("needs policy\r", expect: "item c")
        try s.press("2", expect: "No tasks left")
        #expect(s.finish() == 0)
        #expect(s.transcript.contains("1 disputes settled, 1 escalated to the lead"))
        let incidents = try #require(try cli.json(["incidents", "list"])["incidents"] as? [[String: Any]])
        #expect(incidents.count == 1 && incidents.first?["id"] as? String == "a" && incidents.first?["reason"] as? String == "needs policy", "\(incidents)")
        #expect(incidents.first?["reason"] as? String == "needs policy"
                && incidents.first?["escalated_by"] as? String == "lead")
        let steps = try #require(try cli.json(["audit", "log", "--item", "a"])["events"] as? [[String: Any]]).compactMap { $0["kind"] as? String }
        #expect(steps.filter { $0.hasPrefix("escalation") } == ["escalation", "escalation.withdraw", "escalation"])
        try cli.ok(["annotators", "add", "boss", "--role", "lead"])
        try cli.ok(["incidents", "resolve", "a", "--label", "no", "--annotator", "boss"])
        let labels = try #require(try cli.json(["consensus"])["labels"] as? [String: String])
        #expect(labels["a"] == "no" && labels["c"] == "no")
        _ = try cli.ok(["audit", "verify"])
    }

    /// Items a and b answered by ann and bo (a disputed), c flagged by cy in the
    /// terminal loop; consensus run; "lead" registered as adjudicator.
    static func disputes(_ cli: CLI) throws {
        try cli.ok(["init", "--labels", "yes,no"])
        try cli.register()
        try cli.ok(["import", try cli.write("pool.jsonl", """
            {"id":"a","text":"first item"}
            {"id":"b","text":"second item"}
            {"id":"c","text":"third item, reach me at jo@example.com"}
            """)])
        try cli.ok(["round", "start", "--size", "3", "--overlap", "2", "--diversity", "none"])
        try cli.ok(["label", "--annotator", "ann", "--answers", try cli.write("ann.jsonl", #"{"id":"a","label":"yes"}"# + "\n" + #"{"id":"b","label":"yes"}"# + "\n")])
        try cli.ok(["label", "--annotator", "bo", "--answers", try cli.write("bo.jsonl", #"{"id":"a","label":"no"}"# + "\n" + #"{"id":"b","label":"yes"}"# + "\n")])
        let flagger = try PTYSession(cli, args: ["label", "--annotator", "cy"])
        try flagger.waitFor("item c")
        try flagger.press("f", expect: "Reason")
        try flagger.press("spam?\r", expect: "No tasks left")
        #expect(flagger.finish() == 0)
        let cards = try #require(try cli.json(["annotators", "list"])["annotators"] as? [[String: Any]])
        let cy = try #require(cards.first { $0["name"] as? String == "cy" })
        #expect(cy["flags"] as? Int == 1 && cy["skips"] as? Int == 0 && cy["answers"] as? Int == 0)
        try cli.ok(["consensus"])
        try cli.ok(["annotators", "add", "lead", "--role", "adjudicator"])
    }

    @Test func refusesWithoutATerminal() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try cli.ok(["init", "--labels", "yes,no"])
        try cli.register()
        try cli.ok(["import", try cli.write("pool.jsonl", "{\"id\":\"a\",\"text\":\"x\"}\n")])
        try cli.ok(["round", "start", "--size", "1"])
        let r = try cli.run(["label", "--annotator", "ann"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("--answers"))
    }
}
