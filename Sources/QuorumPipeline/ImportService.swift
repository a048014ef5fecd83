import Foundation
import Crypto
import Glibc
import QuorumCore
import QuorumImport
import QuorumStore

/// `quorum import`: streams an item file into the project, all or nothing.
public enum ImportService {
    public struct Options: Sendable {
        public var kind: ItemKind
        public var mapping: FieldMapping
        public init(kind: ItemKind = .pool, mapping: FieldMapping = FieldMapping()) {
            self.kind = kind
            self.mapping = mapping
        }
    }

    public struct Summary: Sendable, Equatable {
        public var file: String
        public var kind: ItemKind
        public var read = 0
        public var inserted = 0
        /// Same id, same content as an existing item: skipped.
        public var duplicates = 0
        /// Imported items whose content equals another item's (kept, linked by content hash).
        public var contentDuplicates = 0
        public var seconds = 0.0
        /// Pool imports: the drift comparison made after the import (nil when there is nothing to compare).
        public var drift: DriftService.Comparison?

        public var json: JSONValue {
            .object([("drift", drift?.json ?? .null), ("file", .string(file)), ("as", .string(kind.rawValue)), ("read", .int(read)),
                     ("imported", .int(inserted)), ("duplicates", .int(duplicates)),
                     ("content_duplicates", .int(contentDuplicates)), ("seconds", .double(seconds))])
        }
    }

    /// Items staged per transaction: each chunk holds the write lock for a few
    /// milliseconds, so annotators' answers interleave with a long import.
    public static let chunkSize = 20_000
    /// The longest a chunk holds the write lock, in seconds: on a slow or busy
    /// machine a chunk ends early, and between chunks the import pauses 3 ms,
    /// longer than a waiting writer's retry interval (2 ms).
    public static let chunkHold = 0.5

    /// Imports `path`. On any bad line it throws a `QuorumError` reading
    /// `FILE:LINE: field: problem`, and the project is left untouched.
    ///
    /// The file is read and checked in chunks of `chunkSize` items, each
    /// staged in its own short transaction; then, in one transaction, the
    /// staged ids the project already has are checked in bulk (duplicates
    /// skipped, the first conflict in file order is the error) and the rest
    /// published into the project in one `INSERT … SELECT`. The import is all
    /// or nothing (a failure drops the staged items), and the write lock is
    /// held for the copy, not for reading and checking the file.
    ///
    /// - Parameter progress: called now and then with (bytes read, total bytes, items read).
    /// - Complexity: O(file size); memory O(1) in the number of items.
    public static func run(store: any ProjectStore, path: String, options: Options,
                           progress: ((Int, Int, Int) -> Void)? = nil) throws -> Summary {
        let started = monotonicSeconds()
        let reader = try ItemFileReader.open(path, mapping: options.mapping)
        var summary = Summary(file: path, kind: options.kind)
        let project = try store.read { try $0.project() }
        let batch = Int64.random(in: 1...Int64.max)
        var dimension = project.vectorDimension
        var record = ItemRecord()
        var idsRequired: Bool?
        var lastProgress = started
        func fail(_ line: Int, _ field: String, _ problem: String, _ hint: String) -> QuorumError {
            ItemFileError(file: path, line: line, field: field, problem: problem, hint: hint).asQuorumError
        }
        do {
            var more = true
            while more {
                let chunkStarted = monotonicSeconds()
                try store.write { w in
                    for n in 0..<chunkSize {
                        // A chunk also ends after `chunkHold` seconds, so a slow machine never holds the lock long.
                        if n % 1024 == 1023 && monotonicSeconds() - chunkStarted > chunkHold { return }
                        guard try reader.nextRecord(into: &record) else { more = false; return }
                        summary.read += 1
                        let item = try check(record, options: options, project: project, dimension: &dimension,
                                             idsRequired: &idsRequired, fail: fail)
                        switch try w.stage(item, batch: batch, line: record.line) {
                        case .inserted:
                            summary.inserted += 1
                        case .duplicate:
                            summary.duplicates += 1
                        case .conflict(let existingKind, let difference):
                            throw conflict(item.id, existingKind: existingKind, difference: difference, line: record.line,
                                           options: options, fail: fail)
                        }
                        if let progress, summary.read % 4096 == 0 {
                            let now = monotonicSeconds()
                            if now - lastProgress > 0.25 {
                                lastProgress = now
                                progress(reader.bytesRead, reader.totalBytes, summary.read)
                            }
                        }
                    }
                }
                // Let a writer waiting for the lock (an annotator's answer) in before the next chunk.
                if more { usleep(3_000) }
            }
            guard summary.read > 0 else {
                throw QuorumError(.badInput, "\(path): the file has no items", hint: "check that you passed the right file")
            }
            try store.write { w in
                if project.vectorDimension == nil, let d = dimension {
                    if let now = try w.project().vectorDimension, now != d {
                        throw QuorumError(.state, "\(path): the file's vectors have \(d) values, but another import meanwhile gave the project vectors of \(now)",
                                          hint: "make every vector the same length")
                    }
                    try w.setVectorDimension(d)
                }
                // Ids the project already has: duplicates are skipped, the first conflict is the error.
                let clashes = try w.stagedClashes(batch: batch)
                if let c = clashes.conflict, case .conflict(let existingKind, let difference) = c.outcome {
                    throw conflict(c.id, existingKind: existingKind, difference: difference, line: c.line, options: options, fail: fail)
                }
                summary.duplicates += clashes.duplicates
                summary.inserted -= clashes.duplicates
                let lastKeyBefore = try w.lastItemKey()
                let published = try w.publishStaged(batch: batch)
                guard published == summary.inserted else {
                    throw QuorumError(.state, "\(path): \(summary.inserted - published) items were imported by another process meanwhile",
                                      hint: "run the import again: those items will be counted as duplicates")
                }
                try w.dropStaged(batch: batch, staleAfter: 86_400)
                summary.contentDuplicates = try w.contentDuplicates(keysAbove: lastKeyBefore)
                summary.seconds = monotonicSeconds() - started
                try w.appendEvent(EventRecord(kind: "import", detailJSON: summary.json.serialized()))
            }
        } catch {
            try? store.writePatiently { w in try w.dropStaged(batch: batch, staleAfter: 86_400) }
            throw error
        }
        progress?(reader.totalBytes, reader.totalBytes, summary.read)
        if options.kind == .pool, summary.inserted > 0 {
            summary.drift = try DriftService.record(store: store)
        }
        return summary
    }

