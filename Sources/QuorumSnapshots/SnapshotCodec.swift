import Crypto
import QuorumCore

/// The canonical forms of a snapshot: its export files and its content hash.
///
/// The JSONL export *is* the canonical form: one row per item, sorted by id,
/// keys in a fixed order, numbers in shortest round-trip form. The content
/// hash is SHA-256 over exactly those bytes, so `verify` can recompute it
/// from the stored rows and any edited row changes it.
public enum SnapshotCodec {
    /// Rows in canonical order (by id, compared as UTF-8 bytes).
    public static func canonicalOrder(_ rows: [SnapshotRow]) -> [SnapshotRow] {
        rows.sorted { Array($0.id.utf8).lexicographicallyPrecedes(Array($1.id.utf8)) }
    }

    /// An item's content, as an export carries it next to its label.
    public struct Content: Sendable, Equatable {
        public var text: String?
        public var vector: [Float]?
        /// A compact JSON object, or nil.
        public var metaJSON: String?
        public init(text: String?, vector: [Float]?, metaJSON: String?) {
            self.text = text; self.vector = vector; self.metaJSON = metaJSON
        }
    }

    /// The JSONL of the rows, one line per row, each ending in "\n": the
    /// canonical form (what the content hash covers) when `content` is nil;
    /// the export otherwise, each line followed by the item's `text`,
    /// `vector` and `meta` (null where the item has none), so the file is a
    /// dataset one can train on. Items never change content, so the same
    /// snapshot always exports the same bytes.
    ///
    /// With `labelSets` (a multi-label project's labels), the export's rows
    /// carry `"labels": [...]` for the item and each answer instead of `"label"`.
    ///
    /// - Complexity: O(total row size).
    public static func jsonl(_ rows: [SnapshotRow], content: [String: Content]? = nil, labelSets: LabelSet? = nil) -> String {
        var out = ""
        for row in canonicalOrder(rows) {
            var fields = fieldsOf(row)
            if let labelSets { fields = labelListFields(fields, row, labelSets) }
            if let content {
                let c = content[row.id]
                fields.append(("text", .text(c?.text)))
                fields.append(("vector", c?.vector.map(vectorJSON) ?? .null))
                fields.append(("meta", c?.metaJSON.map { .raw($0) } ?? .null))
            }
            out += JSONValue.object(fields).serialized()
            out += "\n"
        }
        return out
    }

    /// The row's fields with each stored label set as a list under `"labels"`.
    static func labelListFields(_ fields: [(String, JSONValue)], _ row: SnapshotRow, _ labels: LabelSet) -> [(String, JSONValue)] {
        func list(_ text: String) -> JSONValue {
            .array((LabelSetText.names(text, labels: labels) ?? []).map { .string($0) })
        }
        return fields.map { key, value in
            switch key {
            case "label": return ("labels", list(row.label))
            case "answers":
                return ("answers", .array(row.answers.map { .object([("annotator", .string($0.annotator)), ("labels", list($0.label))]) }))
            default: return (key, value)
            }
        }
    }

    /// One row's canonical JSON line (without the newline).
    public static func line(_ row: SnapshotRow) -> String {
        JSONValue.object(fieldsOf(row)).serialized()
    }

    /// A vector as a JSON array of each Float's shortest round-trip form ("0.1", not 0.10000000149011612).
    static func vectorJSON(_ v: [Float]) -> JSONValue {
        .array(v.map { $0.isFinite ? .raw("\($0)") : .null })
    }

    static func fieldsOf(_ row: SnapshotRow) -> [(String, JSONValue)] {
        let answers: [JSONValue] = row.answers.map {
            .object([("annotator", .string($0.annotator)), ("label", .string($0.label))])
        }
        return [
            ("id", .string(row.id)), ("label", .string(row.label)), ("source", .string(row.source.rawValue)),
            ("confidence", .double(row.confidence)), ("split", .string(row.split.rawValue)),
            ("answers", .array(answers)),
        ]
    }

    /// SHA-256 (hex) of one row's canonical line: stored with the row, so
    /// `verify` can name the rows that changed.
    public static func rowHash(_ row: SnapshotRow) -> String {
        hexString(SHA256.hash(data: Array(line(row).utf8)))
    }

    /// The CSV export: header `id,label,source,confidence,split,answers`
    /// (then `text,vector,meta` when `content` is given: the vector as a JSON
    /// array, the metadata as a JSON object, empty where none); answers as
    /// `annotator=label` joined by `;`. Fields are quoted when needed.
    /// With `labelSets` (multi-label), the column is `labels`, each set a JSON list such as `["a","b"]`.
    public static func csv(_ rows: [SnapshotRow], content: [String: Content]? = nil, labelSets: LabelSet? = nil) -> String {
        var out = "id,\(labelSets == nil ? "label" : "labels"),source,confidence,split,answers" + (content == nil ? "" : ",text,vector,meta") + "\n"
        for row in canonicalOrder(rows) {
            let answers = row.answers.map { "\($0.annotator)=\($0.label)" }.joined(separator: ";")
            var fields = [row.id, row.label, row.source.rawValue, JSONValue.format(row.confidence), row.split.rawValue, answers]
            if let content {
                let c = content[row.id]
                fields += [c?.text ?? "", c?.vector.map { vectorJSON($0).serialized() } ?? "",
                           c?.metaJSON ?? ""]
            }
            out += fields.map(csvField).joined(separator: ",") + "\n"
        }
        return out
    }

    static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// SHA-256 (hex) of the canonical JSONL.
    public static func contentHash(_ rows: [SnapshotRow]) -> String {
        hexString(SHA256.hash(data: Array(jsonl(rows).utf8)))
    }

    /// The split for an item id: a stable hash of the id decides it, so an
    /// item keeps its split in every snapshot. About 80% train, 10% dev, 10% test.
    public static func split(forID id: String) -> Split {
        let digest = Array(SHA256.hash(data: Array(("split:" + id).utf8)))
        let bucket = (Int(digest[0]) << 8 | Int(digest[1])) % 100
        return bucket < 80 ? .train : (bucket < 90 ? .dev : .test)
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
