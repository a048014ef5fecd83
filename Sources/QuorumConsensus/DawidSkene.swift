#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Dawid–Skene: expectation–maximisation over per-annotator confusion matrices.
///
/// The model (Dawid & Skene, 1979): each item has a hidden true class c drawn
/// with prior p_c; annotator a, shown an item of class c, answers label l with
/// probability π_a[c][l]. EM alternates
///
/// - **E-step**: log T[i][c] = log p_c + Σ_{answers (i, a, l)} log π_a[c][l],
///   then a softmax per item, giving the posterior T (items × classes);
/// - **M-step**: p = mean of T's rows; π_a[c][l] ∝ ε + Σ_{answers of a with
///   label l} T[item][c], each row (true class c) normalised to sum to 1.
///
/// As in crowd-kit, T starts from majority vote (each item's vote shares) and
/// the first M-step is taken from it. EM stops when no posterior moved by
/// `tolerance` or more in one iteration (max |ΔT| < tolerance), or after
/// `maxIterations` E-steps. `convergence: .evidenceGain` uses crowd-kit's rule
/// instead (the evidence lower bound per answer gained less than `tolerance`),
/// which stops much sooner on slow-moving data: with it, Quorum takes the same
/// iterations as crowd-kit's `DawidSkene(n_iter, tol)`. The returned confusion
/// matrices and priors are those of one last M-step from the returned
/// posteriors (crowd-kit does the same).
///
/// Smoothing: ε (`smoothing`, default 1e-10, must be positive) is added to
/// every count before a row is normalised. It keeps every log π finite (an annotator who never gave
/// label l has π_a[c][l] ≈ 0, not 0) and turns a row with no mass at all (a
/// class the annotator never saw) into a uniform row instead of 0/0. crowd-kit
/// clips counts at 1e-10 instead of adding; with the default the two differ by
/// at most 1e-10 per count, far below the tolerance. A larger ε (say 0.01–1)
/// is a pseudo-count that shrinks the matrices of annotators with few answers
/// towards uniform. Priors are floored at 1e-10 before their logarithm, as in
/// crowd-kit.
///
/// Tie rule: an item's label is the class with the largest posterior; on an
/// exact tie the class listed first in `labels` wins. Verdicts never have a
/// nil label here: the confidence (the largest posterior) says how sure EM is,
/// and what counts as too unsure is the caller's decision.
///
/// Data layout: answers are encoded once (``Answers``) into parallel `Int32`
/// arrays sorted by item — a sparse items × (annotators · classes) matrix in
/// CSR form whose column is annotator · k + label. An iteration is then one
/// pass over the answers that, per item, sums rows of a log-π table
/// ((A·k) × k), takes the softmax, and scatters the new posterior row into the
/// next M-step's (A·k) × k count table: no allocation inside the loop. Rows are
/// held in blocks of four classes (`SIMD4<Double>`), and the softmax uses a
/// vectorised e^x accurate to about 1e-15 (see `EM.exp`).
public enum DawidSkene {
    /// Input the aggregator cannot use. Messages name the offending value.
    public enum InputError: Error, Equatable, CustomStringConvertible {
        /// `labels` is empty.
        case noLabels
        /// A label appears twice in `labels`.
        case duplicateLabel(String)
        /// A vote's label is not in `labels`.
        case unknownLabel(String, item: Int64, annotator: String)

        public var description: String {
            switch self {
            case .noLabels:
                return "DawidSkene needs the list of class labels; `labels` is empty"
            case .duplicateLabel(let label):
                return "label \"\(label)\" appears twice in `labels`; each class must be listed once"
            case .unknownLabel(let label, let item, let annotator):
                return "annotator \"\(annotator)\" gave item \(item) the label \"\(label)\", which is not in `labels`; "
                    + "pass every label the votes use (in the order that breaks ties)"
            }
        }
    }

