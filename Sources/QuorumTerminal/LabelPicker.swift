import QuorumCore
import QuorumLabelling

extension LabelLoop {
    /// `/`: finds a label by typing part of its name (any label, also past the
    /// tenth). The bottom line lists the matches as they narrow; Enter picks
    /// the first, Esc cancels. Ctrl-C cancels and quits the loop.
    func pickLabel() -> Int? {
        var typed = ""
        while true {
            let found = keys.matches(typed, in: labels.names)
            let listed = found.prefix(5).map { labels.names[$0] }.joined(separator: ", ") + (found.count > 5 ? ", …" : "")
            let line = "Label: \(typed)_  → " + (found.isEmpty ? "no label matches" : listed)
                + (found.isEmpty ? "  (Backspace, Esc cancels)" : "  (Enter picks \(labels.names[found[0]]), Esc cancels)")
            let (columns, rows) = RawTerminal.size()
            let shown = TerminalText.visible(line)
            terminal.write("\u{1B}[\(rows);1H\u{1B}[2K" + Screen.prefix(shown, width: max(columns - 1, 1)))
            guard let key = terminal.readKey() else { return nil }
            switch key {
            case .enter:
                if let first = found.first { return first }
            case .escape:
                return nil
            case .interrupt:
                typedAhead = .interrupt
                return nil
            case .backspace:
                if !typed.isEmpty { typed.removeLast() }
            case .character(let c) where !c.unicodeScalars.contains(where: TerminalText.isUnsafe):
                typed.append(c)
            default:
                continue
            }
        }
    }
}
