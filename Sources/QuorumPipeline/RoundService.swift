import QuorumCore
import QuorumModels
import QuorumNumerics
import QuorumSampling
import QuorumStore

/// `quorum round start | status | close`.
public enum RoundService {
    public struct StartOptions: Sendable {
        public var size: Int
        public var overlap: Int
        public var seed: UInt64
        public init(size: Int, overlap: Int = 1, seed: UInt64 = 1) {
            self.size = size
            self.overlap = overlap
            self.seed = seed
        }
    }

    public struct StartSummary: Sendable, Equatable {
        public var round: Int
        public var tasks: Int
        public var overlap: Int
        public var byStrategy: [String: Int]
        public var modelVersion: String?

        /// The contract's JSON shape for `round start --format json`.
        public var json: JSONValue {
            .object([("round", .int(round)), ("tasks", .int(tasks)), ("overlap", .int(overlap)),
                     ("by_strategy", .object(byStrategy.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
                     ("model_version", .text(modelVersion))])
        }
    }

    /// Picks `size` pool items and creates their tasks.
    ///
    /// With a live model the picks are the least-confident items; before the
    /// first model they are uniformly random (seeded). Items already tasked or
    /// labelled are never picked again, and a round takes at most one item of
    /// each group of content duplicates.
    public static func start(store: any ProjectStore, options: StartOptions) throws -> StartSummary {
        guard options.size >= 1 else { throw QuorumError(.badInput, "--size must be at least 1, got \(options.size)") }
        guard options.overlap >= 1 else { throw QuorumError(.badInput, "--overlap must be at least 1, got \(options.overlap)") }
        return try store.write { w in
            if let open = try w.openRound() {
                throw QuorumError(.state, "round \(open.id) is still open",
                                  hint: "finish it and run `quorum round close` before starting another")
            }
            let tasked = try w.taskedItemKeys()
            let consensus = try w.consensus()
            let pool = try w.items(kinds: [.pool]).filter { tasked.contains($0.key) == false && consensus[$0.key] == nil }
            guard !pool.isEmpty else {
                throw QuorumError(.state, "no unlabelled pool items are left to sample",
                                  hint: "import more items with `quorum import FILE --as pool`")
            }
            // Content already labelled or asked about is not asked again.
            var excluded = Set<Int64>()
            for item in try w.items(kinds: [.seed, .test, .gold]) { excluded.insert(item.contentHash) }
            let model = try w.liveModel()
            let strategy: String
            let scores: [Double]
            if let model, let classifier = Classifier(encoded: model.state) {
                var stored = try w.predictions(model: model.id)
                let missing = pool.filter { stored[$0.key] == nil }
                if !missing.isEmpty {
                    let p = classifier.probabilities(texts: missing.map(\.text), vectors: missing.map(\.vector))
                    var fresh: [Prediction] = []
                    for (i, item) in missing.enumerated() {
                        let row = Array(p.storage[(i * p.cols)..<((i + 1) * p.cols)])
                        stored[item.key] = row
                        fresh.append(Prediction(itemKey: item.key, probabilities: row))
                    }
                    try w.insertPredictions(model: model.id, fresh)
                }
                let k = classifier.ensemble.classes
                var probabilities = Matrix(rows: pool.count, cols: k)
                for (i, item) in pool.enumerated() {
                    for j in 0..<k { probabilities[i, j] = stored[item.key]![j] }
                }
                strategy = "uncertainty"
                scores = Uncertainty.leastConfident(probabilities)
            } else {
                strategy = "random"
                var rng = SeededGenerator(seed: options.seed ^ 0x5EED)
                scores = pool.map { _ in Double(rng.next() >> 11) / Double(1 << 53) }
            }
            let candidates = zip(pool, scores).map { Candidate(key: $0.key, contentGroup: $0.contentHash, score: $1) }
            let picks = Selection.top(candidates, count: options.size, seed: options.seed, excludedGroups: excluded)
                .map { TaskPick(itemKey: $0.key, strategy: strategy, score: $0.score, rank: $0.rank) }
            let settings = JSONValue.object([
                ("size", .int(options.size)), ("overlap", .int(options.overlap)), ("seed", .int(Int(truncatingIfNeeded: options.seed))),
                ("blend", .object([(strategy, .double(1))])), ("uncertainty", .string("least-confident")),
            ])
            let round = try w.createRound(modelVersion: model?.id, overlap: options.overlap,
                                          settingsJSON: settings.serialized(), picks: picks)
            let summary = StartSummary(round: round, tasks: picks.count, overlap: options.overlap,
                                       byStrategy: [strategy: picks.count], modelVersion: model?.id)
            try w.appendEvent(EventRecord(kind: "round.start", modelVersion: model?.id, detailJSON: summary.json.serialized()))
            return summary
        }
    }

    public struct Status: Sendable, Equatable {
        public var round: RoundRecord
        public var tasks: Int
        public var complete: Int
        public var answers: Int
        public var byStrategy: [String: Int]

        public var json: JSONValue {
            .object([("round", .int(round.id)), ("status", .string(round.status.rawValue)),
                     ("overlap", .int(round.overlap)), ("tasks", .int(tasks)), ("complete_tasks", .int(complete)),
                     ("answers", .int(answers)), ("answers_wanted", .int(tasks * round.overlap)),
                     ("by_strategy", .object(byStrategy.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
                     ("model_version", .text(round.modelVersion))])
        }
    }

    /// Resolves `--round`, defaulting to the open round, then the newest.
    static func resolve(_ r: any StoreReader, _ id: Int?) throws -> RoundRecord {
        if let id {
            guard let round = try r.round(id) else {
                throw QuorumError(.badInput, "there is no round \(id)", hint: "see `quorum status` for the rounds")
            }
            return round
        }
        if let open = try r.openRound() { return open }
        if let last = try r.rounds().last { return last }
        throw QuorumError(.state, "there are no rounds yet", hint: "start one with `quorum round start --size N`")
    }

    public static func status(store: any ProjectStore, round id: Int?) throws -> Status {
        try store.read { r in
            let round = try resolve(r, id)
            let progress = try r.taskProgress(round: round.id)
            var byStrategy: [String: Int] = [:]
            for (_, pick) in try r.picks(round: round.id) { byStrategy[pick.strategy, default: 0] += 1 }
            return Status(round: round, tasks: progress.tasks, complete: progress.complete,
                          answers: progress.answers, byStrategy: byStrategy)
        }
    }
}
