// Byte-level JSON scanning shared by the line parser: strings (with escape
// validation and decoding), numbers, literals, and generic values that are
// either skipped (validated only) or re-serialised compactly.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The shape of a scanned JSON number.
struct NumberScan {
    var end: Int
    var mantissa: UInt64
    var fractionDigits: Int
    var negative: Bool
    /// No exponent and at most 19 significant digits: `fastFloat` may apply.
    var simple: Bool
    /// No fraction and no exponent.
    var isInteger: Bool
}

private let swarOnes: UInt64 = 0x0101_0101_0101_0101
private let swarHigh: UInt64 = 0x8080_8080_8080_8080

@inline(__always) func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }

@inline(__always) func hexValue(_ b: UInt8) -> UInt32? {
    switch b {
    case 0x30...0x39: return UInt32(b - 0x30)
    case 0x41...0x46: return UInt32(b - 0x41 + 10)
    case 0x61...0x66: return UInt32(b - 0x61 + 10)
    default: return nil
    }
}

extension JSONLineParser {
    // MARK: Whitespace and descriptions

    @inline(__always) func skipWS(_ start: Int) -> Int {
        var i = start
        while i < n {
            let b = p[i]
            if b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A { i += 1 } else { break }
        }
        return i
    }

    /// Describes the byte at `i` for error messages.
    func found(_ i: Int) -> String {
        if i >= n { return "the end of the line" }
        let b = p[i]
        if b >= 0x20 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
        return b < 0x80 ? "a control character" : "a non-ASCII character"
    }

    /// Names the kind of JSON value starting at `i` ("a string", "an array", …).
    func kindOfValue(_ i: Int) -> String {
        guard i < n else { return "nothing" }
        switch p[i] {
        case 0x22: return "a string"
        case 0x7B: return "an object"
        case 0x5B: return "an array"
        case 0x74, 0x66: return "a boolean"
        case 0x6E: return "null"
        case 0x2D, 0x30...0x39: return "a number"
        default: return "an invalid value"
        }
    }

    func jsonError(_ problem: String) -> ItemFileError {
        ItemFileError(file: file, line: line, field: "json", problem: problem,
                      hint: "fix the line so it holds one valid JSON object and import again")
    }

    // MARK: Strings

    /// Validates the string whose opening quote is at `start`.
    /// - Returns: the index after the closing quote and whether it contains escapes.
    func scanString(_ start: Int) throws(ItemFileError) -> (end: Int, escaped: Bool) {
        var i = start + 1
        var escaped = false
        let raw = UnsafeRawPointer(p)
        while true {
            while i + 8 <= n {
                let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                let q = w ^ 0x2222_2222_2222_2222
                let s = w ^ 0x5C5C_5C5C_5C5C_5C5C
                let t = (((q &- swarOnes) & ~q) | ((s &- swarOnes) & ~s) | ((w &- 0x2020_2020_2020_2020) & ~w)) & swarHigh
                if t != 0 { i += t.trailingZeroBitCount >> 3; break }
                i += 8
            }
            guard i < n else {
                throw jsonError("the string starting at column \(start + 1) is not terminated; expected '\"' before the end of the line")
            }
            let b = p[i]
            if b == 0x22 { return (i + 1, escaped) }
            if b == 0x5C {
                escaped = true
                i = try scanEscape(i)
            } else if b < 0x20 {
                throw jsonError("control character 0x\(hex2(b)) inside the string at column \(i + 1); expected it escaped (e.g. \\n or \\u00\(hex2(b)))")
            } else {
                i += 1
            }
        }
    }

