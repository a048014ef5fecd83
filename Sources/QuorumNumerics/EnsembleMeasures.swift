import Dispatch
import Glibc

/// Per-item uncertainty measures of an ensemble's predictions, as a
/// struct of arrays: element `i` of every array belongs to item `i`.
///
/// All logarithms are natural. Filled by `Ensemble.measures`.
public struct EnsembleMeasures: Sendable, Equatable {
    /// argmax of the mean probabilities (the lowest class index on ties).
    public var predicted: [Int32]
    /// max of the mean probabilities. Least confidence is `1 − confidence`.
    public var confidence: [Float]
    /// Largest minus second-largest mean probability (for one class, the
    /// largest itself). Margin uncertainty is `1 − margin`.
    public var margin: [Float]
    /// Entropy of the mean probabilities, H(p̄) = −Σ_c p̄_c log p̄_c, 0·log 0 = 0.
    public var entropy: [Float]
    /// Entropy of the members' votes: with n_c members whose argmax is c,
    /// −Σ_c (n_c/M) log(n_c/M). 0 when all members agree; at most log min(M, k).
    public var voteEntropy: [Float]
    /// Mean KL divergence of each member to the mean, (1/M) Σ_m KL(p_m ‖ p̄).
    public var meanKL: [Float]
    /// BALD mutual information, H(p̄) − (1/M) Σ_m H(p_m). Equal to `meanKL`
    /// mathematically; the two are computed from different partial sums and
    /// agree to float rounding (about 1e-6).
    public var mutualInformation: [Float]

    /// Zero-filled measures for `count` items.
    ///
    /// - Complexity: O(count).
    public init(count: Int) {
        precondition(count >= 0, "EnsembleMeasures: count must be non-negative")
        // Separate buffers (not copies of one), so the first write allocates nothing.
        predicted = [Int32](repeating: 0, count: count)
        confidence = [Float](repeating: 0, count: count)
        margin = [Float](repeating: 0, count: count)
        entropy = [Float](repeating: 0, count: count)
        voteEntropy = [Float](repeating: 0, count: count)
        meanKL = [Float](repeating: 0, count: count)
        mutualInformation = [Float](repeating: 0, count: count)
    }

    /// The number of items: the length of the shortest array (they are all
    /// the same length unless a caller replaced one).
    public var count: Int {
        Swift.min(predicted.count, confidence.count, margin.count, entropy.count,
                  voteEntropy.count, meanKL.count, mutualInformation.count)
    }

    /// `1 − confidence`, a new array.
    ///
    /// - Complexity: O(count).
    public var leastConfidence: [Float] { confidence.map { 1 - $0 } }

    /// `1 − margin`, a new array (higher means more uncertain).
    ///
    /// - Complexity: O(count).
    public var marginUncertainty: [Float] { margin.map { 1 - $0 } }
}

