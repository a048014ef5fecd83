// Parses one JSONL line into an ItemRecord: decodes only the mapped fields,
// re-serialises metadata, and validates everything else without building it.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A key of the object being parsed, decoded into `JSONLineParser.keys`.
struct ParsedKey {
    var offset: Int
    var length: Int
    var escaped: Bool
    /// Index after the closing quote in the line.
    var end: Int
    /// Index after the `:` that follows the key.
    var afterColon: Int
}

struct KeyEntry {
    var offset: Int
    var length: Int
    var hash: UInt64
    var column: Int
}

/// What a top-level key maps to.
private enum Role { case id, text, vector, label, meta, skip }

/// Byte-level parser for one JSON object per line. Holds reusable buffers; call `free()`.
struct JSONLineParser {
    let file: String
    let mapping: FieldMapping
    let maxDepth = 256
    private let idKey: [UInt8], textKey: [UInt8], vectorKey: [UInt8], labelKey: [UInt8]
    private let metaKeys: [[UInt8]]?

    // Per-line state.
    var p: UnsafePointer<UInt8>
    var n = 0
    var line = 0

    // Reusable buffers.
    var out = ByteBuffer(capacity: 1024)
    var keys = ByteBuffer(capacity: 256)
    var keyEntries: [KeyEntry] = []
    private var nameCache: [(bytes: [UInt8], name: String)] = []
    private let emptyLine: UnsafeMutablePointer<UInt8>

    init(file: String, mapping: FieldMapping) {
        self.file = file
        self.mapping = mapping
        idKey = Array(mapping.idField.utf8)
        textKey = Array(mapping.textField.utf8)
        vectorKey = Array(mapping.vectorField.utf8)
        labelKey = Array(mapping.labelField.utf8)
        metaKeys = mapping.metaFields?.map { Array($0.utf8) }
        emptyLine = .allocate(capacity: 1)
        emptyLine.initialize(to: 0)
        p = UnsafePointer(emptyLine)
        keyEntries.reserveCapacity(32)
    }

    func free() {
        out.free()
        keys.free()
        emptyLine.deallocate()
    }

    /// Parses `bytes` (one line without `\n`) into `record`.
    /// - Returns: false when the line is blank (only whitespace); `record` is then untouched.
    /// - Complexity: O(n) in the line length; allocates only the strings it returns.
    mutating func parse(_ bytes: UnsafeBufferPointer<UInt8>, line lineNumber: Int,
                        into record: inout ItemRecord) throws(ItemFileError) -> Bool {
        line = lineNumber
        n = bytes.count
        p = n > 0 ? bytes.baseAddress! : UnsafePointer(emptyLine)
        if let bad = firstInvalidUTF8(p, n) {
            throw ItemFileError(file: file, line: line, field: "encoding",
                                problem: "invalid UTF-8 at byte offset \(bad) of the line (byte 0x\(hex2(p[bad])))",
                                hint: "re-save the file as UTF-8 and import again")
        }
        var i = skipWS(0)
        if i == n { return false }
        record.reset(line: lineNumber)
        keyEntries.removeAll(keepingCapacity: true)
        keys.count = 0
        guard p[i] == 0x7B else {
            throw jsonError("each line must hold one JSON object, but found \(kindOfValue(i)) at column \(i + 1)")
        }
        i = skipWS(i + 1)
        if i < n && p[i] == 0x7D {
            i += 1
        } else {
            while true {
                let key = try objectKey(i, base: 0)
                i = skipWS(key.afterColon)
                switch role(of: key) {
                case .id: i = try parseIDOrLabel(i, field: mapping.idField, allowNull: true, into: &record.id)
                case .label where i < n && p[i] == 0x5B: i = try parseLabelList(i, into: &record)
                case .label: i = try parseIDOrLabel(i, field: mapping.labelField, allowNull: true, into: &record.label)
                case .text: i = try parseText(i, into: &record.text)
                case .vector: i = try parseVector(i, into: &record)
                case .meta:
                    out.count = 0
                    i = try value(i, write: true, depth: 1)
                    record.meta.append((key: metaName(key), json: out.string()))
                case .skip:
                    i = try value(i, write: false, depth: 1)
                }
                i = skipWS(i)
                guard i < n else { throw jsonError("the object is not closed; expected ',' or '}' before the end of the line") }
                if p[i] == 0x2C { i = skipWS(i + 1); continue }
                if p[i] == 0x7D { i += 1; break }
                throw jsonError("expected ',' or '}' at column \(i + 1), found \(found(i))")
            }
        }
        i = skipWS(i)
        if i < n {
            throw jsonError("unexpected \(found(i)) at column \(i + 1) after the end of the object; expected the end of the line")
        }
        return true
    }

    // MARK: Keys