    /// Votes encoded for EM: dense indices, sorted by item.
    ///
    /// Items are numbered in ascending id order, annotators in ascending name
    /// order, classes in the order of `labels`. Answer j (in item order) is
    /// (item, `annotator[j]`, `label[j]`) for the item whose range
    /// `itemStart[item] ..< itemStart[item + 1]` contains j.
    public struct Answers: Sendable {
        /// Class names; index = class.
        public let labels: [String]
        /// Item ids, ascending; index = dense item.
        public let items: [Int64]
        /// Annotator names, ascending; index = dense annotator.
        public let annotators: [String]
        /// items.count + 1 offsets into `annotator` / `label`.
        public let itemStart: [Int32]
        /// Dense annotator of each answer.
        public let annotator: [Int32]
        /// Class index of each answer.
        public let label: [Int32]

        /// Encodes `votes`. An annotator who labels an item twice counts twice,
        /// as in crowd-kit.
        ///
        /// - Complexity: O(votes + items · log items + annotators · log annotators),
        ///   expected (hashing).
        public init(_ votes: [Vote], labels: [String]) throws(InputError) {
            guard !labels.isEmpty else { throw .noLabels }
            var labelIndex: [String: Int32] = [:]
            labelIndex.reserveCapacity(labels.count)
            for (c, name) in labels.enumerated() {
                guard labelIndex.updateValue(Int32(c), forKey: name) == nil else { throw .duplicateLabel(name) }
            }

            // First pass: provisional indices in order of first appearance.
            var itemSlot: [Int64: Int32] = [:]
            var annotatorSlot: [String: Int32] = [:]
            var itemIDs: [Int64] = []
            var names: [String] = []
            var rawItem = [Int32](repeating: 0, count: votes.count)
            var rawAnnotator = [Int32](repeating: 0, count: votes.count)
            var rawLabel = [Int32](repeating: 0, count: votes.count)
            var lastName: String? = nil
            var lastSlot: Int32 = 0
            for (j, v) in votes.enumerated() {
                guard let l = labelIndex[v.label] else {
                    throw .unknownLabel(v.label, item: v.item, annotator: v.annotator)
                }
                rawLabel[j] = l
                if let slot = itemSlot[v.item] {
                    rawItem[j] = slot
                } else {
                    let slot = Int32(itemIDs.count)
                    itemSlot[v.item] = slot
                    itemIDs.append(v.item)
                    rawItem[j] = slot
                }
                // Votes often arrive grouped by annotator: skip the hash when the name repeats.
                if v.annotator != lastName {
                    if let slot = annotatorSlot[v.annotator] {
                        lastSlot = slot
                    } else {
                        lastSlot = Int32(names.count)
                        annotatorSlot[v.annotator] = lastSlot
                        names.append(v.annotator)
                    }
                    lastName = v.annotator
                }
                rawAnnotator[j] = lastSlot
            }

            // Rank provisional indices: items by id, annotators by name.
            let itemOrder = itemIDs.indices.sorted { itemIDs[$0] < itemIDs[$1] }
            var itemRank = [Int32](repeating: 0, count: itemIDs.count)
            for (rank, slot) in itemOrder.enumerated() { itemRank[slot] = Int32(rank) }
            let nameOrder = names.indices.sorted { names[$0] < names[$1] }
            var nameRank = [Int32](repeating: 0, count: names.count)
            for (rank, slot) in nameOrder.enumerated() { nameRank[slot] = Int32(rank) }

            // Counting sort of the answers by item rank (stable: vote order within an item).
            let n = itemIDs.count
            var start = [Int32](repeating: 0, count: n + 1)
            for slot in rawItem { start[Int(itemRank[Int(slot)]) + 1] += 1 }
            for i in 0..<n { start[i + 1] += start[i] }
            var next = start
            var annotator = [Int32](repeating: 0, count: votes.count)
            var label = [Int32](repeating: 0, count: votes.count)
            for j in 0..<votes.count {
                let i = Int(itemRank[Int(rawItem[j])])
                let at = Int(next[i])
                next[i] += 1
                annotator[at] = nameRank[Int(rawAnnotator[j])]
                label[at] = rawLabel[j]
            }

            self.labels = labels
            self.items = itemOrder.map { itemIDs[$0] }
            self.annotators = nameOrder.map { names[$0] }
            self.itemStart = start
            self.annotator = annotator
            self.label = label
        }

        /// Number of answers.
        public var count: Int { annotator.count }
    }

