import Foundation
import QuorumCore

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
///
/// Matching is bounded in time: a rule that runs longer than `timeLimit` on
/// one text (a pattern that backtracks badly) stops, and the whole text is
/// hidden rather than shown half-redacted. `Redactor.check(pattern:)` refuses
/// the usual culprits before they are stored.
public struct Redactor: @unchecked Sendable {
    // NSRegularExpression is immutable and documented as thread-safe.
    private let email: NSRegularExpression
    private let card: NSRegularExpression
    private let phone: NSRegularExpression
    private let custom: [NSRegularExpression]
    /// Seconds one rule may take on one text.
    public let timeLimit: Double

    /// What a text becomes when a rule took too long on it.
    public static let hiddenText = "[hidden: a redaction pattern took too long on this text]"

    /// The built-in rules plus `patterns`.
    /// - Throws: `RedactorError` naming the pattern that does not compile.
    public init(patterns: [String] = [], timeLimit: Double = 0.2) throws(RedactorError) {
        self.timeLimit = timeLimit
        // The local part starts only where no local-part character precedes it, and is
        // never given back (possessive): a long word without `@` is read once, not n²/2 times.
        email = try Self.compile("(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]++@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}")
        card = try Self.compile("(?<![\\d-])(?:\\d[ -]?){12,18}\\d(?![\\d-])")
        phone = try Self.compile("(?<![\\w+])(?:\\+\\d{1,3}[ .-]?)?(?:\\(\\d{1,4}\\)[ .-]?)?\\d{2,4}(?:[ .-]?\\d{2,4}){1,4}(?!\\w)")
        var custom: [NSRegularExpression] = []
        for p in patterns { custom.append(try Self.compile(p)) }
        self.custom = custom
    }

    static func compile(_ pattern: String) throws(RedactorError) -> NSRegularExpression {
        do { return try NSRegularExpression(pattern: pattern) } catch {
            throw RedactorError(pattern: pattern, problem: "is not a valid regular expression (ICU syntax)",
                                hint: "patterns use ICU regular-expression syntax, e.g. 'ACC-\\d{6}'")
        }
    }

    /// `text` with every match replaced by its placeholder.
    ///
    /// - Complexity: O(rules × length of `text`) for the built-in rules; at most
    ///   `timeLimit` seconds per rule.
    public func apply(_ text: String) -> String {
        var out = text
        for rule in custom {
            guard let next = replace(rule, in: out, with: "[redacted]") else { return Self.hiddenText }
            out = next
        }
        guard let next = replace(email, in: out, with: "[email]") else { return Self.hiddenText }
        out = next
        guard let next = replace(card, in: out, with: "[card]", when: { Self.luhn($0) }) else { return Self.hiddenText }
        out = next
        guard let next = replace(phone, in: out, with: "[phone]", when: { match in
            let digits = match.filter(\.isNumber).count
            return (7...15).contains(digits)
        }) else { return Self.hiddenText }
        return next
    }

    /// `text` with `rule`'s matches replaced; nil when matching ran out of time.
    /// Zero-length matches are ignored.
    private func replace(_ rule: NSRegularExpression, in text: String, with placeholder: String,
                         when accept: (Substring) -> Bool = { _ in true }) -> String? {
        let ns = text as NSString
        let deadline = monotonicSeconds() + timeLimit
        var matches: [NSTextCheckingResult] = []
        var timedOut = false
        // With .reportProgress the block is also called while a long match is running, so it can stop it.
        rule.enumerateMatches(in: text, options: [.reportProgress], range: NSRange(location: 0, length: ns.length)) { m, _, stop in
            if let m, m.range.length > 0 { matches.append(m) }
            if monotonicSeconds() > deadline { timedOut = true; stop.pointee = true }
        }
        guard !timedOut else { return nil }
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

/// A redaction pattern that cannot be used: it does not compile, could freeze
/// the screen, or matches nothing at all.
public struct RedactorError: Error, Equatable, CustomStringConvertible {
    public var pattern: String
    /// What is wrong, completing "redaction pattern "…" ".
    public var problem: String
    /// What to do instead.
    public var hint: String

    public init(pattern: String, problem: String, hint: String) {
        self.pattern = pattern; self.problem = problem; self.hint = hint
    }

    public var description: String { "redaction pattern \"\(pattern)\" \(problem)" }
}
