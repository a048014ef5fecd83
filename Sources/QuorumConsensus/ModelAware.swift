#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Model-aware consensus in the style of CROWDLAB (Goh, Tkachenko & Mueller,
/// 2022; cleanlab's `get_label_quality_multiannotator` with
/// `consensus_method="best_quality"`, `quality_method="crowdlab"`): the model's
/// calibrated probabilities act as one more, weighted, voter.
///
/// Given a consensus label per item, with n_i answers on item i and, where an
/// item has more than one answer (the set M), cleanlab's statistics:
///
/// - likelihood ℓ = mean over M of the share of item i's answers equal to its consensus;
/// - the most-likely-class baseline error e₀ = max(10⁻⁶, share of M whose consensus
///   differs from the most common consensus label);
/// - annotator a's agreement g_a = Σ (answers on a's items in M equal to a's, minus a's own)
///   / Σ (n_i − 1), i.e. agreement with the *other* annotators, weighted by n_i − 1
///   (annotators with no shared item get the mean of the others' g);
///   weight w_a = max(10⁻⁶, 1 − (1 − g_a) / e₀);
/// - the model's error e_m = share of M whose most probable class differs from the
///   consensus; its weight w_m = max(10⁻⁶, 1 − e_m / e₀) · √(mean n_i over all items);
/// - posterior P(i, c) = [w_m · p_model(i, c) + Σ_{answers (a, l)} w_a · (ℓ if l = c,
///   else (1 − ℓ)/(k − 1))] / (w_m + Σ w_a): a weighted average of distributions.
///
/// The procedure: consensus = majority vote (ties → the class the model finds more
/// probable, then the first listed; cleanlab breaks remaining ties further by class
/// frequency and at random), statistics and posterior; consensus = each item's
/// posterior argmax (exact ties keep the majority label); statistics and posterior
/// again. Those second posteriors are returned, and the verdict follows the shared
/// dispute rule on them (default threshold 0.5). cleanlab keeps the label from the
/// first posterior and scores it with the second; the two argmaxes differ only when
/// the weights' small update reorders near-tied classes.
///
/// Where cleanlab has no answer, Quorum decides (and says so): when no item has two
/// answers, M is every item (so ℓ = 1 and e₀ is measured on single answers) and
/// annotators with no shared item get weight from g = ℓ; an item without model
/// probabilities is aggregated from its answers alone (w_m counts for it as 0) and
/// is left out of e_m; with no probabilities at all, w_m = 0.
///
/// **Annotator quality**: accuracy = agreement with the final consensus labels over
/// the annotator's answers (cleanlab's `agreement_with_consensus`), weight = w_a.
public struct ModelAware: Aggregator {
    /// The model's class probabilities by item id, in `labels` order (items without votes are ignored).
    public var probabilities: [Int64: [Double]]
    public var disputeBelow: Double
    public var method: String { "model-aware" }

    /// An item whose posterior stays below 0.5 is a dispute.
    public static let defaultDisputeBelow = 0.5
    /// cleanlab's `CLIPPING_LOWER_BOUND`: the floor of every weight and of e₀.
    static let floor = 1e-6

    public init(probabilities: [Int64: [Double]], disputeBelow: Double = ModelAware.defaultDisputeBelow) {
        self.probabilities = probabilities
        self.disputeBelow = disputeBelow
    }

    /// - Complexity: O(votes + items · k + annotators), expected.
    public func aggregate(_ votes: [Vote], labels: [String]) throws(AggregationError) -> Aggregation {
        try aggregate(try VoteTable(votes, labels: labels))
    }

    /// The weights and posteriors of one pass (see the type's documentation).
    struct Pass {
        var posteriors: [Double]
        var annotatorWeights: [Double]
        var modelWeight: Double
    }

    /// Model-aware consensus over pre-encoded votes.
    ///
    /// - Throws: ``AggregationError/badProbabilities(item:reason:)`` for a row of the
    ///   wrong length, or one that is not a probability distribution.
    /// - Complexity: O(answers + items · k + annotators), two passes; no allocation per item.
    public func aggregate(_ table: VoteTable) throws(AggregationError) -> Aggregation {
        let k = table.labels.count, n = table.items.count
        guard n > 0 else {
            return Aggregation(method: method, labels: table.labels, verdicts: [], posteriors: [], annotators: [], modelWeight: 0)
        }
        var model = [Double](repeating: 0, count: n * k)
        var hasModel = [Bool](repeating: false, count: n)
        for (i, item) in table.items.enumerated() {
            guard let p = probabilities[item] else { continue }
            guard p.count == k else { throw .badProbabilities(item: item, reason: "\(p.count) classes, expected \(k)") }
            var sum = 0.0
            for (c, x) in p.enumerated() {
                guard x.isFinite, x >= 0 else { throw .badProbabilities(item: item, reason: "probability \(x) for \"\(table.labels[c])\"") }
                model[i * k + c] = x
                sum += x
            }
            guard abs(sum - 1) <= 1e-3 else { throw .badProbabilities(item: item, reason: "they sum to \(sum), not 1") }
            hasModel[i] = true
        }
        var counts = [Int32](repeating: 0, count: n * k)
        for i in 0..<n {
            for j in Int(table.itemStart[i])..<Int(table.itemStart[i + 1]) { counts[i * k + Int(table.label[j])] += 1 }
        }

        // Majority vote; ties → the model's more probable class, then the first listed.
        var consensus = [Int32](repeating: 0, count: n)
        for i in 0..<n {
            var best = 0
            for c in 1..<k {
                let (x, y) = (counts[i * k + c], counts[i * k + best])
                if x > y || (x == y && model[i * k + c] > model[i * k + best]) { best = c }
            }
            consensus[i] = Int32(best)
        }
        let first = pass(table, consensus: consensus, counts: counts, model: model, hasModel: hasModel)
        for i in 0..<n {
            var best = 0, tied = false
            for c in 1..<k {
                let (x, y) = (first.posteriors[i * k + c], first.posteriors[i * k + best])
                if x > y { best = c; tied = false } else if x == y { tied = true }
            }
            if !tied { consensus[i] = Int32(best) }
        }
        let second = pass(table, consensus: consensus, counts: counts, model: model, hasModel: hasModel)

        var agreeing = [Int](repeating: 0, count: table.annotators.count)
        for i in 0..<n {
            for j in Int(table.itemStart[i])..<Int(table.itemStart[i + 1]) where table.label[j] == consensus[i] {
                agreeing[Int(table.annotator[j])] += 1
            }
        }
        let answers = table.answersPerAnnotator()
        let qualities = table.annotators.indices.map { a in
            AnnotatorQuality(annotator: table.annotators[a], accuracy: Double(agreeing[a]) / Double(answers[a]),
                             answers: answers[a], weight: second.annotatorWeights[a])
        }
        return Aggregation(method: method, labels: table.labels,
                           verdicts: Verdict.decideAll(table, posteriors: second.posteriors, disputeBelow: disputeBelow),
                           posteriors: second.posteriors, annotators: qualities, modelWeight: second.modelWeight)
    }

