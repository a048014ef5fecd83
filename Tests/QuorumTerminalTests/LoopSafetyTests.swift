import QuorumCore
import Testing
@testable import QuorumTerminal
import QuorumLabelling

/// What the screen does with hostile and huge input.
@Suite struct ScreenSafetyTests {
    @Test func wrappingAMillionCharacterWordIsLinear() {
        let clock = ContinuousClock()
        let small = String(repeating: "x", count: 100_000), big = String(repeating: "x", count: 1_000_000)
        var lines: [String] = []
        let tSmall = clock.measure { lines = Screen.wrap(small, width: 80) }
        #expect(lines.count == 1250 && lines.allSatisfy { $0.count == 80 })
        let tBig = clock.measure { lines = Screen.wrap(big, width: 80) }
        #expect(lines.count == 12_500)
        #expect(tBig < .seconds(2), "1M characters took \(tBig)")
        #expect(tBig < tSmall * 30, "10× the text took \(tBig) against \(tSmall): not linear")
    }

    @Test func aHugeItemIsLaidOutInBoundedTime() {
        let body = String(repeating: "abcdefghij", count: 100_000)
        let frame = Frame(title: "t", body: body, suggestion: nil, labels: ["[1] a"], keys: "k", progress: "p")
        var lines: [String] = []
        let took = ContinuousClock().measure {
            lines = Screen.layout(frame, columns: 80, rows: 24, style: Style(enabled: false))
        }
        #expect(took < .milliseconds(50), "laying out a 1M-character item took \(took)")
        #expect(lines.count <= 24 && lines.contains { $0.contains("more lines") })
    }

    @Test func controlCharactersInEveryFieldAreEscaped() {
        let hostile = "a\u{1B}]0;pwned\u{7}b\u{1B}[2Jc\u{9B}d\u{202E}e"
        let frame = Frame(title: "item " + hostile, body: "text " + hostile + "\nsecond line",
                          suggestion: "Suggestion: " + hostile, labels: ["[1] " + hostile], keys: "keys",
                          progress: "done 0", note: hostile,
                          details: TaskDetails(sections: [("Features behind " + hostile, ["line " + hostile])]),
                          message: "✓ " + hostile)
        for style in [Style(enabled: false), Style(enabled: true)] {
            let screen = Screen.layout(frame, columns: 200, rows: 40, style: style).joined(separator: "\n")
            for raw in ["\u{1B}]", "\u{7}", "\u{1B}[2J", "\u{9B}", "\u{202E}"] {
                #expect(!screen.contains(raw), "raw \(raw.debugDescription) in the screen")
            }
            #expect(screen.components(separatedBy: #"\e]0;pwned\u{0007}b\e[2Jc\u{009B}d\u{202E}e"#).count == 9,
                    "each of the eight fields shows the escaped text:\n\(screen)")
            #expect(screen.contains("second line"), "the item text keeps its own line breaks")
        }
    }

    @Test func bidiAndControlsInLabelsAreEscapedInTheLabelsLine() {
        let frame = Frame(title: "t", body: "b", suggestion: nil, labels: ["[1] y\u{202E}es", "[2] n\u{1B}[2Jo"],
                          keys: "k", progress: "p")
        let screen = Screen.layout(frame, columns: 80, rows: 24, style: Style(enabled: false)).joined()
        #expect(screen.contains(#"[1] y\u{202E}es  [2] n\e[2Jo"#))
    }
}

/// Which key picks which label.
@Suite struct LabelKeysTests {
    @Test func singleCharacterLabelsAreChosenByTheirOwnKey() {
        let digits = LabelKeys(labels: (0...9).map(String.init))
        #expect(digits.ownKeys)
        #expect(digits.label(forKey: "6") == 6 && digits.label(forKey: "0") == 0)
        let letters = LabelKeys(labels: ["a", "c", "e"])
        #expect(letters.ownKeys && letters.label(forKey: "c") == 1 && letters.label(forKey: "1") == nil)
        let scale = LabelKeys(labels: ["1", "2", "3", "4", "5"])
        #expect(scale.label(forKey: "5") == 4 && scale.label(forKey: "0") == nil)
    }

    @Test func otherLabelsGoByPositionAndSaySo() {
        for labels in [["yes", "no"], ["s", "t"], ["a", "b"], ["y", "n", "?"], ["1", "2", "10"]] {
            let keys = LabelKeys(labels: labels)
            #expect(!keys.ownKeys, "\(labels)")
            #expect(keys.label(forKey: "1") == 0 && keys.label(forKey: "2") == 1)
            #expect(keys.shown(labels).first == "[1] \(labels[0])")
        }
        let twelve = LabelKeys(labels: (1...12).map { "label\($0)" })
        #expect(twelve.label(forKey: "0") == 9 && twelve.key(forLabel: 10) == nil)
        #expect(twelve.shown((1...12).map { "label\($0)" }).last == "label12")
    }

    @Test func filteringFindsLabelsByWhatIsTyped() {
        let names = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliett", "kilo", "lima"]
        let keys = LabelKeys(labels: names)
        #expect(keys.matches("li", in: names) == [11, 2, 9], "prefix matches first, then the rest")
        #expect(keys.matches("KI", in: names) == [10])
        #expect(keys.matches("zz", in: names).isEmpty)
        #expect(keys.matches("", in: names).count == 12)
    }
}
