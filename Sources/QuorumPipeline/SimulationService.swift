import Foundation
import QuorumCore
import QuorumImport
import QuorumModels
import QuorumNumerics
import QuorumSampling

/// `quorum simulate`: active learning replayed offline on a labelled file.
///
/// The file's labels act as the oracle (or as N simulated annotators who
/// each flip to a wrong label with probability P). The blend and a uniform
/// random baseline start from the same initial labels and are scored on the
/// same held-out test split, for every seed.
public enum SimulationService {
    public struct Options: Sendable {
        public var rounds: Int
        public var batch: Int
        public var initial: Int
        public var seeds: Int
        public var sampler: SamplerOptions
        public var members: Int
        public var c: Double
        public var annotators: Int
        public var noise: Double
        public init(rounds: Int, batch: Int, initial: Int = 20, seeds: Int = 1, sampler: SamplerOptions = .init(),
                    members: Int = 1, c: Double = 1, annotators: Int = 1, noise: Double = 0) {
            self.rounds = rounds; self.batch = batch; self.initial = initial; self.seeds = seeds; self.sampler = sampler
            self.members = members; self.c = c; self.annotators = annotators; self.noise = noise
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

    public struct Result: Sendable, Equatable {
        public var dataset: String
        public var blend: String
        public var fullAccuracy: Double
        public var blended: Arm
        public var random: Arm
        public var seeds: Int
        public var testItems: Int
        public var poolItems: Int

        /// The contract's JSON shape for `simulate --out`.
        public var json: JSONValue {
            guard case .object(var blendFields) = blended.json, case .object(var randomFields) = random.json else { return .null }
            randomFields.insert(("full_accuracy", .double(fullAccuracy)), at: 0)
            blendFields.insert(contentsOf: [("dataset", .string(dataset)), ("blend", .string(blend)),
                                            ("full_accuracy", .double(fullAccuracy))], at: 0)
            blendFields += [("random", .object(randomFields)), ("seeds", .int(seeds)),
                            ("test_items", .int(testItems)), ("pool_items", .int(poolItems))]
            return .object(blendFields)
        }
    }

    /// Runs the simulation. `progress` gets a line per round.
    ///
    /// - Complexity: seeds × 2 × rounds × (training on ≤ initial + rounds·batch labels + scoring the pool).
    public static func run(path: String, options: Options, progress: (String) -> Void = { _ in }) throws -> Result {
        let data = try load(path)
        let classes = data.labels.count
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
        // Features are learned from the whole (unlabelled) pool once: vocabulary, IDF and scaling need no labels.
        let featurizer = Featurizer.fit(texts: train.map { data.texts[$0] }, vectors: train.map { data.vectors[$0] }, settings: .init())
        let x = featurizer.transform(texts: train.map { data.texts[$0] }, vectors: train.map { data.vectors[$0] })
        let xTest = featurizer.transform(texts: test.map { data.texts[$0] }, vectors: test.map { data.vectors[$0] })
        let truth = train.map { data.y[$0] }, truthTest = test.map { data.y[$0] }
        let settings = LogisticRegressionSettings(c: options.c)
        func accuracy(_ rows: [Int], _ labels: [Int], seed: UInt64) -> Double {
            let model = LogisticEnsemble.fit(features: x.rows(at: rows), labels: labels, classes: classes,
                                             count: options.members, seed: seed, settings: settings)
            return Metrics.accuracy(model.probabilities(xTest), labels: truthTest)
        }
        let full = accuracy(Array(train.indices), truth, seed: 1)
        progress("\(data.ids.count) items: \(train.count) pool, \(test.count) test; full-pool accuracy \(JSONValue.format((full * 1e4).rounded() / 1e4))")
        var sums = [[Double]](repeating: [Double](repeating: 0, count: options.rounds + 1), count: 2)
        let groups = train.map { data.groups[$0] }
        for s in 0..<options.seeds {
            let seed = UInt64(s + 1)
            var rng = SeededGenerator(seed: seed)
            let initial = Array(Array(train.indices).shuffled(using: &rng).prefix(options.initial))
            for arm in 0..<2 {
                var labelled = initial
                var given = initial.map { annotate(truth[$0], classes: classes, options: options, seed: seed &+ UInt64($0)) }
                for r in 0...options.rounds {
                    let model = LogisticEnsemble.fit(features: x.rows(at: labelled), labels: given, classes: classes,
                                                     count: options.members, seed: seed, settings: settings)
                    let acc = Metrics.accuracy(model.probabilities(xTest), labels: truthTest)
                    sums[arm][r] += acc
                    progress("seed \(s + 1)/\(options.seeds) \(arm == 0 ? "blend " : "random") round \(r)/\(options.rounds): \(labelled.count) labels, accuracy \(JSONValue.format((acc * 1e4).rounded() / 1e4))")
                    guard r < options.rounds else { break }
                    let taken = Set(labelled)
                    let pool = Array(train.indices).filter { !taken.contains($0) }
                    guard !pool.isEmpty else { break }
                    let picks: [Int]
                    var samplerOptions = options.sampler
                    samplerOptions.seed = seed &* 1000 &+ UInt64(r)
                    if arm == 1 { samplerOptions.blend = try! Blend(parsing: "random=1") }
                    let candidates = poolCandidates(pool, model: model, x: x, groups: groups, classes: classes)
                    picks = Sampler.pick(candidates, count: options.batch, options: samplerOptions).map { pool[$0.index] }
                    labelled += picks
                    given += picks.map { annotate(truth[$0], classes: classes, options: options, seed: seed &+ UInt64($0)) }
                }
            }
        }
        let labelsAt = (0...options.rounds).map { options.initial + $0 * options.batch }
        func arm(_ i: Int) -> Arm {
            let curve = zip(labelsAt, sums[i]).map { (labels: $0, accuracy: $1 / Double(options.seeds)) }
            return Arm(curve: curve, labelsTo95: curve.first { $0.accuracy >= 0.95 * full }?.labels,
                       labelsTo99: curve.first { $0.accuracy >= 0.99 * full }?.labels)
        }
        return Result(dataset: (path as NSString).lastPathComponent, blend: options.sampler.blend.spec, fullAccuracy: full,
                      blended: arm(0), random: arm(1), seeds: options.seeds, testItems: test.count, poolItems: train.count)
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

    static func poolCandidates(_ pool: [Int], model: LogisticEnsemble, x: FeatureMatrix, groups: [Int64], classes: Int) -> PoolCandidates {
        let xp = x.rows(at: pool)
        let members = model.memberProbabilities(xp)
        var mean = Matrix(rows: pool.count, cols: classes)
        var measures = EnsembleMeasures(count: pool.count)
        members.withUnsafeBufferPointer {
            Ensemble.measures(members: $0, memberCount: model.members.count, items: pool.count, classes: classes,
                              mean: &mean, into: &measures)
        }
        let strata = measures.predicted.map { String($0) }
        return PoolCandidates(keys: pool.map(Int64.init), contentGroups: pool.map { groups[$0] }, strata: strata,
                              measures: measures, embeddings: xp.dense ?? mean)
    }

    struct Data {
        var ids: [String] = []
        var texts: [String?] = []
        var vectors: [[Float]?] = []
        var y: [Int] = []
        var split: [String?] = []
        var groups: [Int64] = []
        var labels: [String] = []
    }

    /// Reads a labelled JSONL or CSV file: every record needs a label.
    static func load(_ path: String) throws -> Data {
        let reader = try ItemFileReader.open(path, mapping: FieldMapping(metaFields: ["split"]))
        var data = Data()
        var index: [String: Int] = [:]
        var record = ItemRecord()
        while try reader.nextRecord(into: &record) {
            guard let label = record.label else {
                throw ItemFileError(file: path, line: record.line, field: "label", problem: "missing label; simulate needs every item's true label",
                                    hint: "give every item a label").asQuorumError
            }
            guard record.text != nil || record.hasVector else {
                throw ItemFileError(file: path, line: record.line, field: "text", problem: "the item has neither text nor a vector",
                                    hint: "give every item text or a vector").asQuorumError
            }
            if index[label] == nil { index[label] = data.labels.count; data.labels.append(label) }
            data.ids.append(record.id ?? "line-\(record.line)")
            data.texts.append(record.text)
            data.vectors.append(record.hasVector ? record.vector : nil)
            data.y.append(index[label]!)
            data.split.append(record.meta.first { $0.key == "split" }.map { $0.json.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) })
            data.groups.append(ImportService.contentHash(text: record.text, vector: record.hasVector ? record.vector : nil))
        }
        guard data.labels.count >= 2 else {
            throw QuorumError(.badInput, "\(path): simulate needs at least two labels, found \(data.labels.count)")
        }
        return data
    }
}
