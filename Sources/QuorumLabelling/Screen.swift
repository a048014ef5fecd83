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
    /// The frame's lines, each at most `columns` characters (before styling).
    ///
    /// - Complexity: O(length of the text shown).
    public static func layout(_ frame: Frame, columns: Int, rows: Int, style: Style) -> [String] {
        let width = max(20, columns)
        let height = max(10, rows)
        func fit(_ s: String) -> String { s.count <= width ? s : String(s.prefix(width - 1)) + "…" }
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

    /// Greedy word wrap; words longer than the width are cut.
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if paragraph.count <= width {
                lines.append(String(paragraph))
                continue
            }
            var line = ""
            for var word in paragraph.split(separator: " ") {
                while word.count > width {
                    if !line.isEmpty { lines.append(line); line = "" }
                    lines.append(String(word.prefix(width)))
                    word = word.dropFirst(width)
                }
                if line.count + word.count + 1 > width, !line.isEmpty { lines.append(line); line = "" }
                line += line.isEmpty ? String(word) : " " + word
            }
            lines.append(line)
        }
        return lines
    }
}
