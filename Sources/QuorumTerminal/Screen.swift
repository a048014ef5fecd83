import Glibc
import QuorumCore
import QuorumLabelling

/// Text styling for the loop: ANSI bold/dim/reverse, or nothing at all when
/// `NO_COLOR` is set (https://no-color.org) or the terminal is dumb.
public struct Style: Sendable, Equatable {
    public var enabled: Bool

    public init(enabled: Bool) { self.enabled = enabled }

    /// Styling on unless `NO_COLOR` is set to anything non-empty or `TERM` is `dumb`.
    public static func fromEnvironment() -> Style {
        let noColor = getenv("NO_COLOR").map { String(cString: $0) } ?? ""
        let term = getenv("TERM").map { String(cString: $0) } ?? ""
        return Style(enabled: noColor.isEmpty && term != "dumb")
    }

    public func bold(_ s: String) -> String { enabled ? "\u{1B}[1m\(s)\u{1B}[0m" : s }
    public func dim(_ s: String) -> String { enabled ? "\u{1B}[2m\(s)\u{1B}[0m" : s }
    public func reverse(_ s: String) -> String { enabled ? "\u{1B}[7m\(s)\u{1B}[0m" : s }
}

/// Everything one frame of the loop shows. Every field is plain text as
/// people wrote it: the screen escapes control characters itself
/// (`TerminalText.visible`) and adds its own styling.
public struct Frame: Sendable {
    public var title: String
    /// The item's text (or its metadata); may be a prefix of it (see `bodyIsCut`).
    public var body: String
    /// "Suggestion: …" or the blind-mode notice; nil when there is nothing to say.
    public var suggestion: String?
    public var labels: [String]
    public var keys: String
    public var progress: String
    public var note: String?
    public var details: TaskDetails?
    public var message: String?
    /// Whether `body` is only the start of a longer text.
    public var bodyIsCut = false
    /// The first line of the body shown (paging through a long text).
    public var scroll = 0
    /// Help lines shown above the keys line (`?`).
    public var help: [String] = []

    public init(title: String, body: String, suggestion: String?, labels: [String], keys: String, progress: String,
                note: String? = nil, details: TaskDetails? = nil, message: String? = nil) {
        self.title = title; self.body = body; self.suggestion = suggestion; self.labels = labels; self.keys = keys
        self.progress = progress; self.note = note; self.details = details; self.message = message
    }
}

/// Lays a frame out on a terminal of `columns × rows`: never wider, never
/// taller. The item's text gets the rows that the fixed lines leave; details
/// take rows from the text, never from the keys or the progress line.
///
/// However long a text is, only a screenful of it (plus a bounded margin) is
/// escaped and wrapped, so drawing takes the same time for 100 characters or
/// 1,000,000.
public enum Screen {
    /// A laid-out frame: its lines, and where the body's page starts.
    public struct Page: Sendable, Equatable {
        /// At most `rows` lines, each at most `columns` wide (before styling).
        public var lines: [String]
        /// The first body line shown, after clamping to the text's end.
        public var scroll: Int
        /// Body lines per page.
        public var pageLines: Int
        /// Whether more of the body follows the page.
        public var more: Bool
    }

    /// The frame's lines, each at most `columns` terminal columns wide (before styling;
    /// wide CJK characters count two).
    ///
    /// - Complexity: O(columns × rows), whatever the length of the text.
    public static func layout(_ frame: Frame, columns: Int, rows: Int, style: Style) -> [String] {
        page(frame, columns: columns, rows: rows, style: style).lines
    }

    /// Lays `frame` out; see `layout`.
    public static func page(_ frame: Frame, columns: Int, rows: Int, style: Style) -> Page {
        let width = max(20, columns)
        let height = max(10, rows)
        /// A one-line field: a bounded prefix, escaped, cut to the width.
        func fit(_ s: String) -> String {
            let shown = TerminalText.visible(shownPrefix(s, columns: width, rows: 1).text)
            return displayWidth(shown) <= width ? shown : prefix(shown, width: width - 1) + "…"
        }
        var top = [style.reverse(fit(frame.title)), String(repeating: "─", count: width)]
        var bottom: [String] = [""]
        if let s = frame.suggestion { bottom.append(style.bold(fit(s))) }
        bottom += wrap(frame.labels.map(fit).joined(separator: "  "), width: width, maxLines: 4).map(fit)
        bottom += frame.help.map { style.dim(fit($0)) }
        bottom.append(style.dim(fit(frame.keys)))
        if let note = frame.note { bottom.append(fit("note: \(note)")) }
        bottom.append(fit(frame.progress))
        if let message = frame.message, !message.isEmpty { bottom.append(style.bold(fit(message))) }
        var available = height - top.count - bottom.count
        var detailLines: [String] = []
        if let details = frame.details {
            let budget = max(0, available - 3)   // the text keeps at least three rows
            for section in details.sections where detailLines.count < budget {
                detailLines.append(style.bold(fit(section.title)))
                detailLines += section.lines.prefix(budget).map { fit("  " + $0) }
            }
            if detailLines.count > budget { detailLines = Array(detailLines.prefix(budget)) }
            available -= detailLines.count
        }
        let pageLines = max(available - 1, 1)
        let (body, cut) = shownPrefix(frame.body, columns: width, rows: max(frame.scroll, 0) + height)
        let wrapped = wrap(TerminalText.visible(body, keepNewlines: true), width: width,
                           maxLines: max(frame.scroll, 0) + available + 1)
        let fits = !cut && !frame.bodyIsCut && wrapped.count <= available
        let scroll = fits ? 0 : min(max(frame.scroll, 0), max(0, wrapped.count - pageLines))
        var text = fits ? wrapped : Array(wrapped.dropFirst(scroll).prefix(pageLines))
        let more = !fits && (cut || frame.bodyIsCut || scroll + pageLines < wrapped.count)
        if !fits && available > 0 {
            text.append(style.dim(fit(more ? "… more lines below · space: next page" + (scroll > 0 ? " · b: back" : "")
                                            : "(end of text · b: back)")))
        }
        top += text.prefix(max(available, 0))
        top += detailLines
        return Page(lines: top + bottom, scroll: scroll, pageLines: pageLines, more: more)
    }

