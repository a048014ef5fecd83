/// The domain records that cross the storage boundary.
///
/// They are plain values: the store reads and writes them, the pipeline
/// services compute with them, and neither knows how the other works.

/// One item as the store holds it.
public struct StoredItem: Sendable, Equatable {
    /// The store's compact key for the item (stable for the project's life).
    public var key: Int64
    /// The user-facing id.
    public var id: String
    public var kind: ItemKind
    /// The first 64 bits of the SHA-256 of the content: equal content, equal hash.
    public var contentHash: Int64
    public var text: String?
    public var vector: [Float]?
    /// Metadata as a compact JSON object, e.g. `{"source":"web"}`; nil when none.
    public var metaJSON: String?
    /// The known label for seed, test and gold items.
    public var label: String?

    public init(key: Int64, id: String, kind: ItemKind, contentHash: Int64, text: String?,
                vector: [Float]?, metaJSON: String?, label: String?) {
        self.key = key; self.id = id; self.kind = kind; self.contentHash = contentHash
        self.text = text; self.vector = vector; self.metaJSON = metaJSON; self.label = label
    }
}

/// A new item to insert.
public struct NewItem: Sendable {
    public var id: String
    public var kind: ItemKind
    /// The first 64 bits of the SHA-256 of the content.
    public var contentHash: Int64
    public var text: String?
    public var vector: [Float]?
    public var metaJSON: String?
    public var label: String?

    public init(id: String, kind: ItemKind, contentHash: Int64, text: String?, vector: [Float]?,
                metaJSON: String?, label: String?) {
        self.id = id; self.kind = kind; self.contentHash = contentHash; self.text = text
        self.vector = vector; self.metaJSON = metaJSON; self.label = label
    }
}

/// What happened to one inserted item.
public enum InsertOutcome: Sendable, Equatable {
    case inserted
    /// The id exists with the same content, kind and label: skipped.
    case duplicate
    /// The id exists with different content, kind or label: an error for the
    /// caller to report. `existingKind` is the stored kind, `difference` names
    /// what differs ("content", "kind" or "label").
    case conflict(existingKind: ItemKind, difference: String = "content")
}

/// The project's settings.
public struct ProjectInfo: Sendable, Equatable {
    public var name: String
    public var labels: LabelSet
    /// The length every item vector must have, fixed by the first import with vectors.
    public var vectorDimension: Int?
    public var createdAt: String
    /// Whether the labels are ordered (a scale such as 1–5, in list order): then
    /// agreement is also measured with ordinal and interval Krippendorff's α.
    public var ordered: Bool
    /// What an answer is: one label, a set of labels, or a preference between two responses.
    public var task: TaskType

    public init(name: String, labels: LabelSet, vectorDimension: Int?, createdAt: String, ordered: Bool = false,
                task: TaskType = .single) {
        self.name = name; self.labels = labels; self.vectorDimension = vectorDimension; self.createdAt = createdAt
        self.ordered = ordered; self.task = task
    }
}

/// A trained or imported model, as recorded.
public struct ModelVersion: Sendable, Equatable {
    /// e.g. "m3".
    public var id: String
    public var createdAt: String
    /// "logistic-regression" for trained models, or the external model's name.
    public var kind: String
    /// Settings, as a JSON object (featurizer, regularisation, …).
    public var settingsJSON: String
    /// How many labelled items it was trained on.
    public var trainedOn: Int
    /// Validation metrics, as a JSON object.
    public var metricsJSON: String
    /// The serialised model, to score new items later.
    public var state: [UInt8]
    /// The live model drives routing and sampling; a shadow model only scores.
    public var isLive: Bool
    public var isShadow: Bool

    public init(id: String, createdAt: String, kind: String, settingsJSON: String, trainedOn: Int,
                metricsJSON: String, state: [UInt8], isLive: Bool, isShadow: Bool = false) {
        self.id = id; self.createdAt = createdAt; self.kind = kind; self.settingsJSON = settingsJSON
        self.trainedOn = trainedOn; self.metricsJSON = metricsJSON; self.state = state; self.isLive = isLive
        self.isShadow = isShadow
    }
}

/// A model's prediction for one item.
public struct Prediction: Sendable, Equatable {
    public var itemKey: Int64
    /// Class probabilities (the ensemble mean, calibrated), in the project's label order.
    public var probabilities: [Float]
    /// What the ensemble measured; nil for models that give probabilities only.
    public var measures: PredictionMeasures?

    public init(itemKey: Int64, probabilities: [Float], measures: PredictionMeasures? = nil) {
        self.itemKey = itemKey; self.probabilities = probabilities; self.measures = measures
    }