    /// Reads the key at `i` (which must be a string), records it for duplicate
    /// detection among the keys since `base`, and consumes the following `:`.
    mutating func objectKey(_ i: Int, base: Int) throws(ItemFileError) -> ParsedKey {
        guard i < n, p[i] == 0x22 else {
            throw jsonError("expected a key in double quotes at column \(i + 1), found \(found(i))")
        }
        let (end, escaped) = try scanString(i)
        let offset = keys.count
        if escaped { decodeString(i + 1, end - 1, into: &keys) } else { keys.append(p + i + 1, end - i - 2) }
        let length = keys.count - offset
        let kp = keys.ptr + offset
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for k in 0..<length { h = (h ^ UInt64(kp[k])) &* 0x0000_0100_0000_01B3 }
        var e = base
        while e < keyEntries.count {
            let other = keyEntries[e]
            if other.hash == h && other.length == length && memcmp(keys.ptr + other.offset, kp, length) == 0 {
                let name = quotedForMessage(kp, length)
                throw ItemFileError(file: file, line: line, field: "json",
                                    problem: "duplicate key \(name) at column \(i + 1) (first seen at column \(other.column))",
                                    hint: "keep one of the duplicate keys and import again")
            }
            e += 1
        }
        keyEntries.append(KeyEntry(offset: offset, length: length, hash: h, column: i + 1))
        let c = skipWS(end)
        guard c < n, p[c] == 0x3A else {
            let name = quotedForMessage(kp, length)
            throw jsonError("expected ':' after the key \(name) at column \(c + 1), found \(found(c))")
        }
        return ParsedKey(offset: offset, length: length, escaped: escaped, end: end, afterColon: c + 1)
    }

    /// The key as canonical JSON text (quoted, control characters escaped) for messages.
    private func quotedForMessage(_ kp: UnsafePointer<UInt8>, _ length: Int) -> String {
        var buf = ByteBuffer(capacity: length + 8)
        defer { buf.free() }
        buf.append(0x22)
        for k in 0..<length {
            let b = kp[k]
            if b == 0x22 || b == 0x5C || b < 0x20 { appendCanonicalScalar(UInt32(b), into: &buf) } else { buf.append(b) }
        }
        buf.append(0x22)
        return buf.string()
    }

    @inline(__always) private func keyIs(_ key: ParsedKey, _ name: [UInt8]) -> Bool {
        guard name.count == key.length else { return false }
        if key.length == 0 { return true }
        return name.withUnsafeBufferPointer { memcmp($0.baseAddress!, keys.ptr + key.offset, key.length) == 0 }
    }

    private func role(of key: ParsedKey) -> Role {
        if keyIs(key, idKey) { return .id }
        if keyIs(key, textKey) { return .text }
        if keyIs(key, vectorKey) { return .vector }
        if keyIs(key, labelKey) { return .label }
        guard let metaKeys else { return .meta }
        for m in metaKeys where keyIs(key, m) { return .meta }
        return .skip
    }

    /// The key as a String, cached so repeated keys cost no allocation.
    private mutating func metaName(_ key: ParsedKey) -> String {
        for entry in nameCache where keyIs(key, entry.bytes) { return entry.name }
        let bytes = Array(UnsafeBufferPointer(start: keys.ptr + key.offset, count: key.length))
        let name = String(decoding: bytes, as: UTF8.self)
        if nameCache.count < 256 { nameCache.append((bytes, name)) }
        return name
    }

    // MARK: Mapped fields

    private func typeError(_ field: String, _ expected: String, _ i: Int) -> ItemFileError {
        ItemFileError(file: file, line: line, field: field,
                      problem: "\"\(field)\" must be \(expected), but found \(kindOfValue(i)) at column \(i + 1)",
                      hint: "write \"\(field)\" as \(expected) and import again")
    }

    /// Makes a String from the validated string whose opening quote is at `i`.
    private mutating func stringValue(_ i: Int) throws(ItemFileError) -> (String, Int) {
        let (end, escaped) = try scanString(i)
        if !escaped {
            return (String(decoding: UnsafeBufferPointer(start: p + i + 1, count: end - i - 2), as: UTF8.self), end)
        }
        out.count = 0
        decodeString(i + 1, end - 1, into: &out)
        return (out.string(), end)
    }

