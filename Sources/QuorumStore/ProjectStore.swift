import QuorumCore

/// The storage boundary. Everything above it speaks in domain records; only
/// the store knows SQL. SQLite is the first implementation (`SQLiteStore`);
/// PostgreSQL the second (`PostgresStore`, in QuorumPostgres). Both give the
/// same results in the same order, which QuorumStoreConformanceTests checks
/// by running one suite against each.
///
/// Every command's writes go through one `write` call, which is one
/// transaction: if the body throws, nothing it wrote is kept.
public protocol ProjectStore: Sendable {
    /// Where the store reads the time (once per transaction, see `StoreReader.now`).
    var clock: Clock { get }
    /// Runs `body` in a read-only snapshot of the project.
    func read<T>(_ body: (any StoreReader) throws -> T) throws -> T
    /// Runs `body` in one write transaction; commits when it returns, rolls back when it throws.
    func write<T>(_ body: (any StoreWriter) throws -> T) throws -> T
    /// `write` for what a person just did (an annotator's answer): when the
    /// database stays busy past the store's wait (another process's long
    /// transaction), it keeps retrying instead of failing, so the answer is
    /// never dropped. The body may run more than once; each run is one transaction.
    func writePatiently<T>(_ body: (any StoreWriter) throws -> T) throws -> T
    /// The same project for a rehearsal (`--dry-run`): every `write` runs in
    /// full, sees its own changes and returns its result, then rolls back.
    func rehearsal() -> any ProjectStore
}

/// Queries. Each returns plain domain records.
public protocol StoreReader {
    /// When this transaction began, by the store's clock (seconds since 1970).
    /// Read once per transaction: every record the transaction writes is
    /// stamped with it, and callers check leases against it.
    var now: Double { get }
    func project() throws -> ProjectInfo
    func counts() throws -> ProjectCounts
    /// A project setting (the project table is key/value), or nil when unset.
    func setting(_ key: String) throws -> String?
    /// Items with a key above `key` whose content equals another item's (linked as content duplicates).
    /// - Complexity: O(m log n) for m such items.
    func contentDuplicates(keysAbove key: Int64) throws -> Int
    /// The largest item key so far (0 when there are none).
    func lastItemKey() throws -> Int64

    /// Items of the given kinds, in key order.
    /// - Complexity: O(n) rows read.
    func items(kinds: [ItemKind]) throws -> [StoredItem]
    /// The items with these keys (any kind), by key; unknown keys are skipped.
    func items(keys: [Int64]) throws -> [StoredItem]

    func liveModel() throws -> ModelVersion?
    /// The live model's id, without its state.
    func liveModelID() throws -> String?
    func shadowModel() throws -> ModelVersion?
    func models() throws -> [ModelVersion]
    /// The model's stored predictions, keyed by item key.
    func predictions(model: String) throws -> [Int64: Prediction]
    /// Items the router labelled itself.
    func autoLabels() throws -> [Int64: AutoLabel]

    func rounds() throws -> [RoundRecord]
    /// The newest open round, if any.
    func openRound() throws -> RoundRecord?
    func round(_ id: Int) throws -> RoundRecord?
    /// Keys of items that already have a task in any round.
    func taskedItemKeys() throws -> Set<Int64>
    /// Tasks of `round` that `annotator` may answer now, in the queue's order: not
    /// answered by them, still wanting answers, and not fully held by others' claims.
    func openTasks(round: Int, annotator: String, limit: Int?, now: Double) throws -> [OpenTask]
    /// How far a round's tasks are.
    func taskProgress(round: Int) throws -> TaskProgress
    /// Every task of a round with its slots.
    func taskStates(round: Int) throws -> [TaskState]
    /// Unexpired claims on a round's tasks: who holds which item, until when (seconds since 1970).
    func activeClaims(round: Int, now: Double) throws -> [(annotator: String, itemID: String, expiresAt: Double)]
    /// Picks of a round, with strategy, score and rank.
    func picks(round: Int) throws -> [(itemID: String, pick: TaskPick)]

    /// All answers, or those of one round.
    func answers(round: Int?) throws -> [AnswerRecord]
    /// One answer by its id, or nil.
    func answer(_ id: Int64) throws -> AnswerRecord?
    /// Every answer to one item, oldest first.
    func answers(itemKey: Int64) throws -> [AnswerRecord]
    /// The annotator's most recent answer in the round (what an undo takes back).
    func latestAnswer(round: Int, annotator: String) throws -> AnswerRecord?
    /// The annotator's answers in the round that count (labels and flags).
    func answerCount(round: Int, annotator: String) throws -> Int
    /// The round's task for `itemID` when `annotator` holds a claim on it (even
    /// one past its lease) and its slot is still theirs: no one else has filled
    /// or claimed it. Answers are accepted only for such tasks.
    func heldTask(round: Int, annotator: String, itemID: String, now: Double) throws -> OpenTask?
    /// The tasks `annotator` holds unexpired claims on in the round, oldest claim first.
    func heldClaims(round: Int, annotator: String, now: Double) throws -> [(taskID: Int64, itemID: String)]
    func consensus() throws -> [Int64: ConsensusRecord]
    /// Adjudicators' rulings: item key → (label, adjudicator).
    func adjudications() throws -> [Int64: (label: String, adjudicator: String)]
    /// The item key of the adjudicator's most recent ruling still standing.
    func latestAdjudication(adjudicator: String) throws -> Int64?
    /// The key of the item with this id.
    func itemKey(id: String) throws -> Int64?
    /// Registered people: name → role ("annotator" or "adjudicator").
    func annotators() throws -> [(name: String, role: String)]
    /// The person whose API token hashes to `hash`, with their role.
    func annotator(tokenHash hash: String) throws -> (name: String, role: String)?

