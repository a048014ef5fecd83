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
/// `maxIterations` E-steps. The returned confusion matrices and priors are those
/// of one last M-step from the returned posteriors (crowd-kit does the same).
///
/// Smoothing: ε (`smoothing`, default 1e-10) is added to every count before a
/// row is normalised. It keeps every log π finite (an annotator who never gave
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
/// next M-step's (A·k) × k count table: no allocation inside the loop.
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

    /// The outcome of ``aggregate(_:labels:maxIterations:tolerance:smoothing:)``.
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
        /// True when the last E-step moved no posterior by `tolerance` or more.
        public var converged: Bool
        /// The largest posterior change in the last E-step.
        public var lastChange: Double

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
    /// - Throws: ``InputError`` when `labels` is empty or repeats a name, or a vote's label is not in it.
    /// - Complexity: O(votes · k) per iteration for k classes, plus O(annotators · k²);
    ///   memory O(items · k + annotators · k² + votes).
    public static func aggregate(
        _ votes: [Vote], labels: [String], maxIterations: Int = 100, tolerance: Double = 1e-5,
        smoothing: Double = 1e-10
    ) throws(InputError) -> Result {
        let answers = try Answers(votes, labels: labels)
        return aggregate(answers, maxIterations: maxIterations, tolerance: tolerance, smoothing: smoothing)
    }

    /// Aggregates pre-encoded answers (see ``Answers``); the same EM as
    /// ``aggregate(_:labels:maxIterations:tolerance:smoothing:)``.
    ///
    /// - Complexity: O(answers · k) per iteration, plus O(annotators · k²).
    public static func aggregate(
        _ answers: Answers, maxIterations: Int = 100, tolerance: Double = 1e-5, smoothing: Double = 1e-10
    ) -> Result {
        precondition(maxIterations >= 0, "maxIterations must be non-negative, got \(maxIterations)")
        precondition(smoothing >= 0, "smoothing must be non-negative, got \(smoothing)")
        let k = answers.labels.count
        let n = answers.items.count
        let a = answers.annotators.count
        let m = answers.count
        let cells = a * k            // rows of the count and log-π tables: (annotator, given label)
        let priorFloor = 1e-10
        guard n > 0 else {
            return Result(labels: answers.labels, verdicts: [], posteriors: [], priors: [Double](repeating: 0, count: k),
                          annotators: [], iterations: 0, converged: true, lastChange: 0)
        }

        // Column of each answer in the sparse n × (A·k) matrix.
        var column = [Int32](repeating: 0, count: m)
        for j in 0..<m { column[j] = answers.annotator[j] * Int32(k) + answers.label[j] }

        var posterior = [Double](repeating: 0, count: n * k)
        // counts[(a·k + l)·k + c] = Σ_{answers of a with label l} T[item][c]
        var counts = [Double](repeating: 0, count: cells * k)
        var nextCounts = [Double](repeating: 0, count: cells * k)
        var logPi = [Double](repeating: 0, count: cells * k)
        var classMass = [Double](repeating: 0, count: k)        // Σ_i T[i][c]
        var nextClassMass = [Double](repeating: 0, count: k)
        var logPrior = [Double](repeating: 0, count: k)
        var rowTotals = [Double](repeating: 0, count: k)
        var scratch = [Double](repeating: 0, count: k)

        var iterations = 0
        var change = Double.infinity
        answers.itemStart.withUnsafeBufferPointer { start in
        column.withUnsafeBufferPointer { col in
        answers.label.withUnsafeBufferPointer { given in
        posterior.withUnsafeMutableBufferPointer { t in
        logPi.withUnsafeMutableBufferPointer { logPi in
        logPrior.withUnsafeMutableBufferPointer { logPrior in
        rowTotals.withUnsafeMutableBufferPointer { rowTotals in
        scratch.withUnsafeMutableBufferPointer { z in
            // Majority-vote start: vote shares per item, and the M-step counts from them.
            counts.withUnsafeMutableBufferPointer { acc in
                for i in 0..<n {
                    let lo = Int(start[i]), hi = Int(start[i + 1])
                    let row = t.baseAddress! + i * k
                    let share = 1 / Double(hi - lo)
                    for j in lo..<hi { row[Int(given[j])] += share }
                    for c in 0..<k { classMass[c] += row[c] }
                    for j in lo..<hi {
                        let cell = acc.baseAddress! + Int(col[j]) * k
                        for c in 0..<k { cell[c] += row[c] }
                    }
                }
            }

            while iterations < maxIterations {
                // Log-π table and log-priors from the current counts.
                counts.withUnsafeBufferPointer { acc in
                    for ann in 0..<a {
                        let base = ann * k * k
                        for c in 0..<k { rowTotals[c] = 0 }
                        for l in 0..<k {
                            for c in 0..<k { rowTotals[c] += acc[base + l * k + c] + smoothing }
                        }
                        for c in 0..<k { rowTotals[c] = log(rowTotals[c]) }
                        for l in 0..<k {
                            for c in 0..<k { logPi[base + l * k + c] = log(acc[base + l * k + c] + smoothing) - rowTotals[c] }
                        }
                    }
                }
                for c in 0..<k { logPrior[c] = log(max(classMass[c] / Double(n), priorFloor)) }

                // E-step fused with the next M-step's scatter.
                for c in 0..<k { nextClassMass[c] = 0 }
                var maxChange = 0.0
                nextCounts.withUnsafeMutableBufferPointer { next in
                    next.update(repeating: 0)
                    let lp = logPi.baseAddress!, nx = next.baseAddress!, zs = z.baseAddress!
                    for i in 0..<n {
                        let lo = Int(start[i]), hi = Int(start[i + 1])
                        for c in 0..<k { zs[c] = logPrior[c] }
                        for j in lo..<hi {
                            let cell = lp + Int(col[j]) * k
                            for c in 0..<k { zs[c] += cell[c] }
                        }
                        var top = zs[0]
                        for c in 1..<k where zs[c] > top { top = zs[c] }
                        var sum = 0.0
                        for c in 0..<k {
                            let e = exp(zs[c] - top)
                            zs[c] = e
                            sum += e
                        }
                        let inv = 1 / sum
                        let row = t.baseAddress! + i * k
                        for c in 0..<k {
                            let p = zs[c] * inv
                            maxChange = max(maxChange, abs(p - row[c]))
                            row[c] = p
                            nextClassMass[c] += p
                        }
                        for j in lo..<hi {
                            let cell = nx + Int(col[j]) * k
                            for c in 0..<k { cell[c] += row[c] }
                        }
                    }
                }
                swap(&counts, &nextCounts)
                swap(&classMass, &nextClassMass)
                iterations += 1
                change = maxChange
                if maxChange < tolerance { break }
            }
        }
        }
        }
        }
        }
        }
        }
        }

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
                    // A row with no mass and no smoothing is uniform: the annotator says nothing about class c.
                    confusion[c][l] = total > 0 ? (counts[base + l * k + c] + smoothing) / total : 1 / Double(k)
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
                      converged: change < tolerance, lastChange: n == 0 ? 0 : change)
    }
}