    /// What EM learned about one annotator.
    public struct AnnotatorQuality: Sendable, Equatable {
        public var annotator: String
        /// k × k, rows = true class, columns = given label, in `labels` order;
        /// each row sums to 1: `confusion[c][l]` = P(answers l | true class c).
        public var confusion: [[Double]]
        /// Estimated probability of a correct answer: Σ_c p_c · confusion[c][c].
        public var accuracy: Double
        /// Number of answers the annotator gave.
        public var answers: Int
    }

    /// When EM stops (besides `maxIterations`).
    public enum Convergence: Sendable, Equatable {
        /// When no posterior T[i][c] changed by `tolerance` or more in the last E-step.
        case posteriorChange
        /// crowd-kit's rule: when the evidence lower bound per answer (see
        /// ``Result/evidenceLowerBound``) gained less than `tolerance` — or fell — in
        /// the last iteration. It can stop while posteriors still move noticeably.
        case evidenceGain
    }

    /// The outcome of ``aggregate(_:labels:maxIterations:tolerance:smoothing:convergence:)``.
    public struct Result: Sendable {
        /// Class names; index = class (the `labels` passed in).
        public var labels: [String]
        /// One verdict per item, by ascending item id: the most probable class
        /// (ties: first in `labels`), confidence = its posterior, votes = answers.
        public var verdicts: [Verdict]
        /// Posteriors, row-major items × classes, rows in `verdicts` order.
        public var posteriors: [Double]
        /// Estimated class priors p, in `labels` order.
        public var priors: [Double]
        /// Per-annotator confusion matrices and accuracies, by ascending name.
        public var annotators: [AnnotatorQuality]
        /// E-steps performed.
        public var iterations: Int
        /// True when the stopping rule was met (rather than `maxIterations`).
        public var converged: Bool
        /// The largest posterior change in the last E-step.
        public var lastChange: Double
        /// The evidence lower bound of the returned state per answer, computed as
        /// crowd-kit does: [Σ_answers Σ_c T[i][c] (log π_a[c][l] + log p_c) + Σ_i H(T[i])]
        /// / answers (natural logs; the prior counted once per answer, as in crowd-kit).
        public var evidenceLowerBound: Double

        /// The posterior row of item `index` (an index into `verdicts`).
        public func posterior(ofItemAt index: Int) -> ArraySlice<Double> {
            posteriors[(index * labels.count)..<((index + 1) * labels.count)]
        }
    }

    /// Aggregates `votes` over the classes `labels` with Dawid–Skene EM.
    ///
    /// - Parameters:
    ///   - labels: every class, in tie-breaking order; each vote's label must be one of them.
    ///   - maxIterations: the most E-steps (crowd-kit's `n_iter`).
    ///   - tolerance: stop once no posterior changes by this much in an E-step.
    ///   - smoothing: ε added to every confusion count (see the type's documentation).
    ///   - convergence: the stopping rule; `.evidenceGain` reproduces crowd-kit's.
    /// - Throws: ``InputError`` when `labels` is empty or repeats a name, or a vote's label is not in it.
    /// - Complexity: O(votes · k) per iteration for k classes, plus O(annotators · k²);
    ///   memory O(items · k + annotators · k² + votes).
    public static func aggregate(
        _ votes: [Vote], labels: [String], maxIterations: Int = 100, tolerance: Double = 1e-5,
        smoothing: Double = 1e-10, convergence: Convergence = .posteriorChange
    ) throws(InputError) -> Result {
        let answers = try Answers(votes, labels: labels)
        return aggregate(answers, maxIterations: maxIterations, tolerance: tolerance, smoothing: smoothing,
                         convergence: convergence)
    }