    /// The event log in order, or one item's events.
    func events(itemID: String?) throws -> [StoredEvent]
    /// The events of these kinds, in order (read through an index on kind, not the whole log).
    func events(kinds: [String]) throws -> [StoredEvent]
    /// The last event's seq and hash (the chain's head), or nil for an empty log.
    func eventHead() throws -> (seq: Int64, hash: String)?

    func snapshots() throws -> [SnapshotInfo]
    func snapshot(number: Int) throws -> SnapshotInfo?
    /// Rows of a snapshot, sorted by id.
    func snapshotRows(number: Int) throws -> [SnapshotRow]
    /// Each row's stored digest, by item id.
    func snapshotRowHashes(number: Int) throws -> [String: String]
}

/// Changes. Only available inside `ProjectStore.write`.
public protocol StoreWriter: StoreReader {
    func setVectorDimension(_ d: Int) throws
    /// Sets a project setting.
    func setSetting(_ key: String, _ value: String) throws
    /// Inserts an item unless its id exists; reports what happened.
    /// - Complexity: O(log n) per item.
    func insert(_ item: NewItem) throws -> InsertOutcome
    /// Stages an item of the import `batch` read from `line`, invisible until
    /// `publishStaged`. Checked against the batch's earlier items like
    /// `insert`; the project's items are checked in bulk by `stagedClashes`.
    func stage(_ item: NewItem, batch: Int64, line: Int) throws -> InsertOutcome
    /// The batch's items whose id the project already has: how many are
    /// duplicates (same content, kind and label), and the first (in file
    /// order) that conflicts, with its line.
    func stagedClashes(batch: Int64) throws -> (duplicates: Int, conflict: (line: Int, id: String, outcome: InsertOutcome)?)
    /// Moves the batch's staged items the project does not have yet into it,
    /// in file order; returns how many.
    func publishStaged(batch: Int64) throws -> Int
    /// Drops the batch's staged items (a failed import), and any batch staged
    /// more than `staleAfter` seconds ago (an import that was killed).
    func dropStaged(batch: Int64, staleAfter: Double) throws

    /// Records a model version; when live (or shadow), it replaces the live (or shadow) model.
    func insertModel(_ model: ModelVersion) throws
    /// Makes the model `id` the live one (no longer the shadow); the previous live model is retired.
    func promoteModel(_ id: String) throws
    /// The next free model id ("m1", "m2", …).
    func nextModelID() throws -> String
    func insertPredictions(model: String, _ predictions: [Prediction]) throws

    /// Creates a round and its tasks; returns the round id.
    func createRound(modelVersion: String?, overlap: Int, settingsJSON: String, picks: [TaskPick]) throws -> Int
    func closeRound(_ id: Int, metricsJSON: String) throws
    /// Marks an open round cancelled and removes its claims, tasks and auto-accepted labels.
    func cancelRound(_ id: Int) throws
    func insertAutoLabels(_ labels: [AutoLabel]) throws

    /// Records an answer. Throws `QuorumError` when the annotator already answered the task.
    func insertAnswer(taskID: Int64, annotator: String, label: String?, seconds: Double,
                      note: String?, flagged: Bool) throws -> Int64
    /// Removes an answer (undo), returning whether it existed.
    func deleteAnswer(_ answerID: Int64) throws -> Bool
    /// The task queue: claims the next task `annotator` may answer in `round`,
    /// holding one of its slots until `now + leaseSeconds` (their own unexpired
    /// or still-free claim comes first, so they pick up where they left off).
    /// Releases any other claim they hold, except the task `keeping` (the one
    /// a page shows while it fetches the next one ahead), which is never the
    /// task returned.
    func claimTask(round: Int, annotator: String, leaseSeconds: Double, now: Double, keeping: Int64?) throws -> ClaimOutcome
    /// Claims one task for `annotator` until `until` (seconds since 1970), e.g. after an undo,
    /// releasing their other claims except the tasks in `keeping`.
    func claim(taskID: Int64, annotator: String, until: Double, keeping: [Int64], now: Double) throws
    /// Gives back every claim `annotator` holds (when they quit).
    func releaseClaims(annotator: String) throws
    /// Asks one more annotator for a task: it wants one more answer than before.
    func addAnswerWanted(taskID: Int64) throws
    func ensureAnnotator(_ name: String, role: String) throws
    func insertAdjudication(itemKey: Int64, label: String, adjudicator: String) throws
    func deleteAdjudication(itemKey: Int64) throws -> Bool
    /// Registers a person, or changes their role.
    func setAnnotator(_ name: String, role: String) throws
    /// Stores the SHA-256 (hex) of a person's API token, replacing any earlier one.
    func setTokenHash(_ name: String, _ hash: String) throws

    /// Replaces the consensus of the given items.
    func upsertConsensus(_ records: [ConsensusRecord]) throws

    /// Stores a snapshot; `rowHashes[i]` is the digest of `rows[i]`.
    func insertSnapshot(_ info: SnapshotInfo, rows: [SnapshotRow], rowHashes: [String]) throws

    /// Appends to the hash-chained event log.
    func appendEvent(_ event: EventRecord) throws
}

extension StoreWriter {
    /// Claims the next task, releasing every other claim the annotator holds.
    public func claimTask(round: Int, annotator: String, leaseSeconds: Double, now: Double) throws -> ClaimOutcome {
        try claimTask(round: round, annotator: annotator, leaseSeconds: leaseSeconds, now: now, keeping: nil)
    }

    /// Claims one task, releasing every other claim the annotator holds.
    public func claim(taskID: Int64, annotator: String, until: Double, now: Double) throws {
        try claim(taskID: taskID, annotator: annotator, until: until, keeping: [], now: now)
    }
}
