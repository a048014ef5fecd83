import QuorumNumerics

/// What the sampler knows about the pool items it may pick. Arrays are
/// parallel, one entry per candidate; the measures are absent before the first model.
public struct PoolCandidates: Sendable {
    public var keys: [Int64]
    public var contentGroups: [Int64]
    /// The stratum of each candidate (a metadata value, or the predicted class).
    public var strata: [String]
    /// Per-candidate uncertainty measures, when there is a model.
    public var measures: EnsembleMeasures?
    /// Embeddings for diversity (n × d), when there are any.
    public var embeddings: Matrix?
    /// Per candidate: the distance to the model's decision boundary (small = fragile).
    public var boundaryDistance: [Float]?
    /// Per candidate: the largest similarity to an item where people overrode a confident model.
    public var overrideSimilarity: [Float]?

    public init(keys: [Int64], contentGroups: [Int64], strata: [String], measures: EnsembleMeasures?, embeddings: Matrix?) {
        precondition(keys.count == contentGroups.count && keys.count == strata.count, "one entry per candidate")
        self.keys = keys
        self.contentGroups = contentGroups
        self.strata = strata
        self.measures = measures
        self.embeddings = embeddings
    }

    public var count: Int { keys.count }

    /// Uncertainty scores, higher = more worth a label.
    public func uncertainty(_ measure: UncertaintyMeasure) -> [Double]? {
        guard let m = measures else { return nil }
        switch measure {
        case .leastConfident: return m.confidence.map { 1 - Double($0) }
        case .margin: return m.margin.map { 1 - Double($0) }
        case .entropy: return m.entropy.map(Double.init)
        case .voteEntropy: return m.voteEntropy.map(Double.init)
        case .kl: return m.meanKL.map(Double.init)
        case .bald: return m.mutualInformation.map(Double.init)
        }
    }
}

/// One pick: which candidate, which strategy picked it, and why.
public struct Pick: Sendable, Equatable {
    /// Index into the `PoolCandidates` arrays.
    public var index: Int
    public var strategy: Strategy
    /// The strategy's score for the item (uncertainty: the measure; stratified:
    /// the stratum's share of the pool; random: the uniform draw).
    public var score: Double
    /// 1-based rank among the strategy's picks.
    public var rank: Int
}

/// Settings for one round's sampling.
public struct SamplerOptions: Sendable {
    public var blend: Blend
    public var uncertainty: UncertaintyMeasure
    public var diversity: Diversity.Method
    /// Uncertainty picks come from the top `candidateFactor × B` items, thinned by diversity.
    public var candidateFactor: Int
    /// With a floor, every stratum gets at least this many picks (when it has them).
    public var stratumFloor: Int
    public var seed: UInt64

    /// The defaults, chosen by the benchmark in experiments/learning/README.md.
    public static let defaultUncertainty = UncertaintyMeasure.margin
    public static let defaultDiversity = Diversity.Method.kCenter

    public init(blend: Blend = .standard, uncertainty: UncertaintyMeasure = SamplerOptions.defaultUncertainty,
                diversity: Diversity.Method = SamplerOptions.defaultDiversity, candidateFactor: Int = 3, stratumFloor: Int = 0, seed: UInt64 = 1) {
        self.blend = blend
        self.uncertainty = uncertainty
        self.diversity = diversity
        self.candidateFactor = candidateFactor
        self.stratumFloor = stratumFloor
        self.seed = seed
    }
}

/// Fills a round by blending strategies. No item is picked twice, and at
/// most one item of each content group is picked.
public enum Sampler {
    /// - Parameters:
    ///   - excludedGroups: content groups already labelled or asked about.
    ///   - centers: embeddings of labelled items, which diversity keeps away from.
    /// - Complexity: O(n log n + c·B·(B + labelled)·d) for n candidates, batch B.
    public static func pick(_ pool: PoolCandidates, count: Int, options: SamplerOptions,
                            excludedGroups: Set<Int64> = [], centers: Matrix? = nil) -> [Pick] {
        var taken = Set<Int>()
        var groups = excludedGroups
        var picks: [Pick] = []
        var blend = options.blend
        // Before the first model, uncertainty has nothing to score: its share goes to diversity over stratified picks.
        if pool.measures == nil {
            blend = Blend(unchecked: blend.weights.map { ($0.strategy == .uncertainty ? .stratified : $0.strategy, $0.weight) }
                .reduce(into: [(Strategy, Double)]()) { acc, w in
                    if let i = acc.firstIndex(where: { $0.0 == w.0 }) { acc[i].1 += w.1 } else { acc.append(w) }
                })
        }
        var leftover = 0
        for (strategy, quota) in blend.allocate(count) {
            let want = quota + leftover
            let before = picks.count
            switch strategy {
            case .uncertainty: picks += uncertainty(pool, want, options, &taken, &groups, centers)
            case .stratified: picks += stratified(pool, want, options, &taken, &groups, centers)
            case .random: picks += random(pool, want, options.seed, &taken, &groups)
            case .adversarial: picks += adversarial(pool, want, options.seed, &taken, &groups)
            }
            leftover = want - (picks.count - before)
        }
        if leftover > 0 { picks += random(pool, leftover, options.seed ^ 0xF111, &taken, &groups) }
        return picks
    }

    /// Takes candidates in `order`, skipping taken items and seen content groups.
    static func take(_ order: [Int], _ count: Int, _ pool: PoolCandidates, _ taken: inout Set<Int>, _ groups: inout Set<Int64>) -> [Int] {
        var out: [Int] = []
        for i in order where out.count < count {
            guard !taken.contains(i), !groups.contains(pool.contentGroups[i]) else { continue }
            taken.insert(i)
            groups.insert(pool.contentGroups[i])
            out.append(i)
        }
        return out
    }