    /// id and label: a string, an integer (kept as its decimal text) or null.
    private mutating func parseIDOrLabel(_ i: Int, field: String, allowNull: Bool,
                                         into slot: inout String?) throws(ItemFileError) -> Int {
        guard i < n else { _ = try value(i, write: false, depth: 1); return i }
        switch p[i] {
        case 0x22:
            let (s, end) = try stringValue(i)
            slot = s
            return end
        case 0x2D, 0x30...0x39:
            let num = try scanNumber(i)
            guard num.isInteger else {
                throw ItemFileError(file: file, line: line, field: field,
                                    problem: "\"\(field)\" must be a string or an integer, but found the number \(String(decoding: UnsafeBufferPointer(start: p + i, count: num.end - i), as: UTF8.self)) at column \(i + 1)",
                                    hint: "write \"\(field)\" as a string (e.g. \"a1\") or a whole number and import again")
            }
            slot = String(decoding: UnsafeBufferPointer(start: p + i, count: num.end - i), as: UTF8.self)
            return num.end
        case 0x6E where allowNull && matches(i, "null"):
            slot = nil
            return i + 4
        default:
            _ = try value(i, write: false, depth: 1)
            throw typeError(field, field == mapping.labelField ? "a string, an integer or null" : "a string or an integer", i)
        }
    }

    /// A multi-label item's labels: an array of strings or integers (possibly empty).
    private mutating func parseLabelList(_ start: Int, into record: inout ItemRecord) throws(ItemFileError) -> Int {
        var list: [String] = []
        var i = skipWS(start + 1)
        if i < n && p[i] == 0x5D { record.labelList = list; return i + 1 }
        while true {
            var element: String?
            guard i < n, p[i] != 0x6E else {
                _ = try value(i, write: false, depth: 2)
                throw typeError(mapping.labelField, "a list of labels (strings or whole numbers)", i)
            }
            i = try parseIDOrLabel(i, field: mapping.labelField, allowNull: false, into: &element)
            if let element { list.append(element) }
            i = skipWS(i)
            guard i < n else { throw jsonError("the list in \"\(mapping.labelField)\" is not closed; expected ',' or ']' before the end of the line") }
            if p[i] == 0x2C { i = skipWS(i + 1); continue }
            if p[i] == 0x5D { record.labelList = list; return i + 1 }
            throw jsonError("expected ',' or ']' in \"\(mapping.labelField)\" at column \(i + 1), found \(found(i))")
        }
    }

    private mutating func parseText(_ i: Int, into slot: inout String?) throws(ItemFileError) -> Int {
        if i < n && p[i] == 0x22 {
            let (s, end) = try stringValue(i)
            slot = s
            return end
        }
        if matches(i, "null") { slot = nil; return i + 4 }
        _ = try value(i, write: false, depth: 1)
        throw typeError(mapping.textField, "a string or null", i)
    }

    private func vectorError(_ problem: String) -> ItemFileError {
        ItemFileError(file: file, line: line, field: mapping.vectorField, problem: problem,
                      hint: "fix or remove the value and import again")
    }

    /// vector: an array of finite numbers (or null, meaning no vector).
    private mutating func parseVector(_ start: Int, into record: inout ItemRecord) throws(ItemFileError) -> Int {
        if matches(start, "null") { return start + 4 }
        guard start < n, p[start] == 0x5B else {
            _ = try value(start, write: false, depth: 1)
            throw typeError(mapping.vectorField, "an array of numbers", start)
        }
        record.hasVector = true
        var i = skipWS(start + 1)
        if i < n && p[i] == 0x5D { return i + 1 }
        var index = 0
        while true {
            guard i < n else { throw jsonError("the vector starting at column \(start + 1) is not closed; expected a number before the end of the line") }
            let b = p[i]
            if isDigit(b) || (b == 0x2D && !matches(i, "-Infinity")) {
                let num = try scanNumber(i)
                var v: Float
                if num.simple, let f = fastFloat(mantissa: num.mantissa, fractionDigits: num.fractionDigits, negative: num.negative) {
                    v = f
                } else {
                    v = strtofToken(p + i, num.end - i) ?? .nan
                    if !v.isFinite {
                        let text = String(decoding: UnsafeBufferPointer(start: p + i, count: num.end - i), as: UTF8.self)
                        throw vectorError("value \(index) (\(text)) is too large for a 32-bit float; vectors must hold finite numbers")
                    }
                }
                record.vector.append(v)
                i = num.end
            } else if let t = nonFiniteToken(i) {
                let what = t == "NaN" ? "is NaN" : "is infinite (\(t))"
                throw vectorError("value \(index) \(what); vectors must hold finite numbers")
            } else {
                _ = try value(i, write: false, depth: 1)
                throw vectorError("element \(index) is \(kindOfValue(i)) at column \(i + 1); vectors must hold numbers only")
            }
            i = skipWS(i)
            guard i < n else { throw jsonError("the vector starting at column \(start + 1) is not closed; expected ',' or ']' before the end of the line") }
            if p[i] == 0x2C { i = skipWS(i + 1); index += 1; continue }
            if p[i] == 0x5D { return i + 1 }
            throw jsonError("expected ',' or ']' in the vector at column \(i + 1), found \(found(i))")
        }
    }
}
