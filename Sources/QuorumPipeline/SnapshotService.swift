import Foundation
import QuorumCore
import QuorumReporting
import QuorumSnapshots
import QuorumStore

/// `quorum snapshot create | list | show | diff | export | verify`.
public enum SnapshotService {
    /// `dpo` (preference projects): `{"id", "prompt", "chosen", "rejected"}` per item settled a or b.
    public enum ExportFormat: String, Sendable, CaseIterable { case jsonl, csv, dpo }

    /// Freezes the current labelled dataset as the next numbered snapshot.
    ///
    /// Rows: seed items (source `seed`, confidence 1), pool items with a
    /// settled consensus (source `consensus`), and pool items the router
    /// auto-accepted (source `auto`) unless people's consensus overrode them.
    /// The project's test items are rows too (source `seed`, split `test`),
    /// so an export is a dataset with its held-out test set; gold items check
    /// annotators and are not part of the dataset.
    public static func create(store: any ProjectStore, message: String, author: String) throws -> SnapshotInfo {
        try store.write { w in
            var rows: [SnapshotRow] = []
            for item in try w.items(kinds: [.seed]) {
                rows.append(SnapshotRow(id: item.id, label: item.label!, source: .seed, confidence: 1,
                                        split: SnapshotCodec.split(forID: item.id), answers: []))
            }
            for item in try w.items(kinds: [.test]) {
                rows.append(SnapshotRow(id: item.id, label: item.label!, source: .seed, confidence: 1, split: .test, answers: []))
            }
            let consensus = try w.consensus()
            var answersByItem: [Int64: [RowAnswer]] = [:]
            for a in try w.answers(round: nil) {
                if let label = a.label { answersByItem[a.itemKey, default: []].append(RowAnswer(annotator: a.annotator, label: label)) }
            }
            var method = "none"
            let auto = try w.autoLabels()
            for item in try w.items(kinds: [.pool]) {
                guard let c = consensus[item.key], let label = c.label else {
                    if let a = auto[item.key], consensus[item.key] == nil {
                        rows.append(SnapshotRow(id: item.id, label: a.label, source: .auto, confidence: a.confidence,
                                                split: SnapshotCodec.split(forID: item.id), answers: []))
                    }
                    continue
                }
                method = c.method
                let answers = (answersByItem[item.key] ?? []).sorted { ($0.annotator, $0.label) < ($1.annotator, $1.label) }
                rows.append(SnapshotRow(id: item.id, label: label, source: .consensus, confidence: c.confidence,
                                        split: SnapshotCodec.split(forID: item.id), answers: answers))
            }
            guard !rows.isEmpty else {
                throw QuorumError(.state, "there are no labelled items to snapshot",
                                  hint: "import seed labels or close a round first")
            }
            rows = SnapshotCodec.canonicalOrder(rows)
            let previous = try w.snapshots().last
            var info = SnapshotInfo(number: (previous?.number ?? 0) + 1, parent: previous?.number,
                                    hash: SnapshotCodec.contentHash(rows), items: rows.count,
                                    createdAt: Timestamp.format(w.now), createdBy: author, message: message,
                                    modelVersion: try w.liveModel()?.id, consensusMethod: method,
                                    rounds: try w.rounds().map(\.id))
            if let head = try w.eventHead() { (info.auditSeq, info.auditHash) = (head.seq, head.hash) }
            try w.insertSnapshot(info, rows: rows, rowHashes: rows.map(SnapshotCodec.rowHash))
            try w.appendEvent(EventRecord(kind: "snapshot", modelVersion: info.modelVersion, detailJSON: info.json.serialized()))
            return info
        }
    }

    public static func list(store: any ProjectStore) throws -> [SnapshotInfo] {
        try store.read { try $0.snapshots() }
    }

    /// Parses "v3" or "3".
    public static func number(_ name: String) throws -> Int {
        let digits = name.hasPrefix("v") ? String(name.dropFirst()) : name
        guard let n = Int(digits), n >= 1 else {
            throw QuorumError(.badInput, "\"\(name)\" is not a snapshot name", hint: "name snapshots like v1, v2 (see `quorum snapshot list`)")
        }
        return n
    }

    static func load(_ r: any StoreReader, _ name: String) throws -> (SnapshotInfo, [SnapshotRow]) {
        let n = try number(name)
        guard let info = try r.snapshot(number: n) else {
            throw QuorumError(.badInput, "there is no snapshot v\(n)", hint: "see `quorum snapshot list`")
        }
        return (info, try r.snapshotRows(number: n))
    }

    public static func show(store: any ProjectStore, name: String) throws -> (SnapshotInfo, [SnapshotRow]) {
        try store.read { try load($0, name) }
    }

