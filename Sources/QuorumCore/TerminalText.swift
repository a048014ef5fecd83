/// Making user-supplied strings safe to show on a terminal.
///
/// Item texts, ids, label names, metadata and quoted file content come from
/// people we do not control. Written raw, `ESC ] 0;… BEL` retitles the
/// terminal, `ESC [2J` wipes it, a bare CR or a newline in an id forges an
/// output line, and bidi overrides make text read differently from what it
/// is. Everything a terminal shows goes through `TerminalText.visible`.
public enum TerminalText {
    /// Whether `scalar` must not reach a terminal raw: C0 controls (tab and
    /// newline included), DEL, C1 controls, and the bidi embedding, override
    /// and isolate marks (U+202A–U+202E, U+2066–U+2069, U+061C, U+200E, U+200F).
    @inlinable
    public static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: return true
        case 0x202A...0x202E, 0x2066...0x2069, 0x061C, 0x200E, 0x200F: return true
        default: return false
        }
    }

    /// Whether `s` holds any character `isUnsafe` refuses.
    public static func containsUnsafe(_ s: String) -> Bool {
        s.unicodeScalars.contains(where: isUnsafe)
    }

    /// `s` with every unsafe scalar written as a visible escape: `\n`, `\r`,
    /// `\t`, `\e` for ESC, and `\u{XXXX}` for the rest. A backslash is left as
    /// it is. With `keepNewlines`, `\n` stays a line break (for multi-line
    /// texts a screen lays out itself); every other control is still escaped.
    ///
    /// - Complexity: O(n); returns `s` itself when nothing needs escaping.
    public static func visible(_ s: String, keepNewlines: Bool = false) -> String {
        guard s.unicodeScalars.contains(where: { isUnsafe($0) && !(keepNewlines && $0 == "\n") }) else { return s }
        var out = String.UnicodeScalarView()
        for scalar in s.unicodeScalars {
            guard isUnsafe(scalar) else { out.append(scalar); continue }
            switch scalar {
            case "\n" where keepNewlines: out.append(scalar)
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            case "\r": out.append(contentsOf: "\\r".unicodeScalars)
            case "\t": out.append(contentsOf: "\\t".unicodeScalars)
            case "\u{1B}": out.append(contentsOf: "\\e".unicodeScalars)
            default:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out.append(contentsOf: "\\u{\(String(repeating: "0", count: max(0, 4 - hex.count)))\(hex)}".unicodeScalars)
            }
        }
        return String(out)
    }
}
