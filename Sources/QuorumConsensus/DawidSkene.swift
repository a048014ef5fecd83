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
///
/// As an ``Aggregator`` (an instance with its settings), the verdicts follow the
/// shared dispute rule instead: a top posterior below `disputeBelow` (default
/// 0.5), or an exact tie, is a dispute. Each annotator's quality carries the
/// confusion matrix and, as accuracy, Σ_c p_c · confusion[c][c].
public struct DawidSkene: Aggregator {
    /// The most E-steps (crowd-kit's `n_iter`).
    public var maxIterations: Int
    /// Stop once no posterior changes by this much in an E-step (or see `convergence`).
    public var tolerance: Double
    /// ε added to every confusion count.
    public var smoothing: Double
    /// The stopping rule.
    public var convergence: Convergence
    /// How EM is accelerated (under `.posteriorChange`; `.evidenceGain` always runs plain EM).
    public var acceleration: Acceleration
    public var disputeBelow: Double
    public var method: String { "dawid-skene" }

    /// The default dispute threshold: an item whose most probable class has a posterior below 0.5 is a dispute.
    public static let defaultDisputeBelow = 0.5

    public init(maxIterations: Int = 100, tolerance: Double = 1e-5, smoothing: Double = 1e-10,
                convergence: Convergence = .posteriorChange, acceleration: Acceleration = .squarem,
                disputeBelow: Double = DawidSkene.defaultDisputeBelow) {
        self.acceleration = acceleration
        self.maxIterations = maxIterations
        self.tolerance = tolerance
        self.smoothing = smoothing
        self.convergence = convergence
        self.disputeBelow = disputeBelow
    }

    /// EM with this instance's settings, then the shared dispute rule.
    ///
    /// - Complexity: as ``aggregate(_:maxIterations:tolerance:smoothing:convergence:)-swift.type.method``, plus O(items · k).
    public func aggregate(_ votes: [Vote], labels: [String]) throws(AggregationError) -> Aggregation {
        let table = try VoteTable(votes, labels: labels)
        let r = Self.aggregate(table, maxIterations: maxIterations, tolerance: tolerance, smoothing: smoothing,
                               convergence: convergence, acceleration: acceleration)
        return Aggregation(method: method, labels: labels,
                           verdicts: Verdict.decideAll(table, posteriors: r.posteriors, disputeBelow: disputeBelow),
                           posteriors: r.posteriors, annotators: r.annotators)
    }

    /// Input errors are the shared ``AggregationError``.
    public typealias InputError = AggregationError
    /// Votes encoded for EM: the shared ``VoteTable``.
    public typealias Answers = VoteTable

    /// When EM stops (besides `maxIterations`).
    public enum Convergence: Sendable, Equatable {
        /// When no posterior T[i][c] changed by `tolerance` or more in the last E-step.
        case posteriorChange
        /// crowd-kit's rule: when the evidence lower bound per answer (see
        /// ``Result/evidenceLowerBound``) gained less than `tolerance` — or fell — in
        /// the last iteration. It can stop while posteriors still move noticeably.
        case evidenceGain
    }

    /// How EM is driven to its fixed point under `.posteriorChange`.
    public enum Acceleration: Sendable, Equatable {
        /// SQUAREM (Varadhan & Roland 2008): the same fixed point in a fraction of the E-steps.
        case squarem
        /// Plain EM, one E-step and M-step at a time.
        case none
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
    ///   - acceleration: `.squarem` (default) or plain EM; only used with `.posteriorChange`.
    /// - Throws: ``InputError`` when `labels` is empty or repeats a name, or a vote's label is not in it.
    /// - Complexity: O(votes · k) per iteration for k classes, plus O(annotators · k²);
    ///   memory O(items · k + annotators · k² + votes).
    public static func aggregate(
        _ votes: [Vote], labels: [String], maxIterations: Int = 100, tolerance: Double = 1e-5,
        smoothing: Double = 1e-10, convergence: Convergence = .posteriorChange, acceleration: Acceleration = .squarem
    ) throws(InputError) -> Result {
        let answers = try Answers(votes, labels: labels)
        return aggregate(answers, maxIterations: maxIterations, tolerance: tolerance, smoothing: smoothing,
                         convergence: convergence, acceleration: acceleration)
    }

    /// EM accelerated by SQUAREM (Varadhan & Roland 2008, S3): two EM steps θ1, θ2
    /// from θ0, a jump θ' along their direction (see `EM.extrapolate`), and one EM step
    /// from θ' to stabilise it. The jump is kept when the marginal log-likelihood at θ'
    /// is at least that at θ1 (and the longest jump allowed grows), else the plain θ2
    /// state stands (and it shrinks). Converged when a plain EM step moves no posterior
    /// by `tolerance` or more: the same fixed point as plain EM, in fewer E-steps
    /// (100,000 items × 5 answers: 47 E-steps to max |ΔT| < 1e-5, where plain EM had
    /// not got there after 100).
    ///
    /// - Returns: E-steps taken, the last plain step's largest posterior change, and whether it converged.
    /// - Complexity: O(answers · k) per E-step, three E-steps per cycle; the state
    ///   (O(items · k)) is copied once per cycle, never per element.
    static func accelerated(_ em: inout EM, maxIterations: Int, tolerance: Double) -> (Int, Double, Bool) {
        var iterations = 0
        var change = Double.infinity
        var maxStep = 4.0
        while iterations < maxIterations {
            let start = (em.logPi, em.logPrior)
            change = em.iterate()
            iterations += 1
            if change < tolerance || iterations == maxIterations { return (iterations, change, change < tolerance) }
            let step1 = (em.logPi, em.logPrior)
            change = em.iterate()
            iterations += 1
            if change < tolerance || iterations + 1 > maxIterations { return (iterations, change, change < tolerance) }
            // The E-step just taken scored θ1; the jump must do at least as well.
            let plain = em
            let floor = em.logLikelihood
            guard em.extrapolate(from: start, step1: step1, maxStep: maxStep) else { continue }
            _ = em.iterate()
            iterations += 1
            if em.logLikelihood >= floor {
                maxStep = Swift.min(maxStep * 4, 1024)
            } else {
                em = plain
                maxStep = Swift.max(1, maxStep / 4)
            }
        }
        return (iterations, change, false)
    }

    /// Aggregates pre-encoded answers (see ``Answers``); the same EM as
    /// ``aggregate(_:labels:maxIterations:tolerance:smoothing:convergence:)``.
    ///
    /// - Complexity: O(answers · k) per iteration, plus O(annotators · k²).
    public static func aggregate(
        _ answers: Answers, maxIterations: Int = 100, tolerance: Double = 1e-5, smoothing: Double = 1e-10,
        convergence: Convergence = .posteriorChange, acceleration: Acceleration = .squarem
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
        switch convergence {
        case .posteriorChange where acceleration == .squarem:
            (iterations, change, converged) = accelerated(&em, maxIterations: maxIterations, tolerance: tolerance)
        default:
            // Plain EM, step for step (as crowd-kit runs it under `.evidenceGain`).
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
        }
        let counts = em.countTable()
        let classMass = em.classTotals()
        let posterior = em.posteriors()

        // Final M-step (already in `counts` / `classMass`): priors and normalised matrices.
        let priors = classMass.map { n > 0 ? $0 / Double(n) : 0 }
        let answerCount = answers.answersPerAnnotator()
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
            qualities.append(AnnotatorQuality(annotator: answers.annotators[ann], accuracy: accuracy,
                                              answers: answerCount[ann], confusion: confusion))
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

