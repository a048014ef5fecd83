import Glibc
import QuorumCore

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

/// Everything one frame of the loop shows.
public struct Frame: Sendable {
    public var title: String
    public var body: String
    /// "Suggestion: …" or the blind-mode notice; nil when there is nothing to say.
    public var suggestion: String?
    public var labels: [String]
    public var keys: String
    public var progress: String
    public var note: String?
    public var details: TaskDetails?
    public var message: String?

    public init(title: String, body: String, suggestion: String?, labels: [String], keys: String, progress: String,
                note: String? = nil, details: TaskDetails? = nil, message: String? = nil) {
        self.title = title; self.body = body; self.suggestion = suggestion; self.labels = labels; self.keys = keys
        self.progress = progress; self.note = note; self.details = details; self.message = message
    }
}

/// Lays a frame out on a terminal of `columns × rows`: never wider, never
/// taller. The item's text gets the rows that the fixed lines leave; details
/// take rows from the text, never from the keys or the progress line.
public enum Screen {
    /// The frame's lines, each at most `columns` terminal columns wide (before styling;
    /// wide CJK characters count two).
    ///
    /// - Complexity: O(length of the text shown).
    public static func layout(_ frame: Frame, columns: Int, rows: Int, style: Style) -> [String] {
        let width = max(20, columns)
        let height = max(10, rows)
        func fit(_ s: String) -> String { displayWidth(s) <= width ? s : prefix(s, width: width - 1) + "…" }
        var top = [style.reverse(fit(frame.title)), String(repeating: "─", count: width)]
        var bottom: [String] = [""]
        if let s = frame.suggestion { bottom.append(style.bold(fit(s))) }
        bottom += wrap(frame.labels.joined(separator: "  "), width: width).map(fit)
        bottom.append(style.dim(fit(frame.keys)))
        if let note = frame.note { bottom.append(fit("note: \(note)")) }
        bottom.append(fit(frame.progress))
        if let message = frame.message, !message.isEmpty { bottom.append(style.bold(fit(message))) }
        var available = height - top.count - bottom.count
        var detailLines: [String] = []
        if let details = frame.details {
            let budget = max(0, available - 3)   // the text keeps at least three rows
            for section in details.sections {
                detailLines.append(style.bold(fit(section.title)))
                detailLines += section.lines.map { fit("  " + $0) }
            }
            if detailLines.count > budget { detailLines = Array(detailLines.prefix(budget)) }
            available -= detailLines.count
        }
        var text = wrap(frame.body, width: width)
        if text.count > available {
            text = Array(text.prefix(max(available - 1, 0)))
            if available > 0 { text.append(style.dim("… (\(wrap(frame.body, width: width).count - text.count) more lines)")) }
        }
        top += text
        top += detailLines
        return top + bottom
    }

    /// Greedy word wrap by display width; words wider than the line are cut.
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if displayWidth(paragraph) <= width {
                lines.append(String(paragraph))
                continue
            }
            var line = "", lineWidth = 0
            for var word in paragraph.split(separator: " ") {
                var wordWidth = displayWidth(word)
                while wordWidth > width {
                    if !line.isEmpty { lines.append(line); line = ""; lineWidth = 0 }
                    let head = prefix(word, width: width)
                    lines.append(head)
                    word = word.dropFirst(head.count)
                    wordWidth = displayWidth(word)
                }
                if lineWidth + wordWidth + 1 > width, !line.isEmpty { lines.append(line); line = ""; lineWidth = 0 }
                if line.isEmpty { line = String(word); lineWidth = wordWidth } else { line += " " + word; lineWidth += 1 + wordWidth }
            }
            lines.append(line)
        }
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
