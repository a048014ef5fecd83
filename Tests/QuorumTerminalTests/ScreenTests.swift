import QuorumCore
import QuorumLabelling
@testable import QuorumTerminal
import Testing

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