    /// Validates the escape whose backslash is at `i`; returns the index after it.
    private func scanEscape(_ i: Int) throws(ItemFileError) -> Int {
        guard i + 1 < n else { throw jsonError("the escape at column \(i + 1) is cut off by the end of the line") }
        switch p[i + 1] {
        case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74: return i + 2
        case 0x75:
            let v = try hex4(i + 2, escapeAt: i)
            if v >= 0xDC00 && v <= 0xDFFF {
                throw jsonError("the escape \\u\(hex4Text(v)) at column \(i + 1) is a lone low surrogate; expected a high surrogate before it")
            }
            if v >= 0xD800 && v <= 0xDBFF {
                guard i + 7 < n, p[i + 6] == 0x5C, p[i + 7] == 0x75 else {
                    throw jsonError("the escape \\u\(hex4Text(v)) at column \(i + 1) is a high surrogate without a following \\uDC00–\\uDFFF escape")
                }
                let lo = try hex4(i + 8, escapeAt: i + 6)
                guard lo >= 0xDC00 && lo <= 0xDFFF else {
                    throw jsonError("the escape \\u\(hex4Text(v)) at column \(i + 1) is a high surrogate followed by \\u\(hex4Text(lo)) instead of a low surrogate")
                }
                return i + 12
            }
            return i + 6
        default:
            throw jsonError("invalid escape '\\\(found(i + 1).trimmingQuotes)' at column \(i + 1); expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX")
        }
    }

    private func hex4(_ at: Int, escapeAt: Int) throws(ItemFileError) -> UInt32 {
        guard at + 4 <= n, let a = hexValue(p[at]), let b = hexValue(p[at + 1]),
              let c = hexValue(p[at + 2]), let d = hexValue(p[at + 3]) else {
            throw jsonError("the escape at column \(escapeAt + 1) needs four hex digits after \\u")
        }
        return a << 12 | b << 8 | c << 4 | d
    }

