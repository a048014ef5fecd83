import Foundation

extension Redactor {
    /// Refuses a custom pattern that does not compile, that could freeze the
    /// screen, or that matches the empty string.
    ///
    /// The freeze check is static and deliberately simple. It refuses a group
    /// repeated by `*`, `+`, `{n,}` or `{n,m}` (m > 1) when the group
    ///   - itself holds a variable repetition (`*`, `+`, `?`, `{n,}`, `{n,m}`), as in `(a+)+`, `(a*)*`, `(\w+\s?)+`; or
    ///   - has alternatives that can start the same way (the same first atom,
    ///     an empty alternative, or one starting with `.`, `\w`, `\S`, `\D`, `\W` or `[^…]`), as in `(a|a)*`.
    /// Patterns it misses are still stopped by the redactor's time limit.
    ///
    /// - Throws: `RedactorError` naming the pattern, what is wrong and what to write instead.
    public static func check(pattern: String) throws(RedactorError) {
        let regex = try compile(pattern.isEmpty ? "(?:)" : pattern)
        if let nesting = nestedRepetition(in: pattern) {
            throw RedactorError(pattern: pattern, problem: "has nested repetition (\(nesting)): on a long text it can take "
                                    + "exponential time and freeze every annotator's screen",
                                hint: "repeat once, e.g. 'a+$' instead of '(a+)+$', or '(?:ab)+' instead of '(a*b)+'")
        }
        for probe in ["", "ab 1.\n"] {
            var empty = false
            if pattern.isEmpty { empty = true }
            regex.enumerateMatches(in: probe, range: NSRange(location: 0, length: (probe as NSString).length)) { m, _, stop in
                if let m, m.range.length == 0 { empty = true; stop.pointee = true }
            }
            if empty {
                throw RedactorError(pattern: pattern, problem: "matches the empty string, so it hides nothing and "
                                        + "would put placeholders between characters",
                                    hint: "make it match at least one character, e.g. 'x+' instead of 'x*'")
            }
        }
    }

    /// One group being read: what it holds so far.
    private struct Group {
        var repeats = false               // holds a variable repetition
        var branchStarts: [String?] = [nil]
        var atBranchStart = true
    }

    /// A description of the first group that repeats a repetition or ambiguous
    /// alternatives, e.g. "a repeated group that itself repeats", or nil.
    static func nestedRepetition(in pattern: String) -> String? {
        let chars = Array(pattern)
        var stack = [Group()]
        var i = 0
        /// The quantifier at `i`, if any: (whether it lets the count vary, whether it repeats more than once), consumed.
        func quantifier() -> (variable: Bool, repeats: Bool)? {
            guard i < chars.count else { return nil }
            var result: (Bool, Bool)?
            switch chars[i] {
            case "*", "+": result = (true, true); i += 1
            case "?": result = (true, false); i += 1
            case "{":
                guard let close = chars[i...].firstIndex(of: "}") else { return nil }
                let parts = String(chars[(i + 1)..<close]).split(separator: ",", omittingEmptySubsequences: false)
                let low = Int(parts.first ?? "") ?? 0
                let high = parts.count == 1 ? low : Int(parts[1]) ?? Int.max
                result = (high > low, high > 1)
                i = close + 1
            default: return nil
            }
            if i < chars.count, chars[i] == "?" || chars[i] == "+" { i += 1 }   // lazy or possessive
            return result
        }
        func atom(_ text: String) {
            if stack[stack.count - 1].atBranchStart {
                stack[stack.count - 1].branchStarts[stack[stack.count - 1].branchStarts.count - 1] = text
                stack[stack.count - 1].atBranchStart = false
            }
            if let q = quantifier(), q.variable { stack[stack.count - 1].repeats = true }
        }
        while i < chars.count {
            let c = chars[i]
            switch c {
            case "\\":
                let text = String(chars[i..<min(i + 2, chars.count)])
                i += 2
                atom(text)
            case "[":
                var j = i + 1, depth = 1
                while j < chars.count, depth > 0 {
                    if chars[j] == "\\" { j += 1 } else if chars[j] == "[" { depth += 1 } else if chars[j] == "]" { depth -= 1 }
                    j += 1
                }
                let text = String(chars[i..<min(j, chars.count)])
                i = j
                atom(text)
            case "(":
                i += 1
                if i < chars.count, chars[i] == "?" {   // (?:…), (?=…), (?<name>…), (?i)…
                    while i < chars.count, !":=!>)".contains(chars[i]) { i += 1 }
                    if i < chars.count, chars[i] != ")" { i += 1 }
                }
                stack.append(Group())
            case ")" where stack.count > 1:
                i += 1
                let group = stack.removeLast()
                let q = quantifier()
                if let q, q.repeats {
                    if group.repeats { return "a repeated group that itself repeats, like (a+)+" }
                    let starts = group.branchStarts
                    let wide: Set<String> = [".", "\\w", "\\W", "\\S", "\\D", "\\s"]
                    if starts.count > 1, starts.contains(where: { $0 == nil || wide.contains($0!) || $0!.hasPrefix("[^") })
                        || Set(starts.compactMap { $0 }).count < starts.count {
                        return "a repeated group whose alternatives can match the same text, like (a|a)*"
                    }
                }
                if stack[stack.count - 1].atBranchStart {
                    stack[stack.count - 1].branchStarts[stack[stack.count - 1].branchStarts.count - 1] = group.branchStarts.first ?? nil
                    stack[stack.count - 1].atBranchStart = false
                }
                if group.repeats || (q?.variable ?? false) { stack[stack.count - 1].repeats = true }
            case "|":
                i += 1
                stack[stack.count - 1].branchStarts.append(nil)
                stack[stack.count - 1].atBranchStart = true
            case "^", "$":
                i += 1
            default:
                i += 1
                atom(String(c))
            }
        }
        return nil
    }
}