    /// CROWDLAB's statistics and posterior for one consensus labelling.
    ///
    /// - Complexity: O(answers + items · k + annotators).
    func pass(_ table: VoteTable, consensus: [Int32], counts: [Int32], model: [Double], hasModel: [Bool]) -> Pass {
        let k = table.labels.count, n = table.items.count, annotators = table.annotators.count
        func answers(_ i: Int) -> Int { Int(table.itemStart[i + 1] - table.itemStart[i]) }
        let anyShared = (0..<n).contains { answers($0) > 1 }
        func inM(_ i: Int) -> Bool { !anyShared || answers(i) > 1 }

        // ℓ, and e₀ against the most common consensus label.
        var shareSum = 0.0, m = 0
        var classCount = [Int](repeating: 0, count: k)
        for i in 0..<n where inM(i) {
            shareSum += Double(counts[i * k + Int(consensus[i])]) / Double(answers(i))
            classCount[Int(consensus[i])] += 1
            m += 1
        }
        let likelihood = shareSum / Double(m)
        var mode = 0
        for c in 1..<k where classCount[c] > classCount[mode] { mode = c }
        let baseline = max(Self.floor, Double(m - classCount[mode]) / Double(m))

        // Annotator weights from agreement with the other annotators.
        var agreed = [Double](repeating: 0, count: annotators), shared = [Double](repeating: 0, count: annotators)
        for i in 0..<n where answers(i) > 1 {
            for j in Int(table.itemStart[i])..<Int(table.itemStart[i + 1]) {
                let a = Int(table.annotator[j])
                agreed[a] += Double(counts[i * k + Int(table.label[j])] - 1)
                shared[a] += Double(answers(i) - 1)
            }
        }
        var meanAgreement = 0.0, withShared = 0
        for a in 0..<annotators where shared[a] > 0 { meanAgreement += agreed[a] / shared[a]; withShared += 1 }
        meanAgreement = withShared > 0 ? meanAgreement / Double(withShared) : likelihood
        var weights = [Double](repeating: 0, count: annotators)
        for a in 0..<annotators {
            let g = shared[a] > 0 ? agreed[a] / shared[a] : meanAgreement
            weights[a] = max(Self.floor, 1 - (1 - g) / baseline)
        }

        // The model's weight from its error against the consensus on M (else on every item it scored).
        let scoredInM = (0..<n).contains { hasModel[$0] && inM($0) }
        var wrong = 0, scored = 0, totalAnswers = 0
        for i in 0..<n {
            totalAnswers += answers(i)
            guard hasModel[i], inM(i) || !scoredInM else { continue }
            var best = 0
            for c in 1..<k where model[i * k + c] > model[i * k + best] { best = c }
            if best != Int(consensus[i]) { wrong += 1 }
            scored += 1
        }
        let modelWeight = scored == 0 ? 0
            : max(Self.floor, 1 - Double(wrong) / Double(scored) / baseline) * (Double(totalAnswers) / Double(n)).squareRoot()

        // Posterior: the weighted average of the model's row and each answer's likelihood row.
        let other = k > 1 ? (1 - likelihood) / Double(k - 1) : 0
        let hit = k > 1 ? likelihood : 1
        var posteriors = [Double](repeating: 0, count: n * k)
        for i in 0..<n {
            let lo = Int(table.itemStart[i]), hi = Int(table.itemStart[i + 1]), row = i * k
            let wm = hasModel[i] ? modelWeight : 0
            var total = wm
            for j in lo..<hi { total += weights[Int(table.annotator[j])] }
            var base = 0.0
            for j in lo..<hi { base += weights[Int(table.annotator[j])] * other }
            for c in 0..<k { posteriors[row + c] = wm * model[row + c] + base }
            for j in lo..<hi { posteriors[row + Int(table.label[j])] += weights[Int(table.annotator[j])] * (hit - other) }
            for c in 0..<k { posteriors[row + c] /= total }
        }
        return Pass(posteriors: posteriors, annotatorWeights: weights, modelWeight: modelWeight)
    }
}