    /// One record, checked (content, vector length, label, id) and made an item.
    private static func check(_ record: ItemRecord, options: Options, project: ProjectInfo, dimension: inout Int?,
                              idsRequired: inout Bool?,
                              fail: (Int, String, String, String) -> QuorumError) throws -> NewItem {
        let line = record.line
        // Content: text and/or a vector.
        guard record.text != nil || record.hasVector else {
            throw fail(line, options.mapping.textField, "the item has neither \"\(options.mapping.textField)\" nor \"\(options.mapping.vectorField)\"",
                       "give every item text or a vector, or name the right fields with --text-field/--vector-field")
        }
        if record.hasVector {
            if record.vector.isEmpty {
                throw fail(line, options.mapping.vectorField, "the vector is empty", "give every vector at least one value")
            }
            if let d = dimension, d != record.vector.count {
                throw fail(line, options.mapping.vectorField, "the vector has \(record.vector.count) values but the project's vectors have \(d)",
                           "make every vector the same length")
            }
            if dimension == nil { dimension = record.vector.count }
        }
        // Label.
        var label: String?
        if options.kind.requiresLabel {
            guard let given = try project.storedLabel(of: record, field: options.mapping.labelField, fail: fail) else {
                throw fail(line, options.mapping.labelField, "missing label; \(options.kind.rawValue) items must be labelled",
                           "add a \"\(options.mapping.labelField)\" to every item, or import the file --as pool")
            }
            label = given
        }
        // Identity: a preference item's content is its prompt and both responses.
        var hashed = record.text
        if project.task == .preference {
            let pair = try PreferencePair(record, fail: fail)
            hashed = [pair.prompt, pair.a, pair.b].joined(separator: "\u{1F}")
        }
        let hash = contentHash(text: hashed, vector: record.hasVector ? record.vector : nil)
        if idsRequired == nil { idsRequired = record.id != nil }
        let id: String
        if let given = record.id {
            guard !given.isEmpty else {
                throw fail(line, options.mapping.idField, "the id is empty", "give every item a non-empty id")
            }
            guard !TerminalText.containsUnsafe(given) else {
                throw fail(line, options.mapping.idField, "the id \"\(TerminalText.visible(given))\" contains control or bidi characters",
                           "use ids of printable characters (no tabs, line breaks, escapes or direction marks)")
            }
            id = given
        } else if idsRequired == true {
            throw fail(line, options.mapping.idField, "missing id (earlier items in this file have one)",
                       "give every item an id, or none so that ids are derived from content")
        } else {
            id = "h" + hexString(withUnsafeBytes(of: hash.bigEndian) { Array($0) })
        }
        return NewItem(id: id, kind: options.kind, contentHash: hash, text: record.text,
                       vector: record.hasVector ? record.vector : nil, metaJSON: metaJSON(record.meta), label: label)
    }