    /// Reads the (already validated) escape at `i`; returns the scalar and the index after it.
    @inline(__always) func decodeEscape(_ i: Int) -> (UInt32, Int) {
        switch p[i + 1] {
        case 0x62: return (0x08, i + 2)
        case 0x66: return (0x0C, i + 2)
        case 0x6E: return (0x0A, i + 2)
        case 0x72: return (0x0D, i + 2)
        case 0x74: return (0x09, i + 2)
        case 0x75:
            var v: UInt32 = 0
            for k in 2..<6 { v = v << 4 | (hexValue(p[i + k]) ?? 0) }
            if v >= 0xD800 && v <= 0xDBFF {
                var lo: UInt32 = 0
                for k in 8..<12 { lo = lo << 4 | (hexValue(p[i + k]) ?? 0) }
                return (0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00), i + 12)
            }
            return (v, i + 6)
        default: return (UInt32(p[i + 1]), i + 2)
        }
    }

    /// Appends the decoded content of a validated string (between the quotes) to `buf`.
    func decodeString(_ s: Int, _ e: Int, into buf: inout ByteBuffer) {
        var i = s
        while i < e {
            let rest = e - i
            if let hit = memchr(p + i, 0x5C, rest) {
                let k = UnsafePointer(hit.assumingMemoryBound(to: UInt8.self)) - p
                if k > i { buf.append(p + i, k - i) }
                let (v, next) = decodeEscape(k)
                buf.appendScalar(v)
                i = next
            } else {
                buf.append(p + i, rest)
                i = e
            }
        }
    }

    /// Appends the string between `s` and `e` (validated, without quotes) to `out`
    /// in canonical form: quoted, only `"`, `\` and control characters escaped.
    func writeCanonicalString(_ s: Int, _ e: Int, into out: inout ByteBuffer) {
        out.append(0x22)
        var i = s
        while i < e {
            let b = p[i]
            if b != 0x5C { out.append(b); i += 1; continue }
            let (v, next) = decodeEscape(i)
            i = next
            appendCanonicalScalar(v, into: &out)
        }
        out.append(0x22)
    }

    // MARK: Numbers and literals

    /// Validates the JSON number at `start` (strict grammar) and collects its digits.
    @inline(__always)
    func scanNumber(_ start: Int) throws(ItemFileError) -> NumberScan {
        var i = start
        var r = NumberScan(end: start, mantissa: 0, fractionDigits: 0, negative: false, simple: true, isInteger: true)
        if p[i] == 0x2D { r.negative = true; i += 1 }
        guard i < n, isDigit(p[i]) else {
            throw jsonError("expected a digit at column \(i + 1) in the number starting at column \(start + 1), found \(found(i))")
        }
        var digits = 0
        if p[i] == 0x30 {
            i += 1
            if i < n && isDigit(p[i]) {
                throw jsonError("the number at column \(start + 1) has a leading zero, which JSON does not allow")
            }
        } else {
            while i < n, isDigit(p[i]) {
                if digits < 19 { r.mantissa = r.mantissa &* 10 &+ UInt64(p[i] &- 0x30); digits += 1 } else { r.simple = false }
                i += 1
            }
        }
        if i < n && p[i] == 0x2E {
            r.isInteger = false
            i += 1
            guard i < n, isDigit(p[i]) else {
                throw jsonError("expected a digit after the decimal point at column \(i), found \(found(i))")
            }
            while i < n, isDigit(p[i]) {
                if digits < 19 { r.mantissa = r.mantissa &* 10 &+ UInt64(p[i] &- 0x30); digits += 1; r.fractionDigits += 1 } else { r.simple = false }
                i += 1
            }
        }
        if i < n && (p[i] == 0x65 || p[i] == 0x45) {
            r.isInteger = false
            r.simple = false
            i += 1
            if i < n && (p[i] == 0x2B || p[i] == 0x2D) { i += 1 }
            guard i < n, isDigit(p[i]) else {
                throw jsonError("expected a digit in the exponent at column \(i + 1), found \(found(i))")
            }
            while i < n, isDigit(p[i]) { i += 1 }
        }
        r.end = i
        return r
    }

    /// True when the bytes at `i` spell `word`.
    @inline(__always) func matches(_ i: Int, _ word: StaticString) -> Bool {
        let len = word.utf8CodeUnitCount
        return i + len <= n && memcmp(p + i, word.utf8Start, len) == 0
    }

    /// Which non-finite token (NaN, Infinity, -Infinity) starts at `i`, if any.
    func nonFiniteToken(_ i: Int) -> String? {
        if matches(i, "NaN") { return "NaN" }
        if matches(i, "Infinity") { return "Infinity" }
        if matches(i, "-Infinity") { return "-Infinity" }
        return nil
    }

    // MARK: Generic values

    /// Validates the value at `i` and, when `write` is true, appends its compact
    /// canonical form to `out`. Returns the index after the value.
    mutating func value(_ i: Int, write: Bool, depth: Int) throws(ItemFileError) -> Int {
        guard i < n else { throw jsonError("expected a value at column \(i + 1), found the end of the line") }
        switch p[i] {
        case 0x22:
            let (e, escaped) = try scanString(i)
            if write {
                if escaped { writeCanonicalString(i + 1, e - 1, into: &out) } else { out.append(p + i, e - i) }
            }
            return e
        case 0x7B: return try object(i, write: write, depth: depth + 1)
        case 0x5B: return try array(i, write: write, depth: depth + 1)
        case 0x2D, 0x30...0x39:
            if p[i] == 0x2D, let t = nonFiniteToken(i) {
                throw jsonError("\(t) at column \(i + 1) is not valid JSON; write a finite number or null")
            }
            let e = try scanNumber(i).end
            if write { out.append(p + i, e - i) }
            return e
        case 0x74 where matches(i, "true"):
            if write { out.append("true") }
            return i + 4
        case 0x66 where matches(i, "false"):
            if write { out.append("false") }
            return i + 5
        case 0x6E where matches(i, "null"):
            if write { out.append("null") }
            return i + 4
        default:
            if let t = nonFiniteToken(i) {
                throw jsonError("\(t) at column \(i + 1) is not valid JSON; write a finite number or null")
            }
            throw jsonError("expected a value (string, number, object, array, true, false or null) at column \(i + 1), found \(found(i))")
        }
    }

    private mutating func array(_ start: Int, write: Bool, depth: Int) throws(ItemFileError) -> Int {
        if depth > maxDepth { throw jsonError("values are nested more than \(maxDepth) levels deep at column \(start + 1)") }
        if write { out.append(0x5B) }
        var i = skipWS(start + 1)
        if i < n && p[i] == 0x5D { if write { out.append(0x5D) }; return i + 1 }
        while true {
            i = skipWS(try value(i, write: write, depth: depth))
            guard i < n else { throw jsonError("the array starting at column \(start + 1) is not closed; expected ',' or ']' before the end of the line") }
            if p[i] == 0x2C { if write { out.append(0x2C) }; i = skipWS(i + 1); continue }
            if p[i] == 0x5D { if write { out.append(0x5D) }; return i + 1 }
            throw jsonError("expected ',' or ']' at column \(i + 1), found \(found(i))")
        }
    }

    /// Parses an object whose `{` is at `start`, checking for duplicate keys.
    mutating func object(_ start: Int, write: Bool, depth: Int) throws(ItemFileError) -> Int {
        if depth > maxDepth { throw jsonError("values are nested more than \(maxDepth) levels deep at column \(start + 1)") }
        if write { out.append(0x7B) }
        var i = skipWS(start + 1)
        if i < n && p[i] == 0x7D { if write { out.append(0x7D) }; return i + 1 }
        let base = keyEntries.count, keysBase = keys.count
        while true {
            let key = try objectKey(i, base: base)
            if write {
                if key.escaped { appendCanonicalKey(key, into: &out) } else { out.append(p + i, key.end - i) }
                out.append(0x3A)
            }
            i = skipWS(key.afterColon)
            i = skipWS(try value(i, write: write, depth: depth))
            guard i < n else { throw jsonError("the object starting at column \(start + 1) is not closed; expected ',' or '}' before the end of the line") }
            if p[i] == 0x2C { if write { out.append(0x2C) }; i = skipWS(i + 1); continue }
            if p[i] == 0x7D {
                if write { out.append(0x7D) }
                keyEntries.removeSubrange(base...)
                keys.count = keysBase
                return i + 1
            }
            throw jsonError("expected ',' or '}' at column \(i + 1), found \(found(i))")
        }
    }

    func appendCanonicalKey(_ key: ParsedKey, into out: inout ByteBuffer) {
        out.append(0x22)
        for k in 0..<key.length {
            let b = keys.ptr[key.offset + k]
            if b == 0x22 || b == 0x5C || b < 0x20 { appendCanonicalScalar(UInt32(b), into: &out) } else { out.append(b) }
        }
        out.append(0x22)
    }
}

