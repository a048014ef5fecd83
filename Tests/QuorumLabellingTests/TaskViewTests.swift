import QuorumCore
import Testing
@testable import QuorumLabelling

/// The display model both views show: redaction cannot be bypassed, and the
/// suggestion follows the probabilities.
@Suite struct TaskViewTests {
    let redactor = try! Redactor()

    @Test func aRedactedTextOnlyEverGivesRedactedText() {
        let text = RedactedText("mail jo@example.com or call 555-123-4567 " + String(repeating: "x", count: 100), redactor: redactor)
        #expect(text.full.hasPrefix("mail [email] or call [phone] "))
        let (head, cut) = text.prefix { raw in (String(raw.prefix(20)), raw.count > 20) }
        #expect(head == "mail [email] ", "the cut is made on the raw text, then redacted: \(head)")
        #expect(cut)
    }

    @Test func theSuggestionIsTheMostLikelyLabelWithTwoRunnersUp() throws {
        let s = try #require(Suggestion(probabilities: [0.1, 0.6, 0.05, 0.25], labels: ["a", "b", "c", "d"]))
        #expect(s.label == "b" && s.index == 1 && abs(s.confidence - 0.6) < 1e-6)
        #expect(s.alternatives.map(\.label) == ["d", "a"])
        #expect(Suggestion(probabilities: [0.5, 0.5], labels: ["a", "b", "c"]) == nil, "probabilities must cover the labels")
    }

    @Test func aBlindTaskNeverCarriesASuggestion() {
        let view = TaskView(taskID: 1, roundID: 1, itemID: "i", text: nil, content: "", meta: [], fields: [],
                            suggestion: Suggestion(probabilities: [0.9, 0.1], labels: ["a", "b"]), blind: true, labels: ["a", "b"])
        #expect(view.suggestion == nil && view.blind)
    }
}
