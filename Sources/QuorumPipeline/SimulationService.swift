import Foundation
import QuorumCore
import QuorumImport
import QuorumModels
import QuorumNumerics
import QuorumSampling
import QuorumStore

/// `quorum simulate`: active learning replayed offline on a labelled file,
/// through the very path a lead uses.
///
/// Every run is a temporary project: the file's training split is imported
/// (the `--initial` seeded labels as `seed` items, the rest as `pool`), its
/// test split as `test`; then each round is `round start` → the file's labels
/// answering as annotators (`label --answers`, or N simulated annotators who
/// each flip to a wrong label with probability P) → `round close` (consensus,
/// retrain with model selection, evaluate). The blend and a uniform random
/// baseline run on the same splits and seeds.
public enum SimulationService {
    public struct Options: Sendable {
        public var rounds: Int
        public var batch: Int
        public var initial: Int
        public var seeds: Int
        public var blend: Blend
        /// `--blend auto`: each round starts from the last round's blend, moved by what its picks bought.
        public var adaptive: Bool
        public var uncertainty: UncertaintyMeasure
        public var diversity: Diversity.Method
        /// How each round's model is trained (as `quorum train`).
        public var train: TrainService.Options
        public var annotators: Int
        public var noise: Double
        /// Also run the uniform random baseline (the same splits and seeds).
        public var baseline: Bool
        public init(rounds: Int, batch: Int, initial: Int = 20, seeds: Int = 1, blend: Blend = .standard, adaptive: Bool = false,
                    uncertainty: UncertaintyMeasure = SamplerOptions.defaultUncertainty,
                    diversity: Diversity.Method = SamplerOptions.defaultDiversity,
                    train: TrainService.Options = .init(), annotators: Int = 1, noise: Double = 0, baseline: Bool = true) {
            self.rounds = rounds; self.batch = batch; self.initial = initial; self.seeds = seeds; self.blend = blend
            self.adaptive = adaptive; self.uncertainty = uncertainty; self.diversity = diversity
            self.train = train; self.annotators = annotators; self.noise = noise; self.baseline = baseline
        }
    }

    /// One arm's learning curve, averaged over seeds.
    public struct Arm: Sendable, Equatable {
        public var curve: [(labels: Int, accuracy: Double)]
        public var labelsTo95: Int?
        public var labelsTo99: Int?

        public static func == (a: Arm, b: Arm) -> Bool { a.json == b.json }

        var json: JSONValue {
            .object([("curve", .array(curve.map { .object([("labels", .int($0.labels)), ("accuracy", .double($0.accuracy))]) })),
                     ("labels_to_95", .number(labelsTo95)), ("labels_to_99", .number(labelsTo99))])
        }
    }

    /// One seed's run of one arm: what each round picked, and the accuracy after it.
    public struct Run: Sendable, Equatable {
        public var seed: Int
        public var arm: String
        public var rounds: [(round: Int, picked: [String], accuracy: Double, blend: String)]

        public static func == (a: Run, b: Run) -> Bool { a.json == b.json }

        var json: JSONValue {
            .object([("seed", .int(seed)), ("arm", .string(arm)), ("rounds", .array(rounds.map { r in
                .object([("round", .int(r.round)), ("blend", .string(r.blend)), ("accuracy", .double(r.accuracy)),
                         ("picked", .array(r.picked.map { .string($0) }))])
            }))])
        }
    }

    public struct Result: Sendable, Equatable {
        public var dataset: String
        public var blend: String
        public var labels: [String]
        public var fullAccuracy: Double
        public var blended: Arm
        /// nil when the baseline was not run.
        public var random: Arm?
        public var seeds: Int
        public var rounds: Int
        public var batch: Int
        public var testIDs: [String]
        /// Per seed, the ids of the initial labels.
        public var initialIDs: [[String]]
        public var runs: [Run]
        public var poolItems: Int
        public var seconds: Double
        /// What `accuracy` in the curves is: "accuracy", or "micro_f1" for a multi-label file.
        public var metric = "accuracy"

