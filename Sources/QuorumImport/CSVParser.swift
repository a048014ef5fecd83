// RFC 4180 CSV: a resumable record scanner over the ByteReader buffer
// (quoted fields may span physical lines) and the mapping of cells to records.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One cell of the current record, as byte offsets relative to the record start.
struct FieldSpan {
    var start: Int
    var end: Int
    /// Quoted and containing `""` pairs that must be collapsed.
    var doubled: Bool
    var quoted: Bool
}

/// Scans and maps CSV records. Holds reusable buffers; call `free()`.
struct CSVParser {
    let file: String
    let mapping: FieldMapping
    private(set) var columns: [String] = []
    private var idColumn = -1, textColumn = -1, labelColumn = -1, vectorColumn = -1
    private var vectorColumns: [Int] = []
    private var metaColumns: [(index: Int, name: String)] = []
    private var fields: [FieldSpan] = []
    private var cell = ByteBuffer(capacity: 256)
    private var out = ByteBuffer(capacity: 256)

    init(file: String, mapping: FieldMapping) {
        self.file = file
        self.mapping = mapping
        fields.reserveCapacity(64)
    }

    func free() {
        cell.free()
        out.free()
    }

    private func error(_ line: Int, _ field: String, _ problem: String, _ hint: String) -> ItemFileError {
        ItemFileError(file: file, line: line, field: field, problem: problem, hint: hint)
    }

    private enum State { case fieldStart, unquoted, quoted, afterQuote, afterQuoteCR }

    /// Scans the next record into `fields`, skipping blank lines.
    /// - Returns: the record's byte length (excluding its line break) or nil at end of file.
    ///   `line` is advanced past the record; `startLine` is where it began.
    private mutating func scanRecord(_ r: inout ByteReader, line: inout Int,
                                     startLine: inout Int) throws(ItemFileError) -> Int? {
        while true {
            fields.removeAll(keepingCapacity: true)
            startLine = line
            var off = 0, fieldStart = 0, newlines = 0
            var state = State.fieldStart
            var doubled = false
            var length = -1, consumed = 0
            scan: while true {
                if r.start + off >= r.end {
                    if r.refill() { continue }
                    switch state {
                    case .quoted:
                        r.start = r.end   // nothing after an unclosed quote can be read reliably
                        line += newlines + 1
                        throw error(startLine, "csv", "the quoted value starting on line \(startLine) is never closed; expected '\"' before the end of the file",
                                    "close the quote (write a quote inside a quoted value as \"\") and import again")
                    case .afterQuote, .afterQuoteCR:
                        fields.append(FieldSpan(start: fieldStart + 1, end: off - (state == .afterQuoteCR ? 2 : 1), doubled: doubled, quoted: true))
                    case .fieldStart, .unquoted:
                        if off == 0 && fields.isEmpty { return nil }
                        let e = off > fieldStart && r.buf[r.start + off - 1] == 0x0D ? off - 1 : off
                        fields.append(FieldSpan(start: fieldStart, end: e, doubled: false, quoted: false))
                    }
                    length = off; consumed = off
                    break scan
                }
                let b = r.buf[r.start + off]
                switch state {
                case .fieldStart:
                    if b == 0x22 { state = .quoted; doubled = false; off += 1 } else { state = .unquoted }
                case .unquoted:
                    if b == 0x2C || b == 0x0A {
                        let e = b == 0x0A && off > fieldStart && r.buf[r.start + off - 1] == 0x0D ? off - 1 : off
                        fields.append(FieldSpan(start: fieldStart, end: e, doubled: false, quoted: false))
                        off += 1
                        if b == 0x0A { length = off - 1; consumed = off; newlines += 1; break scan }
                        fieldStart = off; state = .fieldStart
                    } else {
                        off += 1
                    }
                case .quoted:
                    if b == 0x22 { state = .afterQuote } else if b == 0x0A { newlines += 1 }
                    off += 1
                case .afterQuote, .afterQuoteCR:
                    if b == 0x22 && state == .afterQuote {
                        doubled = true; state = .quoted; off += 1
                    } else if b == 0x2C && state == .afterQuote || b == 0x0A {
                        let e = off - (state == .afterQuoteCR ? 2 : 1)
                        fields.append(FieldSpan(start: fieldStart + 1, end: e, doubled: doubled, quoted: true))
                        off += 1
                        if b == 0x0A { length = off - 1; consumed = off; newlines += 1; break scan }
                        fieldStart = off; state = .fieldStart
                    } else if b == 0x0D && state == .afterQuote {
                        state = .afterQuoteCR; off += 1
                    } else {
                        let errorLine = startLine + newlines
                        skipRestOfLine(&r, from: off)
                        line = errorLine + 1
                        throw error(errorLine, "csv",
                                    "unexpected character after the closing quote of value \(fields.count + 1); expected ',' or the end of the line",
                                    "quote the whole value and write quotes inside it as \"\", then import again")
                    }
                }
            }
            line += max(newlines, 1)
            // Validate encoding of the whole record.
            let base = r.buf + r.start
            if let bad = firstInvalidUTF8(base, length) {
                var lineOf = startLine, lineStart = 0
                for k in 0..<bad where base[k] == 0x0A { lineOf += 1; lineStart = k + 1 }
                r.start += consumed
                throw error(lineOf, "encoding", "invalid UTF-8 at byte offset \(bad - lineStart) of the line (byte 0x\(hex2(base[bad])))",
                            "re-save the file as UTF-8 and import again")
            }
            // Blank line: one unquoted cell of whitespace only.
            if fields.count == 1 && !fields[0].quoted {
                var blank = true
                for k in fields[0].start..<fields[0].end where !(isSpaceOrTab(base[k]) || base[k] == 0x0D) { blank = false; break }
                if blank { r.start += consumed; continue }
            }
            pendingConsume = consumed
            return length
        }
    }