    /// Aggregates pre-encoded answers (see ``Answers``); the same EM as
    /// ``aggregate(_:labels:maxIterations:tolerance:smoothing:convergence:)``.
    ///
    /// - Complexity: O(answers · k) per iteration, plus O(annotators · k²).
    public static func aggregate(
        _ answers: Answers, maxIterations: Int = 100, tolerance: Double = 1e-5, smoothing: Double = 1e-10,
        convergence: Convergence = .posteriorChange
    ) -> Result {
        precondition(maxIterations >= 0, "maxIterations must be non-negative, got \(maxIterations)")
        precondition(smoothing > 0, "smoothing must be positive (it keeps log π finite), got \(smoothing)")
        let k = answers.labels.count
        let n = answers.items.count
        let a = answers.annotators.count
        guard n > 0 else {
            return Result(labels: answers.labels, verdicts: [], posteriors: [], priors: [Double](repeating: 0, count: k),
                          annotators: [], iterations: 0, converged: true, lastChange: 0, evidenceLowerBound: 0)
        }
        var em = EM(answers, smoothing: smoothing)
        var iterations = 0
        var change = Double.infinity
        var converged = false
        var elbo = -Double.infinity
        while iterations < maxIterations {
            change = em.iterate()
            iterations += 1
            let previous = elbo
            elbo = em.evidenceLowerBound()
            switch convergence {
            case .posteriorChange: converged = change < tolerance
            case .evidenceGain: converged = elbo - previous < tolerance
            }
            if converged { break }
        }
        let counts = em.countTable()
        let classMass = em.classTotals()
        let posterior = em.posteriors()

        // Final M-step (already in `counts` / `classMass`): priors and normalised matrices.
        let priors = classMass.map { n > 0 ? $0 / Double(n) : 0 }
        var answerCount = [Int](repeating: 0, count: a)
        for ann in answers.annotator { answerCount[Int(ann)] += 1 }
        var qualities: [AnnotatorQuality] = []
        qualities.reserveCapacity(a)
        for ann in 0..<a {
            let base = ann * k * k
            var confusion = [[Double]](repeating: [Double](repeating: 0, count: k), count: k)
            var accuracy = 0.0
            for c in 0..<k {
                var total = 0.0
                for l in 0..<k { total += counts[base + l * k + c] + smoothing }
                for l in 0..<k {
                    confusion[c][l] = (counts[base + l * k + c] + smoothing) / total
                }
                accuracy += priors[c] * confusion[c][c]
            }
            qualities.append(AnnotatorQuality(annotator: answers.annotators[ann], confusion: confusion,
                                              accuracy: accuracy, answers: answerCount[ann]))
        }

        var verdicts: [Verdict] = []
        verdicts.reserveCapacity(n)
        for i in 0..<n {
            var best = 0
            for c in 1..<k where posterior[i * k + c] > posterior[i * k + best] { best = c }
            verdicts.append(Verdict(item: answers.items[i], label: answers.labels[best],
                                    confidence: posterior[i * k + best],
                                    votes: Int(answers.itemStart[i + 1] - answers.itemStart[i])))
        }
        return Result(labels: answers.labels, verdicts: verdicts, posteriors: posterior, priors: priors,
                      annotators: qualities, iterations: iterations,
                      converged: converged, lastChange: change, evidenceLowerBound: em.evidenceLowerBound())
    }
}

extension DawidSkene {
    /// The EM state, in blocks of four classes (`SIMD4<Double>`): with k classes a
    /// row is m = ⌈k / 4⌉ blocks, and lanes past k are padding (log-prior −10³⁰, so
    /// their posterior underflows to ~1e-308 and never matters).
    ///
    /// Tables: `posterior` n × m; `counts` / `logPi` (A·k) × m, row a·k + l holding,
    /// per true class c, Σ T[item][c] over a's answers l (resp. log π_a[c][l]).
    /// Between calls the state is consistent as crowd-kit's is: posteriors from an
    /// E-step, and counts, log π and log p from the M-step on those posteriors.
    struct EM {
        typealias Block = SIMD4<Double>
        let n: Int, k: Int, m: Int, cells: Int, answerCount: Int
        let smoothing: Double
        let itemStart: [Int32]
        /// Answer j's row in the tables, pre-multiplied by m: (annotator · k + label) · m.
        let row: [Int32]
        var posterior: [Block]
        var counts: [Block]
        var nextCounts: [Block]
        var logPi: [Block]
        var classMass: [Block]
        var logPrior: [Block]
        var logTotals: [Double]
        var scratch: [Block]
        /// Σ_i H(T[i]) of the current posteriors.
        var entropy = 0.0
        /// Σ_answers Σ_c T[i][c] (log π_a[c][l] + log p_c) for the current state.
        var joint = 0.0

