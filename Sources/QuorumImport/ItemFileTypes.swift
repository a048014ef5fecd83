// Public value types of the item-file reader: the format, the field mapping,
// the reusable record and the error.

/// The format of an item file, chosen from its extension.
public enum ItemFileFormat: Sendable {
    /// One JSON object per line (`.jsonl`, `.ndjson`, `.json-lines`).
    case jsonl
    /// RFC 4180 comma-separated values with a header row (`.csv`).
    case csv

    /// The format for a path, judged by its extension (case-insensitive); nil when unknown.
    public static func forPath(_ path: String) -> ItemFileFormat? {
        let name = path.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return nil }
        switch name[name.index(after: dot)...].lowercased() {
        case "jsonl", "ndjson", "json-lines": return .jsonl
        case "csv": return .csv
        default: return nil
        }
    }
}

/// Which top-level JSON fields (or CSV columns) feed which part of an item.
public struct FieldMapping: Sendable {
    /// Field holding the item's external id (a string or an integer).
    public var idField: String
    /// Field holding the item's text (a string or null).
    public var textField: String
    /// Field holding the vector. In CSV a name ending in `*` selects every column
    /// named by the prefix followed by digits only, in header order (e.g. `p*` → p0…p63).
    public var vectorField: String
    /// Field holding a known label (a string, an integer or null).
    public var labelField: String
    /// Fields kept as metadata; nil keeps every other top-level field or column.
    /// The four mapped fields above are never metadata.
    public var metaFields: [String]?

    public init(idField: String = "id", textField: String = "text", vectorField: String = "vector",
                labelField: String = "label", metaFields: [String]? = nil) {
        self.idField = idField
        self.textField = textField
        self.vectorField = vectorField
        self.labelField = labelField
        self.metaFields = metaFields
    }
}

/// One parsed line. Reused between calls to avoid allocation.
public struct ItemRecord: Sendable {
    /// 1-based physical line where the record starts (CSV: the header is line 1).
    public var line: Int
    /// A JSON string, or a JSON integer rendered as decimal text; nil when absent.
    public var id: String?
    /// The text, nil when absent, null or (CSV) empty.
    public var text: String?
    /// The vector's values; only meaningful when `hasVector` is true. Capacity is reused.
    public var vector: [Float]
    /// True when the record carried a vector (possibly empty).
    public var hasVector: Bool
    /// A JSON string, or an integer rendered as text (3 → "3"); nil when absent or null.
    public var label: String?
    /// The label field's value when it is an array (a multi-label item's set):
    /// each element a string, or an integer rendered as text; nil when the field is not an array.
    public var labelList: [String]?
    /// Each metadata value as compact canonical JSON text (`"\"en\""`, `"3"`, `"true"`,
    /// nested objects and arrays re-serialised compactly with keys in file order).
    public var meta: [(key: String, json: String)]

    public init() {
        line = 0
        id = nil
        text = nil
        vector = []
        hasVector = false
        label = nil
        labelList = nil
        meta = []
    }

    /// Clears every field but keeps the buffers' capacity.
    mutating func reset(line: Int) {
        self.line = line
        id = nil
        text = nil
        label = nil
        labelList = nil
        hasVector = false
        vector.removeAll(keepingCapacity: true)
        meta.removeAll(keepingCapacity: true)
    }
}

/// A precise problem in an item file: where it is, what is wrong and what to do.
public struct ItemFileError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The path as given to the reader.
    public var file: String
    /// 1-based line; 0 when the problem concerns the whole file (e.g. it cannot be opened).
    public var line: Int
    /// The field or aspect at fault: a field name, or "json", "encoding", "columns", "csv", "file".
    public var field: String
    /// What is wrong, as a sentence without the final period.
    public var problem: String
    /// What to do about it.
    public var hint: String

    public init(file: String, line: Int, field: String, problem: String, hint: String) {
        self.file = file
        self.line = line
        self.field = field
        self.problem = problem
        self.hint = hint
    }

    /// `FILE:LINE: field: problem. hint` (or `FILE: field: problem. hint` when line is 0).
    public var description: String {
        let place = line > 0 ? "\(file):\(line)" : file
        return "\(place): \(field): \(problem). \(hint)"
    }
}
