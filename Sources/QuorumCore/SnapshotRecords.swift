/// Where a snapshot row's label came from.
public enum LabelSource: String, Sendable, Codable, CaseIterable {
    case consensus, auto, seed
}

/// The split a snapshot row belongs to, chosen by a hash of its id.
public enum Split: String, Sendable, Codable, CaseIterable {
    case train, dev, test
}

/// One annotator's answer, as a snapshot row lists it.
public struct RowAnswer: Sendable, Equatable {
    public var annotator: String
    public var label: String
    public init(annotator: String, label: String) { self.annotator = annotator; self.label = label }
}

/// One item's row in a snapshot.
public struct SnapshotRow: Sendable, Equatable {
    public var id: String
    public var label: String
    public var source: LabelSource
    public var confidence: Double
    public var split: Split
    /// Sorted by annotator name.
    public var answers: [RowAnswer]

    public init(id: String, label: String, source: LabelSource, confidence: Double, split: Split, answers: [RowAnswer]) {
        self.id = id; self.label = label; self.source = source; self.confidence = confidence
        self.split = split; self.answers = answers
    }
}

/// A snapshot's header: what it is and where it came from.
public struct SnapshotInfo: Sendable, Equatable {
    /// 1, 2, … ; shown as "v1", "v2", ….
    public var number: Int
    public var name: String { "v\(number)" }
    public var parent: Int?
    /// SHA-256 over the canonical rows, hex.
    public var hash: String
    public var items: Int
    public var createdAt: String
    public var createdBy: String
    public var message: String
    public var modelVersion: String?
    public var consensusMethod: String
    /// The rounds whose labels it covers.
    public var rounds: [Int]
    /// The event log's head when the snapshot was made (the last event's seq
    /// and hash): an anchor `audit verify` checks. nil for older snapshots.
    public var auditSeq: Int64?
    public var auditHash: String?

    public init(number: Int, parent: Int?, hash: String, items: Int, createdAt: String, createdBy: String,
                message: String, modelVersion: String?, consensusMethod: String, rounds: [Int]) {
        self.number = number; self.parent = parent; self.hash = hash; self.items = items
        self.createdAt = createdAt; self.createdBy = createdBy; self.message = message
        self.modelVersion = modelVersion; self.consensusMethod = consensusMethod; self.rounds = rounds
    }
}