/// Scoring an ensemble: M members' class probabilities for n items.
///
/// The input is one contiguous `[Float]` buffer of shape M × n × k,
/// member-major: member m's n × k row-major block starts at offset m·n·k.
public enum Ensemble {
    /// Which measures to compute beyond the mean-based ones (mean
    /// probabilities, `predicted`, `confidence`, `margin`, `entropy`, which
    /// are always computed: they cost k logarithms per item).
    public struct Parts: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// `voteEntropy`: each member's argmax (O(M·k) comparisons per item).
        public static let votes = Parts(rawValue: 1)
        /// `meanKL` and `mutualInformation`: a logarithm per member
        /// probability (M·k per item), the dominant cost.
        public static let disagreement = Parts(rawValue: 2)
        /// Every measure.
        public static let all: Parts = [.votes, .disagreement]
        /// Only the mean-based measures.
        public static let meanOnly: Parts = []
    }

    /// Computes the measures for the items in `range` of the buffer, in one
    /// pass over the data, with no per-item allocation.
    ///
    /// Results for item `range.lowerBound + r` go to index `r` of `out` and to
    /// row `r` of `mean` (so a caller can stream a large pool through a
    /// fixed-size `mean` and `out`, for example 16,384 items at a time; rows
    /// and entries past `range.count` are left untouched).
    ///
    /// Logarithms are `FastMath.log` (relative error below 1e-6). Zero
    /// probabilities contribute exactly 0 to every `p log p` term (log 0 is
    /// finite there, about −88), and subnormal ones less than 1e-36, so no
    /// measure is ever NaN for valid (finite, non-negative) input; p̄ needs no
    /// clamp in the KL term because p̄_c ≥ p_mc / M > 0 wherever p_mc > 0. `meanKL`
    /// and `mutualInformation` are clamped below at 0 (they are ≥ 0
    /// mathematically; rounding could make them −1e-7).
    ///
    /// Measures not asked for in `parts` are left unchanged in `out`.
    ///
    /// - Parameters:
    ///   - members: M × items × classes probabilities, member-major.
    ///   - memberCount: M ≥ 1.
    ///   - items: n, the number of items in the whole buffer (the stride
    ///     between members is items × classes).
    ///   - classes: k ≥ 1.
    ///   - range: the items to score, a sub-range of 0..<items.
    ///   - mean: receives the mean probabilities; at least `range.count` rows
    ///     and exactly `classes` columns.
    ///   - out: receives the measures; `out.count ≥ range.count`.
    ///   - parts: the measures beyond the mean-based ones; `.all` by default.
    ///   - threads: worker threads (split over contiguous item blocks with
    ///     `DispatchQueue.concurrentPerform`); ranges under 8,192 items
    ///     always run on the calling thread.
    /// - Complexity: O(M × range.count × k) time: with `.disagreement`,
    ///   M·k + k vectorised logarithms per item, else k; with `.votes`,
    ///   O(M·k) comparisons per item. O(M + k) scratch per thread,
    ///   allocated once per call.
    public static func measures(members: UnsafeBufferPointer<Float>, memberCount: Int, items: Int, classes: Int,
                                range: Range<Int>, mean: inout Matrix, into out: inout EnsembleMeasures,
                                parts: Parts = .all, threads: Int = 1) {
        precondition(memberCount >= 1, "Ensemble.measures: memberCount must be at least 1")
        precondition(classes >= 1, "Ensemble.measures: classes must be at least 1")
        precondition(items >= 0 && members.count == memberCount * items * classes,
                     "Ensemble.measures: buffer holds \(members.count) values, expected \(memberCount)×\(items)×\(classes)")
        precondition(range.lowerBound >= 0 && range.upperBound <= items, "Ensemble.measures: range \(range) outside 0..<\(items)")
        precondition(mean.cols == classes && mean.rows >= range.count,
                     "Ensemble.measures: mean is \(mean.rows)×\(mean.cols), needs at least \(range.count)×\(classes)")
        precondition(out.count >= range.count, "Ensemble.measures: out holds \(out.count) items, needs \(range.count)")
        if range.isEmpty { return }
        let base = members.baseAddress!
        let k = classes
        mean.storage.withUnsafeMutableBufferPointer { meanBuffer in
            out.withPointers { outPointers in
                let job = Job(base: base, memberCount: memberCount, items: items, classes: k,
                              mean: meanBuffer.baseAddress!, out: outPointers, start: range.lowerBound,
                              parts: parts)
                let minimumPerThread = 8_192
                let workers = max(1, min(threads, range.count / minimumPerThread))
                if workers == 1 {
                    job.run(range)
                } else {
                    let per = (range.count + workers - 1) / workers
                    DispatchQueue.concurrentPerform(iterations: workers) { part in
                        let lo = range.lowerBound + part * per
                        let hi = min(range.upperBound, lo + per)
                        if lo < hi { job.run(lo..<hi) }
                    }
                }
            }
        }
    }

    /// Computes the measures for all items of the buffer: the same as
    /// `measures(…, range: 0..<items, …)`; `mean` must be items × classes
    /// and `out.count` at least `items`.
    ///
    /// - Complexity: O(M × items × classes).
    public static func measures(members: UnsafeBufferPointer<Float>, memberCount: Int, items: Int, classes: Int,
                                mean: inout Matrix, into out: inout EnsembleMeasures,
                                parts: Parts = .all, threads: Int = 1) {
        measures(members: members, memberCount: memberCount, items: items, classes: classes,
                 range: 0..<items, mean: &mean, into: &out, parts: parts, threads: threads)
    }

    /// Convenience: one probability matrix per member (all n × k). Copies the
    /// members into one member-major buffer, then scores every item.
    ///
    /// - Complexity: O(M × n × k) time and extra memory.
    public static func measures(members: [Matrix], threads: Int = 1) -> (mean: Matrix, measures: EnsembleMeasures) {
        precondition(!members.isEmpty, "Ensemble.measures: needs at least one member")
        let n = members[0].rows, k = members[0].cols
        precondition(members.allSatisfy { $0.rows == n && $0.cols == k }, "Ensemble.measures: members differ in shape")
        var buffer = [Float]()
        buffer.reserveCapacity(members.count * n * k)
        for m in members { buffer.append(contentsOf: m.storage) }
        var mean = Matrix(rows: n, cols: k)
        var out = EnsembleMeasures(count: n)
        buffer.withUnsafeBufferPointer { p in
            measures(members: p, memberCount: members.count, items: n, classes: k,
                     mean: &mean, into: &out, threads: threads)
        }
        return (mean, out)
    }
}

