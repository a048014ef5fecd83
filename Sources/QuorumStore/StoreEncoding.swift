import Foundation
import QuorumCore

/// What every backend stores the same way: vectors and probabilities as
/// bytes, a snapshot row's answers as text, and how a re-imported item is
/// judged against the stored one. A project moved between backends keeps
/// its bytes, so its hashes and exports stay identical.
public enum StoreEncoding {
    /// The `deadline` stored for a task without one (it sorts after every real deadline).
    public static let noDeadline = 1e308

    /// Little-endian IEEE-754 bytes, as stored in BLOB (SQLite) and BYTEA (PostgreSQL) columns.
    public static func blob(_ values: [Float]) -> Data { values.withUnsafeBytes { Data($0) } }

    /// Decodes bytes written by `blob(_:)`.
    public static func floats(_ blob: Data) -> [Float] {
        let n = blob.count / MemoryLayout<Float>.size
        if n == 0 { return [] }
        return [Float](unsafeUninitializedCapacity: n) { buffer, count in
            blob.withUnsafeBytes { raw in
                _ = memcpy(buffer.baseAddress!, raw.baseAddress!, n * MemoryLayout<Float>.size)
            }
            count = n
        }
    }

    /// A snapshot row's answers as `annotator\tlabel` lines: unambiguous, since
    /// annotator names and labels never contain tabs or newlines.
    public static func encodeAnswers(_ answers: [RowAnswer]) -> String {
        answers.map { "\($0.annotator)\t\($0.label)" }.joined(separator: "\n")
    }

    public static func decodeAnswers(_ text: String) -> [RowAnswer] {
        text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
            return parts.count == 2 ? RowAnswer(annotator: String(parts[0]), label: String(parts[1])) : nil
        }
    }

    /// `item` against a stored row with the same id (its kind, content hash and
    /// label): a duplicate only with the same content, kind and label
    /// (compared byte-wise: ids and labels are NFC where they enter).
    public static func compare(_ item: NewItem, kind: ItemKind, hash: Int64, label: String?) -> InsertOutcome {
        guard hash == item.contentHash else { return .conflict(existingKind: kind) }
        guard kind == item.kind else { return .conflict(existingKind: kind, difference: "kind") }
        guard label?.utf8.elementsEqual(item.label?.utf8 ?? "".utf8) ?? (item.label == nil) else {
            return .conflict(existingKind: kind, difference: "label")
        }
        return .duplicate
    }
}

extension Array where Element == Float {
    /// Little-endian IEEE-754 bytes, as stored in BLOB columns.
    var blob: Data { StoreEncoding.blob(self) }

    /// Decodes a BLOB written by `blob`.
    init(blob: Data) { self = StoreEncoding.floats(blob) }
}