    private var pendingConsume = 0

    /// After a malformed record: consumes up to and including the next line break at or
    /// after `off` (relative to `r.start`), so that reading can resume on the next line.
    private func skipRestOfLine(_ r: inout ByteReader, from off: Int) {
        var k = off
        while true {
            if r.start + k >= r.end {
                if r.refill() { continue }
                r.start = r.end
                return
            }
            if r.buf[r.start + k] == 0x0A { r.start += k + 1; return }
            k += 1
        }
    }

    /// The bytes of cell `k` of the scanned record (doubled quotes collapsed).
    private mutating func cellBytes(_ r: ByteReader, _ k: Int) -> UnsafeBufferPointer<UInt8> {
        let f = fields[k]
        let base = UnsafePointer(r.buf + r.start)
        if !f.doubled { return UnsafeBufferPointer(start: base + f.start, count: f.end - f.start) }
        cell.count = 0
        var i = f.start
        while i < f.end {
            cell.append(base[i])
            i += base[i] == 0x22 ? 2 : 1
        }
        return UnsafeBufferPointer(start: cell.ptr, count: cell.count)
    }

    private mutating func cellString(_ r: ByteReader, _ k: Int) -> String? {
        let c = cellBytes(r, k)
        return c.isEmpty ? nil : String(decoding: c, as: UTF8.self)
    }

    // MARK: Header

    /// Reads the header row and resolves the mapping. Leaves no columns for an empty file.
    mutating func readHeader(_ r: inout ByteReader, line: inout Int) throws(ItemFileError) {
        var start = 0
        guard try scanRecord(&r, line: &line, startLine: &start) != nil else { return }
        let hint = "give every column a distinct, non-empty name in the first line and import again"
        var seen: [String: Int] = [:]
        for k in 0..<fields.count {
            var name = cellString(r, k) ?? ""
            while let f = name.first, f == " " || f == "\t" { name.removeFirst() }
            while let l = name.last, l == " " || l == "\t" || l == "\r" { name.removeLast() }
            if name.isEmpty { throw error(start, "columns", "column \(k + 1) of the header has no name", hint) }
            if let prev = seen[name] {
                throw error(start, "columns", "the header names column \"\(name)\" twice (columns \(prev + 1) and \(k + 1))", hint)
            }
            seen[name] = k
            columns.append(name)
        }
        r.start += pendingConsume
        idColumn = seen[mapping.idField] ?? -1
        textColumn = seen[mapping.textField] ?? -1
        labelColumn = seen[mapping.labelField] ?? -1
        var used: Set<Int> = [idColumn, textColumn, labelColumn]
        if mapping.vectorField.hasSuffix("*") {
            let prefix = String(mapping.vectorField.dropLast())
            for (k, name) in columns.enumerated() where !used.contains(k) && name.hasPrefix(prefix) {
                let rest = name.utf8.dropFirst(prefix.utf8.count)
                if !rest.isEmpty && rest.allSatisfy({ isDigit($0) }) { vectorColumns.append(k) }
            }
            if vectorColumns.isEmpty {
                throw error(start, "columns", "no column matches \"\(mapping.vectorField)\" (the prefix followed by digits)",
                            "check the vector column pattern against the header and import again")
            }
        } else {
            vectorColumn = seen[mapping.vectorField] ?? -1
            if vectorColumn >= 0 && used.contains(vectorColumn) { vectorColumn = -1 }
            vectorColumns = vectorColumn >= 0 ? [vectorColumn] : []
        }
        used.formUnion(vectorColumns)
        if let wanted = mapping.metaFields {
            for name in wanted {
                guard let k = seen[name] else {
                    throw error(start, "columns", "metadata column \"\(name)\" is not in the header",
                                "check the metadata column names against the header and import again")
                }
                if !used.contains(k) { metaColumns.append((k, name)) }
            }
        } else {
            for (k, name) in columns.enumerated() where !used.contains(k) { metaColumns.append((k, name)) }
        }
    }

