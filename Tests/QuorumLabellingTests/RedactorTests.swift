import Testing
@testable import QuorumLabelling

@Suite struct RedactorTests {
    let redactor = try! Redactor(patterns: [#"ACC-\d{6}"#])

    @Test func hidesEmailsPhonesAndCards() {
        #expect(redactor.apply("write to jo.smith+x@mail.example.co.uk today") == "write to [email] today")
        #expect(redactor.apply("call +44 20 7946 0958 now") == "call [phone] now")
        #expect(redactor.apply("or (555) 123-4567.") == "or [phone].")
        #expect(redactor.apply("ring 555.123.4567") == "ring [phone]")
        // 4111 1111 1111 1111 is Visa's published test number; it passes the Luhn check.
        #expect(redactor.apply("card 4111 1111 1111 1111 ok") == "card [card] ok")
        #expect(redactor.apply("card 4111-1111-1111-1111") == "card [card]")
    }

    @Test func leavesOrdinaryNumbersAlone() {
        #expect(redactor.apply("rated 4 out of 5 in 2019") == "rated 4 out of 5 in 2019")
        #expect(redactor.apply("only 12 items") == "only 12 items")
        // Sixteen digits that fail the Luhn check are an order number, not a card; too long for a phone.
        #expect(!redactor.apply("order 4111111111111112").contains("[card]"))
    }

    @Test func appliesProjectPatternsAndRejectsBadOnes() throws {
        #expect(redactor.apply("account ACC-123456 closed") == "account [redacted] closed")
        #expect(throws: RedactorError.self) { _ = try Redactor(patterns: ["(unclosed"]) }
    }

    @Test func luhnMatchesKnownNumbers() {
        #expect(Redactor.luhn("79927398713"[...]) == false, "11 digits is too short for a card")
        #expect(Redactor.luhn("4012888888881881"[...]))   // Visa test number
        #expect(Redactor.luhn("5555555555554444"[...]))   // Mastercard test number
        #expect(!Redactor.luhn("5555555555554445"[...]))
    }
}

@Suite struct ScreenTests {
    func frame(body: String, details: TaskDetails? = nil) -> Frame {
        Frame(title: "Quorum · ann · round 1 · item x", body: body, suggestion: "Suggestion: yes (91%)",
              labels: ["[1] yes", "[2] no"], keys: "Enter accept · s skip", progress: "done 3 · left 7 · 12/min · ETA 1 min",
              note: nil, details: details, message: "✓ w → yes")
    }

    @Test func neverExceedsTheTerminal() {
        let long = (0..<2000).map { "w\($0)" }.joined(separator: " ")
        let details = TaskDetails(sections: [("Nearest labelled examples", (0..<30).map { "example \($0) " + long.prefix(200) })])
        for (columns, rows) in [(80, 24), (40, 12), (200, 60)] {
            for d in [nil, details] {
                let lines = Screen.layout(frame(body: long, details: d), columns: columns, rows: rows, style: Style(enabled: false))
                #expect(lines.count <= rows, "\(columns)×\(rows): \(lines.count) lines")
                #expect(lines.allSatisfy { $0.count <= columns })
                #expect(lines.last == "✓ w → yes" && lines.contains("done 3 · left 7 · 12/min · ETA 1 min"),
                        "the keys, progress and message lines always show")
            }
        }
    }

    @Test func shortTextIsShownWhole() {
        let lines = Screen.layout(frame(body: "a short item"), columns: 80, rows: 24, style: Style(enabled: false))
        #expect(lines[2] == "a short item")
        #expect(lines[1] == String(repeating: "─", count: 80))
    }

    @Test func styleIsOffWithoutColour() {
        let styled = Screen.layout(frame(body: "x"), columns: 80, rows: 24, style: Style(enabled: true)).joined()
        let plain = Screen.layout(frame(body: "x"), columns: 80, rows: 24, style: Style(enabled: false)).joined()
        #expect(styled.contains("\u{1B}["))
        #expect(!plain.contains("\u{1B}["))
    }
}

@Suite struct DisplayWidthTests {
    @Test func wideCharactersTakeTwoColumns() {
        #expect(Screen.displayWidth("abc") == 3)
        #expect(Screen.displayWidth("日本語") == 6)
        #expect(Screen.displayWidth("한국어 text") == 11)
        #expect(Screen.displayWidth("e\u{301}") == 1, "a combining accent takes no column of its own")
    }

    @Test func cjkTextWrapsToTheTerminalWidth() {
        let text = String(repeating: "標注", count: 60)   // 120 wide characters, 240 columns, no spaces
        let lines = Screen.wrap(text, width: 80)
        #expect(lines.count == 3)
        #expect(lines.allSatisfy { Screen.displayWidth($0) <= 80 })
        let frame = Frame(title: "項目 " + text, body: text, suggestion: nil, labels: ["[1] 是", "[2] 否"], keys: "Enter",
                          progress: "done 0")
        let laid = Screen.layout(frame, columns: 80, rows: 24, style: Style(enabled: false))
        #expect(laid.allSatisfy { Screen.displayWidth($0) <= 80 })
    }
}

@Suite struct RedactionPatternCheckTests {
    @Test func refusesNestedRepetition() {
        for pattern in ["(a+)+$", "(a*)*", "(a|a)*", "(\\w+\\s?)+$", "(?:ab*)+c", "((ab)+)*", "(a{2,})+", "(x+x+)+y"] {
            #expect(throws: RedactorError.self, "\(pattern)") { try Redactor.check(pattern: pattern) }
            do { try Redactor.check(pattern: pattern) } catch {
                #expect(error.description.contains("\"\(pattern)\"") && error.description.contains("nested"), "\(error)")
                #expect(error.hint.contains("e.g."))
            }
        }
    }

    @Test func refusesPatternsThatMatchNothing() {
        for pattern in ["", "a*", "(x)?", "\\b", "a|"] {
            do {
                try Redactor.check(pattern: pattern)
                Issue.record("\(pattern) was accepted")
            } catch {
                #expect(error.description.contains("empty"), "\(error)")
            }
        }
    }

    @Test func acceptsOrdinaryPatterns() throws {
        for pattern in [#"ACC-\d{6}"#, "(ab)+", "(cat|dog)s?", #"[A-Z]{2}\d+"#, #"\(\d+\)"#, "(a|b)+c", #"x(\d{3}-)?y"#] {
            try Redactor.check(pattern: pattern)
        }
    }

    @Test func aSlowPatternIsStoppedAndHidesTheText() throws {
        // Not caught by the static check (no nested repetition), yet polynomial: O(n⁸) on a run of a's.
        try Redactor.check(pattern: "a*a*a*a*a*a*a*c")
        let redactor = try Redactor(patterns: ["a*a*a*a*a*a*a*c"], timeLimit: 0.05)
        let clock = ContinuousClock()
        var out = ""
        let took = clock.measure { out = redactor.apply(String(repeating: "a", count: 300) + " secret") }
        #expect(took < .seconds(1), "took \(took)")
        #expect(!out.contains("secret") && out.contains("took too long"), "\(out)")
    }

    @Test func builtInRulesAreLinearOnALongWord() throws {
        let redactor = try Redactor()
        let word = String(repeating: "x", count: 200_000)
        let took = ContinuousClock().measure { #expect(redactor.apply(word) == word) }
        #expect(took < .seconds(1), "200k characters took \(took)")
        #expect(redactor.apply("mail " + String(repeating: "y", count: 50) + "@example.com now") == "mail [email] now")
    }
}