/// Appends one decoded scalar in canonical JSON string form (without quotes).
func appendCanonicalScalar(_ v: UInt32, into out: inout ByteBuffer) {
    switch v {
    case 0x22: out.append(0x5C); out.append(0x22)
    case 0x5C: out.append(0x5C); out.append(0x5C)
    case 0x08: out.append(0x5C); out.append(0x62)
    case 0x0C: out.append(0x5C); out.append(0x66)
    case 0x0A: out.append(0x5C); out.append(0x6E)
    case 0x0D: out.append(0x5C); out.append(0x72)
    case 0x09: out.append(0x5C); out.append(0x74)
    case 0..<0x20:
        out.append("\\u00")
        for b in hex2(UInt8(v)).lowercased().utf8 { out.append(b) }
    default: out.appendScalar(v)
    }
}

func hex2(_ b: UInt8) -> String {
    let digits = Array("0123456789ABCDEF".utf8)
    return String(decoding: [digits[Int(b >> 4)], digits[Int(b & 15)]], as: UTF8.self)
}

func hex4Text(_ v: UInt32) -> String { hex2(UInt8(v >> 8)) + hex2(UInt8(v & 0xFF)) }

extension String {
    /// `'x'` → `x`, for quoting characters inside other quotes.
    var trimmingQuotes: String {
        count >= 3 && hasPrefix("'") && hasSuffix("'") ? String(dropFirst().dropLast()) : self
    }
}
