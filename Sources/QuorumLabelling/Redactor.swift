import Foundation

/// Hides personal data in everything annotators see: e-mail addresses, phone
/// numbers, card-like numbers, and any project-specific patterns.
///
/// Built-in rules:
/// - e-mail: `local@domain.tld` → `[email]`;
/// - card: 13–19 digits, optionally in groups separated by spaces or dashes,
///   that pass the Luhn check → `[card]` (order numbers that fail it are left);
/// - phone: an optional `+country`, then 7–15 digits in groups separated by
///   spaces, dots, dashes or brackets → `[phone]`.
/// Custom rules are regular expressions (ICU syntax); matches become `[redacted]`.
public struct Redactor: @unchecked Sendable {
    // NSRegularExpression is immutable and documented as thread-safe.
    private let email: NSRegularExpression
    private let card: NSRegularExpression
    private let phone: NSRegularExpression
    private let custom: [NSRegularExpression]

    /// The built-in rules plus `patterns`.
    /// - Throws: `QuorumError`-style `RedactorError` naming the pattern that does not compile.
    public init(patterns: [String] = []) throws(RedactorError) {
        email = try Self.compile("[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}")
        card = try Self.compile("(?<![\\d-])(?:\\d[ -]?){12,18}\\d(?![\\d-])")
        phone = try Self.compile("(?<![\\w+])(?:\\+\\d{1,3}[ .-]?)?(?:\\(\\d{1,4}\\)[ .-]?)?\\d{2,4}(?:[ .-]?\\d{2,4}){1,4}(?!\\w)")
        var custom: [NSRegularExpression] = []
        for p in patterns { custom.append(try Self.compile(p)) }
        self.custom = custom
    }

    private static func compile(_ pattern: String) throws(RedactorError) -> NSRegularExpression {
        do { return try NSRegularExpression(pattern: pattern) } catch {
            throw RedactorError(pattern: pattern)
        }
    }

    /// `text` with every match replaced by its placeholder.
    ///
    /// - Complexity: O(rules × length of `text`).
    public func apply(_ text: String) -> String {
        var out = text
        for rule in custom { out = replace(rule, in: out, with: "[redacted]") }
        out = replace(email, in: out, with: "[email]")
        out = replace(card, in: out, with: "[card]") { Self.luhn($0) }
        out = replace(phone, in: out, with: "[phone]") { match in
            let digits = match.filter(\.isNumber).count
            return (7...15).contains(digits)
        }
        return out
    }

    private func replace(_ rule: NSRegularExpression, in text: String, with placeholder: String,
                         when accept: (Substring) -> Bool = { _ in true }) -> String {
        let ns = text as NSString
        let matches = rule.matches(in: text, range: NSRange(location: 0, length: ns.length))
        guard !matches.isEmpty else { return text }
        var out = ""
        var last = 0
        for m in matches {
            let piece = ns.substring(with: m.range)
            guard accept(Substring(piece)) else { continue }
            out += ns.substring(with: NSRange(location: last, length: m.range.location - last)) + placeholder
            last = m.range.location + m.range.length
        }
        return out + ns.substring(from: last)
    }

    /// The Luhn checksum over the digits of `s`.
    static func luhn(_ s: Substring) -> Bool {
        let digits = s.compactMap(\.wholeNumberValue)
        guard (13...19).contains(digits.count) else { return false }
        var sum = 0
        for (i, d) in digits.reversed().enumerated() {
            if i % 2 == 1 { let x = d * 2; sum += x > 9 ? x - 9 : x } else { sum += d }
        }
        return sum % 10 == 0
    }
}

/// A redaction pattern that is not a valid regular expression.
public struct RedactorError: Error, Equatable, CustomStringConvertible {
    public var pattern: String
    public var description: String {
        "redaction pattern \"\(pattern)\" is not a valid regular expression (ICU syntax)"
    }
}