    static func uncertainty(_ pool: PoolCandidates, _ count: Int, _ options: SamplerOptions,
                            _ taken: inout Set<Int>, _ groups: inout Set<Int64>, _ centers: Matrix?) -> [Pick] {
        guard count > 0, let scores = pool.uncertainty(options.uncertainty) else { return [] }
        let candidates = (0..<pool.count).filter { !taken.contains($0) }.map {
            Candidate(key: Int64($0), contentGroup: pool.contentGroups[$0], score: scores[$0])
        }
        let width = options.diversity == .none || pool.embeddings == nil ? count : count * max(options.candidateFactor, 1)
        let top = Selection.top(candidates, count: width, seed: options.seed, excludedGroups: groups).map { Int($0.key) }
        var chosen = top
        if options.diversity != .none, let embeddings = pool.embeddings, top.count > count {
            let picked = Diversity.select(options.diversity, candidates: embeddings.rows(at: top), count: count,
                                          centers: centers, priority: top.map { scores[$0] }, seed: options.seed)
            chosen = picked.map { top[$0] }
        }
        return take(chosen, count, pool, &taken, &groups).enumerated().map {
            Pick(index: $1, strategy: .uncertainty, score: scores[$1], rank: $0 + 1)
        }
    }

    static func stratified(_ pool: PoolCandidates, _ count: Int, _ options: SamplerOptions,
                           _ taken: inout Set<Int>, _ groups: inout Set<Int64>, _ centers: Matrix?) -> [Pick] {
        guard count > 0 else { return [] }
        var members: [String: [Int]] = [:]
        for i in 0..<pool.count where !taken.contains(i) { members[pool.strata[i], default: []].append(i) }
        let strata = members.keys.sorted()
        let total = Double(members.values.map(\.count).reduce(0, +))
        guard total > 0 else { return [] }
        // Quotas: a floor per stratum first (when asked), the rest proportional by largest remainder.
        var quota = [Int](repeating: 0, count: strata.count)
        var left = count
        if options.stratumFloor > 0 {
            for (s, name) in strata.enumerated() where left > 0 {
                let q = min(options.stratumFloor, members[name]!.count, left)
                quota[s] = q
                left -= q
            }
        }
        let exact = strata.map { Double(members[$0]!.count) / total * Double(left) }
        for s in strata.indices { quota[s] += Int(exact[s]) }
        var rest = count - quota.reduce(0, +)
        for s in strata.indices.sorted(by: { exact[$0] - Double(Int(exact[$0])) > exact[$1] - Double(Int(exact[$1])) }) where rest > 0 {
            quota[s] += 1
            rest -= 1
        }
        var picks: [Pick] = []
        var rng = SeededGenerator(seed: options.seed ^ 0x57A7)
        for (s, name) in strata.enumerated() where quota[s] > 0 {
            var order = members[name]!
            order.shuffle(using: &rng)
            if options.diversity != .none, let embeddings = pool.embeddings, order.count > quota[s] {
                // Within a stratum, spread the picks out.
                let window = Array(order.prefix(quota[s] * max(options.candidateFactor, 1)))
                order = Diversity.select(options.diversity, candidates: embeddings.rows(at: window), count: quota[s],
                                         centers: centers, seed: options.seed).map { window[$0] } + order
            }
            let share = Double(members[name]!.count) / total
            for i in take(order, quota[s], pool, &taken, &groups) {
                picks.append(Pick(index: i, strategy: .stratified, score: share, rank: picks.count + 1))
            }
        }
        return picks
    }

    /// Half the quota from items most similar to overridden ones (when there
    /// are overrides), the rest from items nearest the decision boundary.
    static func adversarial(_ pool: PoolCandidates, _ count: Int, _ seed: UInt64,
                            _ taken: inout Set<Int>, _ groups: inout Set<Int64>) -> [Pick] {
        guard count > 0 else { return [] }
        var chosen: [(Int, Double)] = []
        func top(_ scores: [Double], _ n: Int) {
            let candidates = (0..<pool.count).filter { !taken.contains($0) }.map {
                Candidate(key: Int64($0), contentGroup: pool.contentGroups[$0], score: scores[$0])
            }
            for s in Selection.top(candidates, count: n, seed: seed, excludedGroups: groups) {
                let i = Int(s.key)
                taken.insert(i); groups.insert(pool.contentGroups[i])
                chosen.append((i, s.score))
            }
        }
        if let similarity = pool.overrideSimilarity {
            top(similarity.map(Double.init), (count + 1) / 2)
        }
        if let distance = pool.boundaryDistance {
            top(distance.map { -Double($0) }, count - chosen.count)
        }
        return chosen.enumerated().map { Pick(index: $1.0, strategy: .adversarial, score: $1.1, rank: $0 + 1) }
    }

    static func random(_ pool: PoolCandidates, _ count: Int, _ seed: UInt64,
                       _ taken: inout Set<Int>, _ groups: inout Set<Int64>) -> [Pick] {
        guard count > 0 else { return [] }
        var rng = SeededGenerator(seed: seed ^ 0x5EED)
        let draws = (0..<pool.count).map { _ in Double(rng.next() >> 11) / Double(1 << 53) }
        let order = (0..<pool.count).sorted { draws[$0] < draws[$1] }
        return take(order, count, pool, &taken, &groups).enumerated().map {
            Pick(index: $1, strategy: .random, score: draws[$1], rank: $0 + 1)
        }
    }
}