        /// The contract's JSON shape for `simulate --out`, plus the splits and every run's picks.
        public var json: JSONValue {
            guard case .object(var blendFields) = blended.json else { return .null }
            var randomJSON = JSONValue.null
            if let random, case .object(var randomFields) = random.json {
                randomFields.insert(("full_accuracy", .double(fullAccuracy)), at: 0)
                randomJSON = .object(randomFields)
            }
            blendFields.insert(contentsOf: [("dataset", .string(dataset)), ("blend", .string(blend)),
                                            ("full_accuracy", .double(fullAccuracy)), ("metric", .string(metric))], at: 0)
            blendFields += [("random", randomJSON), ("seeds", .int(seeds)), ("rounds", .int(rounds)),
                            ("batch", .int(batch)), ("labels", .array(labels.map { .string($0) })),
                            ("test_items", .int(testIDs.count)), ("pool_items", .int(poolItems)),
                            ("test_ids", .array(testIDs.map { .string($0) })),
                            ("initial_ids", .object(initialIDs.enumerated().map { ("\($0.offset + 1)", .array($0.element.map { .string($0) })) })),
                            ("runs", .array(runs.map(\.json)))]
            return .object(blendFields)
        }
    }

    /// Runs the simulation in temporary projects under `workDirectory`
    /// (default: the system's temporary directory), removed afterwards.
    /// `progress` gets a line per round, with an ETA.
    ///
    /// - Complexity: seeds × 2 × rounds × (round start + round close on the pool).
    public static func run(path: String, options: Options, workDirectory: String? = nil,
                           progress: (String) -> Void = { _ in }) throws -> Result {
        let started = monotonicSeconds()
        let data = try load(path)
        // Split: the file's "split" field when it has one, else a stable 20% by id hash.
        var train: [Int] = [], test: [Int] = []
        for i in data.ids.indices {
            let isTest = data.split[i].map { $0 == "test" } ?? (fnv1a64(Array(data.ids[i].utf8)) % 5 == 0)
            if isTest { test.append(i) } else { train.append(i) }
        }
        guard train.count > options.initial, !test.isEmpty else {
            throw QuorumError(.badInput, "\(path): \(train.count) training and \(test.count) test items are too few to simulate",
                              hint: "use a file with more labelled items")
        }
        let base = (workDirectory ?? FileManager.default.temporaryDirectory.path) + "/quorum-simulate-\(getpid())-\(UInt64(started * 1e6))"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let testFile = base + "/test.jsonl"
        try write(test, data: data, labelled: true, to: testFile)

        // The full-pool model: every training label, trained as `quorum train` does.
        let full = try withProject(base + "/full", data: data) { store in
            try write(train, data: data, labelled: true, to: base + "/full.jsonl")
            _ = try ImportService.run(store: store, path: base + "/full.jsonl", options: .init(kind: .seed, mapping: data.mapping))
            _ = try ImportService.run(store: store, path: testFile, options: .init(kind: .test, mapping: data.mapping))
            return score(try TrainService.run(store: store, options: options.train))
        }
        progress("\(data.ids.count) items: \(train.count) pool, \(test.count) test; full-pool accuracy \(JSONValue.format((full * 1e4).rounded() / 1e4))")

        let arms = options.baseline ? 2 : 1
        let steps = options.seeds * arms * options.rounds
        var done = 0
        var sums = [[Double]](repeating: [Double](repeating: 0, count: options.rounds + 1), count: 2)
        var runs: [Run] = []
        var initialIDs: [[String]] = []
        for s in 0..<options.seeds {
            let seed = UInt64(s + 1)
            var rng = SeededGenerator(seed: seed)
            let initial = Array(train.shuffled(using: &rng).prefix(options.initial))
            initialIDs.append(initial.map { data.ids[$0] })
            let initialSet = Set(initial)
            let seedFile = base + "/seed-\(seed).jsonl", poolFile = base + "/pool-\(seed).jsonl"
            try write(initial, data: data, labelled: true, to: seedFile)
            try write(train.filter { !initialSet.contains($0) }, data: data, labelled: false, to: poolFile)
            for arm in 0..<arms {
                let name = arm == 0 ? "blend" : "random"
                var run = Run(seed: s + 1, arm: name, rounds: [])
                try withProject(base + "/\(name)-\(seed)", data: data) { store in
                    _ = try ImportService.run(store: store, path: seedFile, options: .init(kind: .seed, mapping: data.mapping))
                    _ = try ImportService.run(store: store, path: poolFile, options: .init(kind: .pool, mapping: data.mapping))
                    _ = try ImportService.run(store: store, path: testFile, options: .init(kind: .test, mapping: data.mapping))
                    for a in 0..<options.annotators {
                        try AnnotatorService.add(store: store, name: "simulated-\(a + 1)", role: .annotator)
                    }
                    var trainOptions = options.train
                    trainOptions.seed = seed
                    let first = try TrainService.run(store: store, options: trainOptions)
                    sums[arm][0] += score(first)
                    for r in 1...options.rounds {
                        var start = RoundService.StartOptions(size: options.batch, overlap: options.annotators,
                                                              seed: seed &* 1000 &+ UInt64(r),
                                                              blend: arm == 0 ? options.blend : Blend.uniform,
                                                              adaptive: arm == 0 && options.adaptive,
                                                              uncertainty: options.uncertainty, diversity: options.diversity)
                        start.auditRate = 0
                        let round: RoundService.StartSummary
                        do { round = try RoundService.start(store: store, options: start) } catch let e as QuorumError where e.kind == .state {
                            break  // the pool is used up
                        }
                        let picks = try store.read { try $0.picks(round: round.round) }.map(\.itemID)
                        let index = Dictionary(uniqueKeysWithValues: picks.map { ($0, data.index[$0]!) })
                        for a in 0..<options.annotators {
                            let answers = base + "/answers.jsonl"
                            let lines = picks.map { id in
                                let row = index[id]!, answerSeed = seed &+ UInt64(row) &+ UInt64(a) &* 0x9E37_79B9
                                if let sets = data.sets {
                                    let given = annotate(set: sets[row], labels: data.labels.count, options: options, seed: answerSeed)
                                    return JSONValue.object([("id", .string(id)), ("labels", .array(given.map { .string(data.labels[$0]) }))]).serialized()
                                }
                                return JSONValue.object([("id", .string(id)), ("label", .string(data.labels[
                                    annotate(data.y[row], classes: data.labels.count, options: options, seed: answerSeed)]))]).serialized()
                            }
                            try (lines.joined(separator: "\n") + "\n").write(toFile: answers, atomically: false, encoding: .utf8)
                            _ = try LabellingService.answerFromFile(store: store, annotator: "simulated-\(a + 1)", round: round.round, path: answers)
                        }
                        let closed = try RoundService.close(store: store, round: round.round, train: trainOptions)
                        let accuracy = score(closed.train)
                        sums[arm][r] += accuracy
                        run.rounds.append((r, picks, accuracy, closed.metrics.blend ?? ""))
                        done += 1
                        let elapsed = monotonicSeconds() - started
                        let eta = elapsed / Double(done) * Double(steps - done)
                        progress("seed \(s + 1)/\(options.seeds) \(name) round \(r)/\(options.rounds): \(options.initial + r * options.batch) labels, accuracy \(JSONValue.format((accuracy * 1e4).rounded() / 1e4)) · \(done)/\(steps) rounds · ETA \(formatDuration(eta))")
                    }
                }
                runs.append(run)
            }
        }
        let labelsAt = (0...options.rounds).map { options.initial + $0 * options.batch }
        func arm(_ i: Int) -> Arm {
            let curve = zip(labelsAt, sums[i]).map { (labels: $0, accuracy: $1 / Double(options.seeds)) }
            return Arm(curve: curve, labelsTo95: curve.first { $0.accuracy >= 0.95 * full }?.labels,
                       labelsTo99: curve.first { $0.accuracy >= 0.99 * full }?.labels)
        }
        var result = Result(dataset: (path as NSString).lastPathComponent, blend: options.adaptive ? "auto" : options.blend.spec,
                            labels: data.labels, fullAccuracy: full, blended: arm(0), random: options.baseline ? arm(1) : nil, seeds: options.seeds,
                            rounds: options.rounds, batch: options.batch, testIDs: test.map { data.ids[$0] }, initialIDs: initialIDs,
                            runs: runs, poolItems: train.count, seconds: monotonicSeconds() - started)
        if data.sets != nil { result.metric = "micro_f1" }
        return result
    }