    /// The most probable class (the first on ties).
    public var label: Int {
        var best = 0
        for j in probabilities.indices where probabilities[j] > probabilities[best] { best = j }
        return best
    }

    /// The most probable class's probability.
    public var confidence: Float { probabilities.max() ?? 0 }
}

/// Per-item measures over an ensemble's predictions (natural logarithms).
public struct PredictionMeasures: Sendable, Equatable {
    /// The predicted class index, and its mean probability.
    public var label: Int
    public var confidence: Float
    /// Top probability minus the runner-up's.
    public var margin: Float
    /// Entropy of the mean probabilities.
    public var entropy: Float
    /// Entropy of the members' votes.
    public var voteEntropy: Float
    /// Mean KL divergence of each member from the mean.
    public var meanKL: Float
    /// BALD: entropy of the mean minus the mean of the members' entropies.
    public var mutualInformation: Float

    public init(label: Int, confidence: Float, margin: Float, entropy: Float, voteEntropy: Float, meanKL: Float,
                mutualInformation: Float) {
        self.label = label; self.confidence = confidence; self.margin = margin; self.entropy = entropy
        self.voteEntropy = voteEntropy; self.meanKL = meanKL; self.mutualInformation = mutualInformation
    }
}

/// An item the router labelled itself.
public struct AutoLabel: Sendable, Equatable {
    public var itemKey: Int64
    public var label: String
    public var confidence: Double
    public var roundID: Int
    public var modelVersion: String
    /// Whether the item was also sent to people as an audit task.
    public var audited: Bool

    public init(itemKey: Int64, label: String, confidence: Double, roundID: Int, modelVersion: String, audited: Bool) {
        self.itemKey = itemKey; self.label = label; self.confidence = confidence; self.roundID = roundID
        self.modelVersion = modelVersion; self.audited = audited
    }
}

/// A labelling round.
public struct RoundRecord: Sendable, Equatable {
    public enum Status: String, Sendable { case open, closed, cancelled }
    public var id: Int
    public var status: Status
    public var createdAt: String
    public var closedAt: String?
    public var modelVersion: String?
    /// Answers wanted per item (K).
    public var overlap: Int
    /// The settings the round was started with, as JSON.
    public var settingsJSON: String
    /// The metrics recorded at close, as JSON; nil while open.
    public var metricsJSON: String?

    public init(id: Int, status: Status, createdAt: String, closedAt: String?, modelVersion: String?,
                overlap: Int, settingsJSON: String, metricsJSON: String?) {
        self.id = id; self.status = status; self.createdAt = createdAt; self.closedAt = closedAt
        self.modelVersion = modelVersion; self.overlap = overlap; self.settingsJSON = settingsJSON
        self.metricsJSON = metricsJSON
    }
}

/// One item picked for a round, and why.
/// Why an item is in a round: one of the sampler's strategies, or one of the
/// two kinds of check task the round mixes in.
public enum PickReason: String, Sendable, CaseIterable {
    case uncertainty, stratified, adversarial, random
    /// A gold item: its answer is known, and checks the annotator.
    case gold
    /// An auto-accepted item sent to people to check the router.
    case audit

    /// Whether a sampling strategy picked the item (not a check task).
    public var isSampled: Bool { self != .gold && self != .audit }
}

public struct TaskPick: Sendable, Equatable {
    public var itemKey: Int64
    /// Why the item was picked: the strategy, or gold or audit.
    public var strategy: PickReason
    /// The strategy's score for the item (higher = more wanted).
    public var score: Double
    /// 1-based rank within the strategy's picks.
    public var rank: Int
    /// The queue's order within a round: higher uncertainty is served first.
    public var uncertainty: Double
    /// When the answer is due (seconds since 1970); nil = no deadline. Breaks ties in uncertainty.
    public var deadline: Double?
    /// Blind tasks hide the model's suggestion from annotators.
    public var blind: Bool

    public init(itemKey: Int64, strategy: PickReason, score: Double, rank: Int,
                uncertainty: Double = 0, deadline: Double? = nil, blind: Bool = false) {
        self.itemKey = itemKey; self.strategy = strategy; self.score = score; self.rank = rank
        self.uncertainty = uncertainty; self.deadline = deadline; self.blind = blind
    }
}

/// A task waiting for an annotator, with what the screen needs to show.
public struct OpenTask: Sendable, Equatable {
    public var taskID: Int64
    public var roundID: Int
    public var item: StoredItem
    /// The live model's probabilities for the item, when there is a model.
    public var probabilities: [Float]?
    /// Whether the suggestion is hidden for this task (blind mode).
    public var blind: Bool