    /// The snapshot's datasheet (counts, annotators, agreement), with its rows
    /// checked against the recorded content hash.
    ///
    /// - Complexity: O(rows × annotators² + total row size), see `Datasheet.init`.
    public static func datasheet(store: any ProjectStore, name: String) throws -> Datasheet {
        let (info, rows, project) = try store.read { r in
            let (info, rows) = try load(r, name)
            return (info, rows, try r.project())
        }
        return Datasheet(snapshot: info, rows: rows, labels: project.labels.names, ordered: project.ordered,
                         hashVerified: SnapshotCodec.contentHash(rows) == info.hash && rows.count == info.items)
    }

    /// Writes `text` to `path` atomically, or fails with a message naming the file and `what` it is.

    public static func diff(store: any ProjectStore, from a: String, to b: String) throws -> SnapshotDiff {
        try store.read { r in SnapshotDiff(old: try load(r, a).1, new: try load(r, b).1) }
    }

    /// Writes the snapshot to `path` atomically (under `OutputFile`'s rules:
    /// never the project's database, an existing file only with `force`); the
    /// same snapshot always gives the same bytes.
    public static func export(store: any ProjectStore, name: String, format: ExportFormat, to path: String,
                              force: Bool = false, project projectDirectory: String? = nil) throws -> Int {
        try OutputFile.check(path, force: force, project: projectDirectory)
        let (rows, content, project) = try store.read { r in
            let (_, rows) = try load(r, name)
            let wanted = Set(rows.map(\.id))
            var content: [String: SnapshotCodec.Content] = [:]
            for item in try r.items(kinds: ItemKind.allCases) where wanted.contains(item.id) {
                content[item.id] = SnapshotCodec.Content(text: item.text, vector: item.vector, metaJSON: item.metaJSON)
            }
            return (rows, content, try r.project())
        }
        let sets = project.task == .multiLabel ? project.labels : nil
        let text: String
        switch format {
        case .jsonl: text = SnapshotCodec.jsonl(rows, content: content, labelSets: sets)
        case .csv: text = SnapshotCodec.csv(rows, content: content, labelSets: sets)
        case .dpo:
            guard project.task == .preference else {
                throw QuorumError(.badInput, "--format dpo is for preference projects (a prompt and two responses)",
                                  hint: "export this project with --format jsonl or --format csv")
            }
            text = dpo(rows, content: content)
        }
        try OutputFile.write(text,
                             to: path, what: "export", force: force, project: projectDirectory)
        return rows.count
    }

    /// The DPO pairs of a preference snapshot: one line `{"id", "prompt",
    /// "chosen", "rejected"}` per row labelled a or b (ties teach no preference), sorted by id.
    static func dpo(_ rows: [SnapshotRow], content: [String: SnapshotCodec.Content]) -> String {
        var out = ""
        for row in SnapshotCodec.canonicalOrder(rows) where row.label == "a" || row.label == "b" {
            guard let c = content[row.id], let pair = PreferencePair(prompt: c.text, metaJSON: c.metaJSON) else { continue }
            let (chosen, rejected) = row.label == "a" ? (pair.a, pair.b) : (pair.b, pair.a)
            out += JSONValue.object([("id", .string(row.id)), ("prompt", .string(pair.prompt)),
                                     ("chosen", .string(chosen)), ("rejected", .string(rejected))]).serialized() + "\n"
        }
        return out
    }

    /// Recomputes the content hash from the stored rows, and each row's digest
    /// to name the rows that changed.
    public static func verify(store: any ProjectStore, name: String) throws -> SnapshotInfo {
        let (info, rows, digests) = try store.read { r in
            let (info, rows) = try load(r, name)
            return (info, rows, try r.snapshotRowHashes(number: info.number))
        }
        let actual = SnapshotCodec.contentHash(rows)
        guard actual == info.hash, rows.count == info.items else {
            let changed = rows.filter { digests[$0.id] != nil && digests[$0.id] != SnapshotCodec.rowHash($0) }.map(\.id)
            let what = changed.isEmpty
                ? (rows.count != info.items ? "it has \(rows.count) rows but was created with \(info.items)" : "its rows no longer match its content hash")
                : "row\(changed.count == 1 ? "" : "s") \(changed.prefix(10).map { "\"\($0)\"" }.joined(separator: ", ")) changed"
            throw QuorumError(.failedCheck, "snapshot \(info.name) fails verification: \(what) (content hash now \(actual.prefix(12))…, recorded \(info.hash.prefix(12))…)",
                              hint: "the snapshot was modified after it was created; restore the project from a backup")
        }
        return info
    }
}

extension SnapshotInfo {
    public var json: JSONValue {
        .object([("snapshot", .string(name)), ("hash", .string(hash)), ("items", .int(items)),
                 ("parent", .text(parent.map { "v\($0)" })), ("created_at", .string(createdAt)),
                 ("created_by", .string(createdBy)), ("message", .string(message)),
                 ("model_version", .text(modelVersion)), ("consensus_method", .string(consensusMethod)),
                 ("rounds", .array(rounds.map { .int($0) })),
                 ("audit_head", auditSeq.map { seq in .object([("seq", .int(Int(seq))), ("hash", .text(auditHash))]) } ?? .null)])
    }
}