    /// Creates a project at `directory` with the file's labels, runs `body` on it.
    @discardableResult
    static func withProject<T>(_ directory: String, data: Data, _ body: (any ProjectStore) throws -> T) throws -> T {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try Project.create(directory, name: "simulation", labels: data.task == .preference ? [] : data.labels, task: data.task)
        return try body(try Project.open(directory))
    }

    /// Writes the items at `rows` as JSONL (id, text, vector, and the label when `labelled`).
    static func write(_ rows: [Int], data: Data, labelled: Bool, to path: String) throws {
        var out = ""
        for i in rows {
            var fields: [(String, JSONValue)] = [("id", .string(data.ids[i]))]
            if let pairs = data.pairs {
                fields += [("prompt", .string(data.texts[i] ?? "")), ("a", .string(pairs[i].a)), ("b", .string(pairs[i].b))]
            } else if let text = data.texts[i] { fields.append(("text", .string(text))) }
            if let vector = data.vectors[i] { fields.append(("vector", .raw("[" + vector.map { "\($0)" }.joined(separator: ",") + "]"))) }
            if labelled, let sets = data.sets {
                fields.append(("labels", .array(sets[i].map { .string(data.labels[$0]) })))
            } else if labelled {
                fields.append(("label", .string(data.labels[data.y[i]])))
            }
            out += JSONValue.object(fields).serialized() + "\n"
        }
        try out.write(toFile: path, atomically: false, encoding: .utf8)
    }