        /// Majority-vote start (vote shares per item) and the M-step from it.
        ///
        /// - Complexity: O(answers · k + annotators · k²).
        init(_ answers: Answers, smoothing: Double) {
            n = answers.items.count
            k = answers.labels.count
            m = (k + 3) / 4
            cells = answers.annotators.count * k
            answerCount = answers.count
            self.smoothing = smoothing
            itemStart = answers.itemStart
            let (k, m) = (self.k, self.m)
            row = zip(answers.annotator, answers.label).map { (ann, l) in (ann * Int32(k) + l) * Int32(m) }
            posterior = [Block](repeating: .zero, count: n * m)
            counts = [Block](repeating: .zero, count: cells * m)
            nextCounts = counts
            logPi = counts
            classMass = [Block](repeating: .zero, count: m)
            logPrior = [Block](repeating: Block(repeating: -1e30), count: m)
            logTotals = [Double](repeating: 0, count: k)
            scratch = [Block](repeating: .zero, count: 2 * m)   // shifted logits, then their exponentials
            for i in 0..<n {
                let lo = Int(itemStart[i]), hi = Int(itemStart[i + 1])
                let share = 1 / Double(hi - lo)
                for j in lo..<hi {
                    let c = Int(answers.label[j])
                    posterior[i * m + c / 4][c % 4] += share
                }
                for q in 0..<m {
                    let p = posterior[i * m + q]
                    classMass[q] += p
                    for j in lo..<hi { counts[Int(row[j]) + q] += p }
                    for lane in 0..<4 where p[lane] > 0 { entropy -= p[lane] * log(p[lane]) }
                }
            }
            mStep()
        }

        /// M-step from `counts` and `classMass`: log π_a[c][l] = log(count + ε) −
        /// log Σ_l' (count + ε) per (annotator, true class); log p_c = log max(mass / n, 1e-10);
        /// and the joint term of the evidence lower bound.
        ///
        /// - Complexity: O(annotators · k²).
        mutating func mStep() {
            let (k, m, eps) = (self.k, self.m, smoothing)
            for c in 0..<k { logPrior[c / 4][c % 4] = log(Swift.max(classMass[c / 4][c % 4] / Double(n), 1e-10)) }
            var joint = 0.0
            for ann in 0..<(cells / k) {
                let base = ann * k * m
                for c in 0..<k {
                    var total = 0.0
                    for l in 0..<k { total += counts[base + l * m + c / 4][c % 4] + eps }
                    logTotals[c] = log(total)
                }
                for l in 0..<k {
                    for c in 0..<k {
                        let count = counts[base + l * m + c / 4][c % 4]
                        let lp = log(count + eps) - logTotals[c]
                        logPi[base + l * m + c / 4][c % 4] = lp
                        if count > 0 { joint += count * (lp + logPrior[c / 4][c % 4]) }
                    }
                }
            }
            self.joint = joint
        }

        /// The evidence lower bound per answer of the current state (crowd-kit's definition).
        func evidenceLowerBound() -> Double { (joint + entropy) / Double(answerCount) }

        /// One EM iteration: the E-step (per item, log p + Σ log-π rows, softmax) fused
        /// with the scatter of the new posterior rows into the next counts, then the
        /// M-step. Returns the largest change of any posterior.
        ///
        /// - Complexity: O(answers · k + annotators · k²); no allocation.
        mutating func iterate() -> Double {
            let (n, m) = (self.n, self.m)
            var maxChange = Block.zero
            var entropy = 0.0
            for q in 0..<m { classMass[q] = .zero }
            itemStart.withUnsafeBufferPointer { start in
            row.withUnsafeBufferPointer { row in
            posterior.withUnsafeMutableBufferPointer { t in
            logPi.withUnsafeBufferPointer { lp in
            logPrior.withUnsafeBufferPointer { prior in
            classMass.withUnsafeMutableBufferPointer { mass in
            scratch.withUnsafeMutableBufferPointer { z in
            nextCounts.withUnsafeMutableBufferPointer { next in
                next.update(repeating: .zero)
                let t = t.baseAddress!, lp = lp.baseAddress!, prior = prior.baseAddress!
                let mass = mass.baseAddress!, z = z.baseAddress!, next = next.baseAddress!
                for i in 0..<n {
                    let lo = Int(start[i]), hi = Int(start[i + 1])
                    let ti = t + i * m
                    // Logits; H(T[i]) = log Σ e − Σ_c p_c (z_c − top) needs one log per item.
                    var top = -Double.infinity
                    for q in 0..<m {
                        var zq = prior[q]
                        for j in lo..<hi { zq += lp[Int(row[j]) &+ q] }
                        top = Swift.max(top, Self.maxLane(zq))
                        z[q] = zq
                    }
                    var sum = Block.zero
                    for q in 0..<m {
                        let shifted = Self.max(z[q] - top, Block(repeating: -708))
                        z[q] = shifted
                        let e = Self.exp(shifted)
                        z[m &+ q] = e
                        sum += e
                    }
                    let total = sum.sum()
                    let inv = 1 / total
                    var weighted = Block.zero
                    for q in 0..<m {
                        let p = z[m &+ q] * inv
                        weighted += p * z[q]
                        let d = p - ti[q]
                        maxChange = Self.max(maxChange, Self.abs(d))
                        ti[q] = p
                        mass[q] += p
                        for j in lo..<hi { next[Int(row[j]) &+ q] += p }
                    }
                    entropy += log(total) - weighted.sum()
                }
            }
            }
            }
            }
            }
            }
            }
            }
            swap(&counts, &nextCounts)
            self.entropy = entropy
            mStep()
            return Self.maxLane(maxChange)
        }