    // MARK: Records

    /// Parses the next non-blank record; false at end of file.
    mutating func next(_ r: inout ByteReader, line: inout Int, into record: inout ItemRecord) throws(ItemFileError) -> Bool {
        if columns.isEmpty { return false }
        var start = 0
        guard try scanRecord(&r, line: &line, startLine: &start) != nil else { return false }
        defer { r.start += pendingConsume }
        if fields.count != columns.count {
            throw error(start, "columns", "row has \(fields.count) value\(fields.count == 1 ? "" : "s") but the header has \(columns.count) columns",
                        "give every row one value per header column (quote values that contain commas) and import again")
        }
        record.reset(line: start)
        if idColumn >= 0 { record.id = cellString(r, idColumn) }
        if textColumn >= 0 { record.text = cellString(r, textColumn) }
        if labelColumn >= 0 { record.label = cellString(r, labelColumn) }
        if vectorColumn >= 0 {
            try parseVectorCell(r, line: start, into: &record)
        } else if !vectorColumns.isEmpty {
            record.hasVector = true
            record.vector.reserveCapacity(vectorColumns.count)
            for k in vectorColumns {
                let c = cellBytes(r, k)
                switch parseLenientFloat(c.baseAddress ?? UnsafePointer(cell.ptr), c.count) {
                case .value(let v): record.vector.append(v)
                case let other: throw vectorError(other, column: columns[k], what: "the value", cell: c, line: start)
                }
            }
        }
        for (k, name) in metaColumns {
            let c = cellBytes(r, k)
            if c.isEmpty { continue }
            out.count = 0
            out.append(0x22)
            for b in c {
                if b == 0x22 || b == 0x5C || b < 0x20 { appendCanonicalScalar(UInt32(b), into: &out) } else { out.append(b) }
            }
            out.append(0x22)
            record.meta.append((key: name, json: out.string()))
        }
        return true
    }

    private func vectorError(_ result: CellNumber, column: String, what: String,
                             cell c: UnsafeBufferPointer<UInt8>, line: Int) -> ItemFileError {
        let text = String(decoding: c, as: UTF8.self)
        let problem: String
        switch result {
        case .nan: problem = "\(what) in column \"\(column)\" is NaN; vectors must hold finite numbers"
        case .infinite: problem = "\(what) in column \"\(column)\" is infinite (\(text)); vectors must hold finite numbers"
        case .overflow: problem = "\(what) in column \"\(column)\" (\(text)) is too large for a 32-bit float; vectors must hold finite numbers"
        default:
            problem = text.allSatisfy({ $0 == " " || $0 == "\t" })
                ? "\(what) in column \"\(column)\" is empty; vectors must hold numbers only"
                : "\(what) in column \"\(column)\" is \"\(text)\", which is not a number"
        }
        return ItemFileError(file: file, line: line, field: column, problem: problem, hint: "fix or remove the value and import again")
    }

    /// A single vector cell: numbers separated by spaces, commas or semicolons, optionally in [ ].
    private mutating func parseVectorCell(_ r: ByteReader, line: Int, into record: inout ItemRecord) throws(ItemFileError) {
        let c = cellBytes(r, vectorColumn)
        guard let p = c.baseAddress else { return }
        var s = 0, e = c.count
        @inline(__always) func isSep(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x2C || b == 0x3B || b == 0x0D || b == 0x0A }
        while s < e && isSep(p[s]) { s += 1 }
        while e > s && isSep(p[e - 1]) { e -= 1 }
        if s == e { return }
        if p[s] == 0x5B {
            guard p[e - 1] == 0x5D, e - s >= 2 else {
                throw ItemFileError(file: file, line: line, field: columns[vectorColumn],
                                    problem: "the vector in column \"\(columns[vectorColumn])\" opens '[' but does not close it",
                                    hint: "write the vector as numbers separated by spaces, commas or semicolons, optionally in [ ], and import again")
            }
            s += 1; e -= 1
        }
        record.hasVector = true
        var i = s, index = 0
        while true {
            while i < e && isSep(p[i]) { i += 1 }
            if i >= e { break }
            var j = i
            while j < e && !isSep(p[j]) { j += 1 }
            switch parseLenientFloat(p + i, j - i) {
            case .value(let v): record.vector.append(v)
            case let other:
                throw vectorError(other, column: columns[vectorColumn], what: "value \(index)",
                                  cell: UnsafeBufferPointer(start: p + i, count: j - i), line: line)
            }
            index += 1
            i = j
        }
    }
}