extension EnsembleMeasures {
    /// Base addresses of the seven arrays, to be written by disjoint item
    /// blocks from several threads.
    @usableFromInline
    struct Pointers: @unchecked Sendable {
        let predicted: UnsafeMutablePointer<Int32>
        let confidence, margin, entropy, voteEntropy, meanKL, mutualInformation: UnsafeMutablePointer<Float>
    }

    mutating func withPointers<R>(_ body: (Pointers) -> R) -> R {
        predicted.withUnsafeMutableBufferPointer { p in
            confidence.withUnsafeMutableBufferPointer { c in
                margin.withUnsafeMutableBufferPointer { g in
                    entropy.withUnsafeMutableBufferPointer { h in
                        voteEntropy.withUnsafeMutableBufferPointer { v in
                            meanKL.withUnsafeMutableBufferPointer { kl in
                                mutualInformation.withUnsafeMutableBufferPointer { mi in
                                    body(Pointers(predicted: p.baseAddress!, confidence: c.baseAddress!,
                                                  margin: g.baseAddress!, entropy: h.baseAddress!,
                                                  voteEntropy: v.baseAddress!, meanKL: kl.baseAddress!,
                                                  mutualInformation: mi.baseAddress!))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

extension Ensemble {
    /// One scoring call's inputs and outputs; `run` scores a sub-range with
    /// its own small scratch, so disjoint sub-ranges can run on different
    /// threads.
    ///
    /// Per item, each member row is read once, in 4-lane chunks (the SSE
    /// width; a scalar tail handles k mod 4 classes): the chunk is added into
    /// the mean row, contributes p·log p, and updates the member's running
    /// argmax (per lane, merged across lanes at the end, lowest index on
    /// ties). A second sweep over the mean row, still in L1, scales it by
    /// 1/M and accumulates p̄·log p̄, (Σ_m p_m)·log p̄ and the top two.
    struct Job: @unchecked Sendable {
        let base: UnsafePointer<Float>
        let memberCount: Int
        let items: Int
        let classes: Int
        /// Row 0 of `mean` and index 0 of `out` belong to item `start`.
        let mean: UnsafeMutablePointer<Float>
        let out: EnsembleMeasures.Pointers
        let start: Int
        let parts: Parts

        func run(_ range: Range<Int>) {
            let k = classes, M = memberCount
            // Scratch, once per call: the members' votes, vote counts per
            // class, and log(c/M) for c in 0...M.
            let votes = UnsafeMutablePointer<Int32>.allocate(capacity: M + k)
            let voteLog = UnsafeMutablePointer<Float>.allocate(capacity: M + 1)
            defer {
                votes.deallocate()
                voteLog.deallocate()
            }
            let counts = votes + M
            counts.initialize(repeating: 0, count: k)
            voteLog[0] = 0
            for c in 1...M { voteLog[c] = Float(Glibc.log(Double(c) / Double(M))) }
            // One loop per combination, so each is compiled with its flags constant.
            switch (parts.contains(.votes), parts.contains(.disagreement)) {
            case (true, true):
                for i in range { scoreItem(i, withVotes: true, withLogs: true, votes: votes, counts: counts, voteLog: voteLog) }
            case (true, false):
                for i in range { scoreItem(i, withVotes: true, withLogs: false, votes: votes, counts: counts, voteLog: voteLog) }
            case (false, true):
                for i in range { scoreItem(i, withVotes: false, withLogs: true, votes: votes, counts: counts, voteLog: voteLog) }
            case (false, false):
                for i in range { scoreItem(i, withVotes: false, withLogs: false, votes: votes, counts: counts, voteLog: voteLog) }
            }
        }

        @inline(__always)
        func scoreItem(_ i: Int, withVotes: Bool, withLogs: Bool, votes: UnsafeMutablePointer<Int32>, counts: UnsafeMutablePointer<Int32>,
                       voteLog: UnsafePointer<Float>) {
            let k = classes, M = memberCount
            let k4 = k & ~3
            let memberStride = items * k
            let invM = 1 / Float(M)
            let o = i - start
            let meanRow = mean + o * k
            let lanes = SIMD4<Int32>(0, 1, 2, 3)
            let minusInfinity = SIMD4<Float>(repeating: -.infinity)

            // Sweep 1: member rows.
            var plogp = SIMD4<Float>()
            var plogpTail: Float = 0
            var row = base + i * k
            for m in 0..<M {
                var bestValue = minusInfinity
                var bestIndex = SIMD4<Int32>()
                var index = lanes
                var c = 0
                while c < k4 {
                    let v = UnsafeRawPointer(row + c).loadUnaligned(as: SIMD4<Float>.self)
                    let sum = m == 0 ? v : UnsafeRawPointer(meanRow + c).loadUnaligned(as: SIMD4<Float>.self) + v
                    UnsafeMutableRawPointer(meanRow + c).storeBytes(of: sum, as: SIMD4<Float>.self)
                    if withLogs { plogp += v * FastMath.log(v) }
                    if withVotes {
                        let greater = v .> bestValue
                        bestValue.replace(with: v, where: greater)
                        bestIndex.replace(with: index, where: greater)
                        index &+= 4
                    }
                    c += 4
                }
                var top = -Float.infinity
                var vote: Int32 = 0
                if withVotes && k4 > 0 {
                    top = Ensemble.horizontalMax(bestValue)
                    vote = Ensemble.horizontalMin(bestIndex.replacing(with: .max, where: bestValue .!= top))
                }
                while c < k {
                    let v = row[c]
                    meanRow[c] = m == 0 ? v : meanRow[c] + v
                    if withLogs { plogpTail += v * FastMath.log(v) }
                    if withVotes && v > top {
                        top = v
                        vote = Int32(truncatingIfNeeded: c)
                    }
                    c += 1
                }
                if withVotes {
                    votes[m] = vote
                    counts[Int(vote)] += 1
                }
                row += memberStride
            }

            // Sweep 2: the mean row (holding Σ_m p_m until scaled here).
            var pbarLog = SIMD4<Float>()
            var sumLog = SIMD4<Float>()
            var first = minusInfinity
            var second = minusInfinity
            var firstIndex = SIMD4<Int32>()
            var index = lanes
            var c = 0
            while c < k4 {
                let total = UnsafeRawPointer(meanRow + c).loadUnaligned(as: SIMD4<Float>.self)
                let pbar = total * invM
                UnsafeMutableRawPointer(meanRow + c).storeBytes(of: pbar, as: SIMD4<Float>.self)
                let l = FastMath.log(pbar)
                pbarLog += pbar * l
                if withLogs { sumLog += total * l }
                let greater = pbar .> first
                second = first.replacing(with: second.replacing(with: pbar, where: pbar .> second), where: .!greater)
                first.replace(with: pbar, where: greater)
                firstIndex.replace(with: index, where: greater)
                index &+= 4
                c += 4
            }
            var top = -Float.infinity
            var runnerUp = -Float.infinity
            var best: Int32 = 0
            if k4 > 0 {
                top = Ensemble.horizontalMax(first)
                best = Ensemble.horizontalMin(firstIndex.replacing(with: .max, where: first .!= top))
                // Runner-up: the other lanes' leaders and the winning lane's second.
                runnerUp = Ensemble.horizontalMax(first.replacing(with: second, where: firstIndex .== best))
            }
            var pbarLogTail: Float = 0
            var sumLogTail: Float = 0
            while c < k {
                let total = meanRow[c]
                let pbar = total * invM
                meanRow[c] = pbar
                let l = FastMath.log(pbar)
                pbarLogTail += pbar * l
                if withLogs { sumLogTail += total * l }
                if pbar > top {
                    runnerUp = top
                    top = pbar
                    best = Int32(truncatingIfNeeded: c)
                } else if pbar > runnerUp {
                    runnerUp = pbar
                }
                c += 1
            }
            if runnerUp == -.infinity { runnerUp = 0 }   // one class

            let sumS = Ensemble.horizontalSum(plogp) + plogpTail        // Σ_m Σ_c p log p
            let sumB = Ensemble.horizontalSum(pbarLog) + pbarLogTail    // Σ_c p̄ log p̄
            let sumC = Ensemble.horizontalSum(sumLog) + sumLogTail      // Σ_c (Σ_m p_mc) log p̄_c
            out.predicted[o] = best
            out.confidence[o] = top
            out.margin[o] = top - runnerUp
            out.entropy[o] = -sumB
            if withLogs {
                out.meanKL[o] = max(0, (sumS - sumC) * invM)
                out.mutualInformation[o] = max(0, sumS * invM - sumB)
            }
            guard withVotes else { return }

            // Vote entropy: over distinct votes, −(n_c/M) log(n_c/M).
            var h: Float = 0
            for m in 0..<M {
                let v = Int(votes[m])
                let n = counts[v]
                if n > 0 {
                    h -= Float(n) * invM * voteLog[Int(n)]
                    counts[v] = 0
                }
            }
            out.voteEntropy[o] = h
        }
    }

    // Horizontal reductions, written out: the generic stdlib `max()`/`sum()`
    // on SIMD4 were not inlined (a call per use in the profile).
    @inline(__always)
    static func horizontalMax(_ v: SIMD4<Float>) -> Float { Swift.max(Swift.max(v[0], v[1]), Swift.max(v[2], v[3])) }
    @inline(__always)
    static func horizontalMin(_ v: SIMD4<Int32>) -> Int32 { Swift.min(Swift.min(v[0], v[1]), Swift.min(v[2], v[3])) }
    @inline(__always)
    static func horizontalSum(_ v: SIMD4<Float>) -> Float { (v[0] + v[1]) + (v[2] + v[3]) }
}
