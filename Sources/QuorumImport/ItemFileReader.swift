// The public entry point: opens an item file, picks the format from the
// extension and streams records into a caller-owned, reused ItemRecord.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Streams the records of a JSONL or CSV item file.
///
/// ```swift
/// let reader = try ItemFileReader(path: "items.jsonl", mapping: FieldMapping())
/// var record = ItemRecord()
/// while try reader.next(into: &record) { /* use record */ }
/// ```
///
/// The file is read in multi-megabyte chunks and parsed byte by byte; only the
/// mapped fields are decoded, everything else is validated and skipped (or
/// re-serialised compactly when kept as metadata). Not thread-safe.
public final class ItemFileReader {
    /// The format chosen from the file's extension.
    public let format: ItemFileFormat
    /// Size of the file in bytes when it was opened.
    public let totalBytes: Int
    /// The path as given.
    public let path: String

    private var bytes: ByteReader
    private var json: JSONLineParser
    private var csv: CSVParser
    /// The physical line number the next record starts on.
    private var nextLine = 1

    /// Opens `path` and, for CSV, reads and checks the header.
    /// - Throws: `ItemFileError` with line 0 and field "file" when the extension is
    ///   unknown or the file cannot be opened; header problems for CSV (line of the header, field "columns").
    public init(path: String, mapping: FieldMapping) throws(ItemFileError) {
        self.path = path
        guard let format = ItemFileFormat.forPath(path) else {
            throw ItemFileError(file: path, line: 0, field: "file",
                                problem: "cannot tell the format of the file from its extension",
                                hint: "use a .jsonl file (one JSON object per line; .ndjson also works) or a .csv file with a header row")
        }
        var info = stat()
        guard let reader = ByteReader(path: path) else {
            let reason = String(cString: strerror(errno))
            throw ItemFileError(file: path, line: 0, field: "file", problem: "cannot open the file (\(reason))",
                                hint: "check the path and the file's permissions")
        }
        if fstat(reader.fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
            reader.release()
            throw ItemFileError(file: path, line: 0, field: "file", problem: "the path is a directory, not a file",
                                hint: "give the path of a .jsonl or .csv file")
        }
        self.format = format
        totalBytes = Int(info.st_size)
        bytes = reader
        json = JSONLineParser(file: path, mapping: mapping)
        csv = CSVParser(file: path, mapping: mapping)
        bytes.skipBOM()
        if format == .csv {
            do {
                try csv.readHeader(&bytes, line: &nextLine)
            } catch {
                release()
                throw error
            }
        }
    }

    deinit { release() }

    private var released = false

    private func release() {
        if released { return }
        released = true
        bytes.release()
        json.free()
        csv.free()
    }

    /// Bytes of the file consumed so far (for progress reports).
    public var bytesRead: Int { bytes.consumed }

    /// The CSV header's column names (empty for JSONL, or for a CSV file with no header).
    public var columns: [String] { csv.columns }

    /// Parses the next non-blank record into `record`; returns false at end of file.
    ///
    /// Every field of `record` is overwritten; its `vector` and `meta` buffers keep
    /// their capacity, so reuse one record for the whole file.
    ///
    /// - Throws: `ItemFileError` naming the file, the 1-based line and the field at fault.
    ///   After an error the reader stands after the faulty record, so reading may continue.
    /// - Complexity: O(n) in the record's length in bytes; amortised O(1) allocations
    ///   besides the strings the record holds.
    public func next(into record: inout ItemRecord) throws(ItemFileError) -> Bool {
        if released { return false }
        switch format {
        case .jsonl:
            while let raw = bytes.nextLine() {
                let number = nextLine
                nextLine += 1
                if try json.parse(raw, line: number, into: &record) { return true }
            }
            return false
        case .csv:
            return try csv.next(&bytes, line: &nextLine, into: &record)
        }
    }
}