    public init(taskID: Int64, roundID: Int, item: StoredItem, probabilities: [Float]?, blind: Bool = false) {
        self.taskID = taskID; self.roundID = roundID; self.item = item; self.probabilities = probabilities
        self.blind = blind
    }
}

/// How far a round's tasks are.
public struct TaskProgress: Sendable, Equatable {
    public var tasks: Int
    /// Tasks with all the answers they want.
    public var complete: Int
    /// Answers that count (a label or a flag; skips do not).
    public var answers: Int
    /// Answers the tasks want in all (the overlap per task, plus any extra asked for).
    public var wanted: Int

    public init(tasks: Int, complete: Int, answers: Int, wanted: Int) {
        self.tasks = tasks; self.complete = complete; self.answers = answers; self.wanted = wanted
    }
}

/// One task's slots: how many answers it wants and how many it has.
public struct TaskState: Sendable, Equatable {
    public var taskID: Int64
    public var itemKey: Int64
    public var needed: Int
    public var done: Int

    public init(taskID: Int64, itemKey: Int64, needed: Int, done: Int) {
        self.taskID = taskID; self.itemKey = itemKey; self.needed = needed; self.done = done
    }
}

/// What the task queue gives an annotator who asks for work.
public enum ClaimOutcome: Sendable, Equatable {
    /// A task, now claimed by this annotator until its lease expires.
    case claimed(OpenTask)
    /// Nothing is free now, but tasks claimed by others return when their
    /// leases expire; the earliest expires at this time (seconds since 1970).
    case waiting(until: Double)
    /// This annotator has nothing left in the round.
    case finished
}

/// One annotator's answer to one task.
public struct AnswerRecord: Sendable, Equatable {
    public var answerID: Int64
    public var taskID: Int64
    public var roundID: Int
    public var itemKey: Int64
    public var itemID: String
    public var annotator: String
    /// nil when skipped.
    public var label: String?
    public var seconds: Double
    public var note: String?
    public var flagged: Bool
    /// Whether the suggestion was hidden when this was answered (blind mode).
    public var blind: Bool

    public init(answerID: Int64, taskID: Int64, roundID: Int, itemKey: Int64, itemID: String, annotator: String,
                label: String?, seconds: Double, note: String?, flagged: Bool, blind: Bool = false) {
        self.answerID = answerID; self.taskID = taskID; self.roundID = roundID; self.itemKey = itemKey
        self.itemID = itemID; self.annotator = annotator; self.label = label; self.seconds = seconds
        self.note = note; self.flagged = flagged; self.blind = blind
    }
}

/// An item's aggregated label.
public struct ConsensusRecord: Sendable, Equatable {
    public var itemKey: Int64
    /// nil for a dispute.
    public var label: String?
    public var confidence: Double
    public var method: String
    public var answers: Int
    public var isDispute: Bool

    public init(itemKey: Int64, label: String?, confidence: Double, method: String, answers: Int, isDispute: Bool) {
        self.itemKey = itemKey; self.label = label; self.confidence = confidence; self.method = method
        self.answers = answers; self.isDispute = isDispute
    }
}

/// One event for the append-only log.
public struct EventRecord: Sendable, Equatable {
    /// e.g. "import", "train", "round.start", "answer", "consensus", "snapshot".
    public var kind: String
    public var itemID: String?
    public var annotator: String?
    public var modelVersion: String?
    public var confidence: Double?
    /// Details as a JSON object.
    public var detailJSON: String

    public init(kind: String, itemID: String? = nil, annotator: String? = nil, modelVersion: String? = nil,
                confidence: Double? = nil, detailJSON: String = "{}") {
        self.kind = kind; self.itemID = itemID; self.annotator = annotator; self.modelVersion = modelVersion
        self.confidence = confidence; self.detailJSON = detailJSON
    }
}

/// One event as the log holds it.
public struct StoredEvent: Sendable, Equatable {
    public var seq: Int64
    public var at: String
    public var event: EventRecord
    public var previousHash: String
    public var hash: String

    public init(seq: Int64, at: String, event: EventRecord, previousHash: String, hash: String) {
        self.seq = seq; self.at = at; self.event = event; self.previousHash = previousHash; self.hash = hash
    }
}

/// Counts for `quorum status`.
public struct ProjectCounts: Sendable, Equatable {
    public var items: [ItemKind: Int]
    public var openTasks: Int
    public var rounds: Int
    public var snapshots: Int
    public var answers: Int
    public var consensus: Int

    public init(items: [ItemKind: Int], openTasks: Int, rounds: Int, snapshots: Int, answers: Int, consensus: Int) {
        self.items = items; self.openTasks = openTasks; self.rounds = rounds; self.snapshots = snapshots
        self.answers = answers; self.consensus = consensus
    }
}