    /// The start of `text` that a screen of `columns × rows` can need: at most
    /// four Unicode scalars per cell (room for combining marks), so laying out,
    /// escaping and redacting it take bounded time. `isCut` tells whether
    /// anything was left out.
    ///
    /// - Complexity: O(columns × rows).
    public static func shownPrefix(_ text: String, columns: Int, rows: Int) -> (text: String, isCut: Bool) {
        let limit = 4 * max(columns, 1) * (max(rows, 1) + 1)
        let scalars = text.unicodeScalars
        guard let end = scalars.index(scalars.startIndex, offsetBy: limit, limitedBy: scalars.endIndex),
              end != scalars.endIndex else { return (text, false) }
        return (String(scalars[..<end]), true)
    }

    /// Greedy word wrap by display width; words wider than the line are cut.
    /// Stops after `maxLines` lines.
    ///
    /// - Complexity: O(length of the text wrapped): each character is read once,
    ///   and each word is copied once, as a slice.
    static func wrap(_ text: String, width: Int, maxLines: Int = .max) -> [String] {
        let width = max(1, width)
        var lines: [String] = []
        var line = "", lineWidth = 0
        var wordStart = text.startIndex, wordWidth = 0, wordCount = 0
        var gap = 0                     // spaces between the line and the word being read
        var paragraphStart = true
        func endLine() { lines.append(line); line = ""; lineWidth = 0 }
        func placeWord(endingAt end: String.Index) {
            guard wordCount > 0 else { return }
            let word = text[wordStart..<end]
            if line.isEmpty {
                let indent = paragraphStart && gap + wordWidth <= width ? gap : 0
                line = String(repeating: " ", count: indent) + word; lineWidth = indent + wordWidth
            } else if lineWidth + gap + wordWidth <= width {
                line += String(repeating: " ", count: gap); line += word; lineWidth += gap + wordWidth
            } else {
                endLine(); line = String(word); lineWidth = wordWidth
            }
            paragraphStart = false
            wordWidth = 0; wordCount = 0; gap = 0
        }
        var i = text.startIndex
        while i < text.endIndex, lines.count < maxLines {
            let c = text[i]
            if c == "\n" || c == "\r\n" {
                placeWord(endingAt: i); endLine(); gap = 0; paragraphStart = true
            } else if c == " " {
                placeWord(endingAt: i)
                gap += 1
            } else {
                let cw = columns(c)
                // A word wider than the line (or a long run of zero-width characters) is cut.
                if wordCount > 0, wordWidth + cw > width || wordCount >= 4 * width {
                    if !line.isEmpty { endLine() }
                    line = String(text[wordStart..<i]); endLine()
                    wordWidth = 0; wordCount = 0; gap = 0; paragraphStart = false
                }
                if wordCount == 0 { wordStart = i }
                wordWidth += cw; wordCount += 1
            }
            i = text.index(after: i)
        }
        if lines.count >= maxLines { return lines }
        placeWord(endingAt: text.endIndex)
        endLine()
        return lines
    }

    /// Terminal columns a character takes: 2 for East Asian wide and fullwidth
    /// characters and most emoji, 0 for combining marks and zero-width joiners, else 1.
    static func columns(_ c: Character) -> Int {
        guard let scalar = c.unicodeScalars.first else { return 0 }
        let v = scalar.value
        switch v {
        case 0x0300...0x036F, 0x200B...0x200F: return 0
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
             0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
             0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD:
            return 2
        default: return 1
        }
    }

    /// The terminal columns `s` takes.
    static func displayWidth<S: StringProtocol>(_ s: S) -> Int {
        var w = 0
        for c in s { w += columns(c) }
        return w
    }

    /// The longest prefix of `s` that fits in `width` columns.
    static func prefix<S: StringProtocol>(_ s: S, width: Int) -> String {
        var out = "", w = 0
        for c in s {
            let cw = columns(c)
            if w + cw > width { break }
            out.append(c)
            w += cw
        }
        return out
    }
}
