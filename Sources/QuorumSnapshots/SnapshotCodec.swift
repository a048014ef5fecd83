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

    /// The JSONL export: one line per row, each ending in "\n".
    ///
    /// - Complexity: O(total row size).
    public static func jsonl(_ rows: [SnapshotRow]) -> String {
        var out = ""
        for row in canonicalOrder(rows) {
            out += line(row)
            out += "\n"
        }
        return out
    }

    /// One row's canonical JSON line (without the newline).
    public static func line(_ row: SnapshotRow) -> String {
        let answers: [JSONValue] = row.answers.map {
            .object([("annotator", .string($0.annotator)), ("label", .string($0.label))])
        }
        return JSONValue.object([
            ("id", .string(row.id)), ("label", .string(row.label)), ("source", .string(row.source.rawValue)),
            ("confidence", .double(row.confidence)), ("split", .string(row.split.rawValue)),
            ("answers", .array(answers)),
        ]).serialized()
    }

    /// SHA-256 (hex) of one row's canonical line: stored with the row, so
    /// `verify` can name the rows that changed.
    public static func rowHash(_ row: SnapshotRow) -> String {
        hexString(SHA256.hash(data: Array(line(row).utf8)))
    }

    /// The CSV export: header `id,label,source,confidence,split,answers`;
    /// answers as `annotator=label` joined by `;`. Fields are quoted when needed.
    public static func csv(_ rows: [SnapshotRow]) -> String {
        var out = "id,label,source,confidence,split,answers\n"
        for row in canonicalOrder(rows) {
            let answers = row.answers.map { "\($0.annotator)=\($0.label)" }.joined(separator: ";")
            let fields = [row.id, row.label, row.source.rawValue, JSONValue.format(row.confidence), row.split.rawValue, answers]
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