        // Branch-free lane-wise max and |x| (the standard library's `pointwiseMax` is
        // NaN-aware lane by lane, and was a third of the E-step's time).
        @inline(__always)
        static func max(_ a: Block, _ b: Block) -> Block { a.replacing(with: b, where: a .< b) }

        @inline(__always)
        static func abs(_ a: Block) -> Block {
            unsafeBitCast(unsafeBitCast(a, to: SIMD4<UInt64>.self) & 0x7FFF_FFFF_FFFF_FFFF, to: Block.self)
        }

        @inline(__always)
        static func maxLane(_ x: Block) -> Double {
            Swift.max(Swift.max(x[0], x[1]), Swift.max(x[2], x[3]))
        }

        /// e^x per lane for −708 ≤ x ≤ 0 (the caller clamps; e^−708 ≈ 3e-308).
        ///
        /// x = n·ln 2 + r with n = round(x / ln 2) (the 1.5·2⁵² rounding trick) and
        /// |r| ≤ ln 2 / 2 (Cody–Waite two-part ln 2); e^r by its Taylor series to r¹¹
        /// (truncation error below 7e-15 relative); 2ⁿ built in the exponent bits.
        /// Relative error about 1e-15, far below anything EM can see.
        @inline(__always)
        static func exp(_ x: Block) -> Block {
            let magic = Block(repeating: 0x1.8p52)
            let t = x * 1.4426950408889634 + magic
            let nf = t - magic
            let r = (x - nf * 0.693147180369123816490) - nf * 1.90821492927058770002e-10
            var p = Block(repeating: 1.0 / 39_916_800)
            p = p * r + 1.0 / 3_628_800
            p = p * r + 1.0 / 362_880
            p = p * r + 1.0 / 40_320
            p = p * r + 1.0 / 5_040
            p = p * r + 1.0 / 720
            p = p * r + 1.0 / 120
            p = p * r + 1.0 / 24
            p = p * r + 1.0 / 6
            p = p * r + 0.5
            p = p * r + 1
            p = p * r + 1
            let scale = (unsafeBitCast(t, to: SIMD4<UInt64>.self) &+ 1023) &<< 52
            return p * unsafeBitCast(scale, to: Block.self)
        }

        /// The counts of the last M-step, compact: index (a·k + l)·k + c.
        func countTable() -> [Double] {
            var out = [Double](repeating: 0, count: cells * k)
            for r in 0..<cells {
                for c in 0..<k { out[r * k + c] = counts[r * m + c / 4][c % 4] }
            }
            return out
        }

        /// Σ_i T[i][c] for the current posteriors.
        func classTotals() -> [Double] { (0..<k).map { classMass[$0 / 4][$0 % 4] } }

        /// The posteriors, compact row-major n × k.
        func posteriors() -> [Double] {
            var out = [Double](repeating: 0, count: n * k)
            for i in 0..<n {
                for c in 0..<k { out[i * k + c] = posterior[i * m + c / 4][c % 4] }
            }
            return out
        }
    }
}