    /// What a curve measures: test accuracy, or for a multi-label model micro F1
    /// (its exact-set accuracy is too coarse to tell rounds apart).
    static func score(_ trained: TrainService.Summary) -> Double {
        (trained.perLabel.isEmpty ? trained.testAccuracy : trained.microF1) ?? 0
    }

    /// A multi-label answer: the true set, each label's yes/no decided by the
    /// majority of `annotators` noisy answers (each flipped with probability `noise`; ties at random, seeded).
    static func annotate(set truth: [Int], labels: Int, options: Options, seed: UInt64) -> [Int] {
        guard options.noise > 0 else { return truth }
        var rng = SeededGenerator(seed: seed ^ 0x5E7)
        let n = max(options.annotators, 1)
        let truthSet = Set(truth)
        return (0..<labels).filter { label in
            var yes = 0
            for _ in 0..<n {
                let wrong = Double(rng.next() >> 11) / Double(1 << 53) < options.noise
                if truthSet.contains(label) != wrong { yes += 1 }
            }
            return 2 * yes > n || (2 * yes == n && rng.next() & 1 == 1)
        }
    }

    static func formatDuration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600) h \(s % 3600 / 60) min" : s >= 60 ? "\(s / 60) min \(s % 60) s" : "\(s) s"
    }

    /// The label people give: the truth, or the majority of `annotators`
    /// noisy answers (each wrong with probability `noise`; ties broken at random, seeded).
    static func annotate(_ truth: Int, classes: Int, options: Options, seed: UInt64) -> Int {
        guard options.noise > 0, classes > 1 else { return truth }
        var rng = SeededGenerator(seed: seed ^ 0xA770)
        var votes = [Int](repeating: 0, count: classes)
        for _ in 0..<max(options.annotators, 1) {
            let wrong = Double(rng.next() >> 11) / Double(1 << 53) < options.noise
            votes[wrong ? (truth + 1 + Int(rng.next() % UInt64(classes - 1))) % classes : truth] += 1
        }
        let top = votes.max()!
        let tied = votes.indices.filter { votes[$0] == top }
        return tied[Int(rng.next() % UInt64(tied.count))]
    }

    struct Data {
        var ids: [String] = []
        var texts: [String?] = []
        var vectors: [[Float]?] = []
        var y: [Int] = []
        /// Multi-label files (a `labels` list per item): each item's set, by label index; nil for single-label files.
        var sets: [[Int]]?
        /// Preference files (`prompt`, `a`, `b`, `label` a|b|tie): each item's two responses; nil otherwise.
        var pairs: [(a: String, b: String)]?
        var split: [String?] = []
        var groups: [Int64] = []
        var labels: [String] = []
        /// Row by id.
        var index: [String: Int] = [:]
        /// How the files `write` makes are imported: labels under "labels" for a multi-label file.
        var mapping: FieldMapping {
            pairs != nil ? FieldMapping(textField: "prompt") : FieldMapping(labelField: sets == nil ? "label" : "labels")
        }
        var task: TaskType { pairs != nil ? .preference : sets != nil ? .multiLabel : .single }
    }

    /// Reads a labelled JSONL or CSV file: every record needs a label, or
    /// (a multi-label file, told by its first record) a `labels` list.
    static func load(_ path: String) throws -> Data {
        var reader = try ItemFileReader.open(path, mapping: FieldMapping(metaFields: ["split"]))
        var data = Data()
        var index: [String: Int] = [:]
        var record = ItemRecord()
        var first = true
        while try reader.nextRecord(into: &record) {
            if first, record.text == nil, !record.hasVector {
                // No text or vector: a preference file has a prompt and two responses instead.
                let pairs = try ItemFileReader.open(path, mapping: FieldMapping(textField: "prompt", metaFields: ["split", "a", "b"]))
                var probe = ItemRecord()
                if try pairs.nextRecord(into: &probe), probe.meta.contains(where: { $0.key == "a" }) {
                    reader = pairs
                    record = probe
                    data.pairs = []
                    data.labels = TaskType.preferenceLabels
                    for (i, name) in data.labels.enumerated() { index[name] = i }
                }
            }
            if data.pairs != nil {
                let pair = try PreferencePair(record) { line, field, problem, hint in
                    ItemFileError(file: path, line: line, field: field, problem: problem, hint: hint).asQuorumError
                }
                data.pairs!.append((pair.a, pair.b))
                if let label = record.label, index[label] == nil {
                    throw ItemFileError(file: path, line: record.line, field: "label", problem: "\"\(TerminalText.visible(label))\" is not a, b or tie",
                                        hint: "label every pair a, b or tie").asQuorumError
                }
                if record.text == nil { record.text = "" }
            }
            if first, record.label == nil {
                // No "label": a multi-label file has a "labels" list instead.
                let lists = try ItemFileReader.open(path, mapping: FieldMapping(labelField: "labels", metaFields: ["split"]))
                var probe = ItemRecord()
                if try lists.nextRecord(into: &probe), probe.labelList != nil {
                    reader = lists
                    record = probe
                    data.sets = []
                }
            }
            first = false
            if data.sets != nil {
                guard let names = record.labelList else {
                    throw ItemFileError(file: path, line: record.line, field: "labels", problem: "missing labels; simulate needs every item's true set of labels",
                                        hint: "give every item a \"labels\" list ([] for none)").asQuorumError
                }
                for name in names where index[name] == nil { index[name] = data.labels.count; data.labels.append(name) }
                data.sets!.append(Array(Set(names.map { index[$0]! })).sorted())
                record.label = ""
            }
            guard let label = record.label else {
                throw ItemFileError(file: path, line: record.line, field: "label", problem: "missing label; simulate needs every item's true label",
                                    hint: "give every item a label").asQuorumError
            }
            guard record.text != nil || record.hasVector else {
                throw ItemFileError(file: path, line: record.line, field: "text", problem: "the item has neither text nor a vector",
                                    hint: "give every item text or a vector").asQuorumError
            }
            if data.sets == nil, index[label] == nil { index[label] = data.labels.count; data.labels.append(label) }
            let id = record.id ?? "line-\(record.line)"
            guard data.index.updateValue(data.ids.count, forKey: id) == nil else {
                throw ItemFileError(file: path, line: record.line, field: "id", problem: "id \"\(id)\" appears twice",
                                    hint: "give every item its own id").asQuorumError
            }
            data.ids.append(id)
            data.texts.append(record.text)
            data.vectors.append(record.hasVector ? record.vector : nil)
            data.y.append(data.sets == nil ? index[label]! : 0)
            data.split.append(record.meta.first { $0.key == "split" }.map { $0.json.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) })
            data.groups.append(ImportService.contentHash(text: record.text, vector: record.hasVector ? record.vector : nil))
        }
        guard data.labels.count >= 2 else {
            throw QuorumError(.badInput, "\(path): simulate needs at least two labels, found \(data.labels.count)")
        }
        return data
    }
}
