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