    /// The error for an id that exists with other content, kind or label.
    private static func conflict(_ itemID: String, existingKind: ItemKind, difference: String, line: Int, options: Options,
                                 fail: (Int, String, String, String) -> QuorumError) -> QuorumError {
        let id = TerminalText.visible(itemID)
        switch difference {
        case "kind":
            return fail(line, options.mapping.idField, "item \"\(id)\" already exists as a \(existingKind.rawValue) item, not \(options.kind.rawValue)",
                        "an item keeps its kind; give this item a new id, or import the file --as \(existingKind.rawValue)")
        case "label":
            return fail(line, options.mapping.labelField, "item \"\(id)\" already exists (as a \(existingKind.rawValue) item) with another label",
                        "a re-import cannot change a label; fix the file, or give the item a new id")
        default:
            return fail(line, options.mapping.idField, "item \"\(id)\" already exists (as a \(existingKind.rawValue) item) with different content",
                        "give this item a new id, or remove it from the file")
        }
    }

    /// The first 64 bits of the SHA-256 of the content: the text's UTF-8
    /// bytes, a separator, the vector's bytes. 64 bits make an accidental
    /// collision unlikely below billions of items, and keep the index small.
    static func contentHash(text: String?, vector: [Float]?) -> Int64 {
        var hasher = SHA256()
        if let text {
            hasher.update(data: [1])
            var t = text
            t.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        }
        hasher.update(data: [0])
        if let vector {
            hasher.update(data: [2])
            vector.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        }
        return hasher.finalize().withUnsafeBytes { $0.loadUnaligned(as: Int64.self) }
    }

    static func metaJSON(_ meta: [(key: String, json: String)]) -> String? {
        guard !meta.isEmpty else { return nil }
        var out = "{"
        for (i, entry) in meta.enumerated() {
            if i > 0 { out += "," }
            JSONValue.writeString(entry.key, into: &out)
            out += ":" + entry.json
        }
        return out + "}"
    }
}

extension ItemFileReader {
    /// Opens an item file, its errors as messages for people.
    static func open(_ path: String, mapping: FieldMapping) throws(QuorumError) -> ItemFileReader {
        do { return try ItemFileReader(path: path, mapping: mapping) } catch { throw error.asQuorumError }
    }

    /// `next(into:)`, its errors as messages for people, with the record's
    /// id and label in Unicode NFC (`String.nfc`): every file Quorum reads
    /// (items, answers, rulings, predictions) comes through here, so
    /// canonically equivalent spellings name one item and one label.
    func nextRecord(into record: inout ItemRecord) throws(QuorumError) -> Bool {
        let found: Bool
        do { found = try next(into: &record) } catch { throw error.asQuorumError }
        if found {
            if let id = record.id { record.id = id.nfc }
            if let label = record.label { record.label = label.nfc }
            if let list = record.labelList { record.labelList = list.map(\.nfc) }
        }
        return found
    }
}

extension Error {
    /// Any error from a lower layer, as a message for people.
    var asQuorumError: QuorumError {
        if let e = self as? QuorumError { return e }
        if let e = self as? ItemFileError { return QuorumError(.badInput, "\(e.file)\(e.line > 0 ? ":\(e.line)" : ""): \(e.field): \(e.problem)", hint: e.hint) }
        return QuorumError(.environment, String(describing: self))
    }
}
