import Foundation
import QuorumCore
import QuorumModels
import QuorumStore
import QuorumNumerics
import QuorumSampling

/// Turns stored items and predictions into what the sampler reads.
enum SamplingInput {
    /// What diversity and similarity measure distance on.
    enum EmbeddingSource {
        /// The items' own vectors (every candidate has one of the same length).
        case vectors(Int)
        /// The texts' TF-IDF rows over the item table's vocabulary, randomly projected (`Featurizer.embed`).
        case text(Featurizer)
        /// The live model's probabilities: all there is for items without vectors under imported predictions.
        case probabilities
        case none

        /// Vectors first, then text through the live Quorum model's featurizer, then probabilities.
        static func choose(_ items: [StoredItem], featurizer: Featurizer?, hasPredictions: Bool) -> EmbeddingSource {
            if let d = items.first?.vector?.count, d > 0, items.allSatisfy({ $0.vector?.count == d }) { return .vectors(d) }
            if let featurizer, featurizer.hasText, items.contains(where: { $0.text != nil }) { return .text(featurizer) }
            return hasPredictions ? .probabilities : .none
        }

        /// The embedding rows of `items`; nil where this source has no row for some item.
        func rows(_ items: [StoredItem], predictions: [Int64: Prediction]?, classes k: Int) -> Matrix? {
            switch self {
            case .vectors(let d):
                guard items.allSatisfy({ $0.vector?.count == d }) else { return nil }
                return Matrix(rows: items.count, cols: d, storage: items.flatMap { $0.vector! })
            case .text(let featurizer):
                return featurizer.embed(texts: items.map(\.text))
            case .probabilities:
                guard let predictions else { return nil }
                return Matrix(rows: items.count, cols: k, storage: items.flatMap {
                    predictions[$0.key]?.probabilities ?? [Float](repeating: 1 / Float(k), count: k)
                })
            case .none:
                return nil
            }
        }
    }

    /// Candidates with their strata, measures and embeddings.
    ///
    /// - Strata: the value of metadata field `stratifyBy`, or the predicted
    ///   class when nil (one stratum, "all", before the first model).
    /// - Measures: from the live model's predictions; an item it did not
    ///   score counts as maximally uncertain.
    /// - Embeddings: the items' vectors when every candidate has one of the
    ///   same length; else, for texts, a random projection of their TF-IDF
    ///   rows through the live model's `featurizer`, so that near-duplicate
    ///   texts are near each other; else the model's probabilities; else none.
    static func candidates(_ items: [StoredItem], predictions: [Int64: Prediction]?, labels: LabelSet,
                           stratifyBy: String?, featurizer: Featurizer? = nil) -> PoolCandidates {
        let n = items.count, k = labels.count
        var measures: EnsembleMeasures?
        if let predictions {
            var m = EnsembleMeasures(count: n)
            let uniform = Float(1) / Float(k)
            for (i, item) in items.enumerated() {
                if let p = predictions[item.key], let s = p.measures {
                    m.predicted[i] = Int32(s.label); m.confidence[i] = s.confidence; m.margin[i] = s.margin
                    m.entropy[i] = s.entropy; m.voteEntropy[i] = s.voteEntropy; m.meanKL[i] = s.meanKL
                    m.mutualInformation[i] = s.mutualInformation
                } else if let p = predictions[item.key] {
                    let sorted = p.probabilities.sorted(by: >)
                    m.predicted[i] = Int32(p.label); m.confidence[i] = p.confidence
                    m.margin[i] = sorted.count > 1 ? sorted[0] - sorted[1] : 1
                    m.entropy[i] = -p.probabilities.reduce(0) { $0 + ($1 > 0 ? $1 * log($1) : 0) }
                } else {
                    m.confidence[i] = uniform; m.margin[i] = 0; m.entropy[i] = log(Float(k))
                }
            }
            measures = m
        }
        let strata: [String] = items.enumerated().map { i, item in
            if let field = stratifyBy { return metaValue(item.metaJSON, field) ?? "(none)" }
            guard let m = measures else { return "all" }
            return labels.names[Int(m.predicted[i])]
        }
        let embeddings = EmbeddingSource.choose(items, featurizer: featurizer, hasPredictions: predictions != nil)
            .rows(items, predictions: predictions, classes: k)
        return PoolCandidates(keys: items.map(\.key), contentGroups: items.map(\.contentHash), strata: strata,
                              measures: measures, embeddings: embeddings)
    }

    /// Confidence above which a model's prediction counts as confident when people override it.
    static let confidentOverride: Float = 0.8

    /// Adds what the adversarial strategy reads: each candidate's distance to
    /// the live model's decision boundary (when it is a Quorum model), and its
    /// largest cosine similarity to pool items whose consensus overrode a
    /// confident prediction (when there are any), in the candidates' embedding.
    static func addAdversarial(_ candidates: inout PoolCandidates, items: [StoredItem], classifier: Classifier?,
                               predictions: [Int64: Prediction], labels: LabelSet, store: any StoreReader) throws {
        if let classifier {
            candidates.boundaryDistance = classifier.ensemble.boundaryDistances(
                classifier.featurizer.transform(texts: items.map(\.text), vectors: items.map(\.vector)))
        }
        let consensus = try store.consensus()
        let overridden = try store.items(kinds: [.pool]).filter { item in
            guard let settled = consensus[item.key]?.label, let p = predictions[item.key] else { return false }
            return p.confidence >= confidentOverride && labels.names[p.label] != settled
        }
        guard !overridden.isEmpty, let embeddings = candidates.embeddings else { return }
        let source = EmbeddingSource.choose(items, featurizer: classifier?.featurizer, hasPredictions: true)
        guard let rows = source.rows(overridden, predictions: predictions, classes: labels.count),
              rows.cols == embeddings.cols else { return }
        candidates.overrideSimilarity = Similarity.maxCosine(embeddings, to: rows)
    }

    /// Labelled items' embeddings, which diversity keeps the batch away from:
    /// their vectors when the candidates' embeddings are vectors and every
    /// labelled item has one of the same length, their text embeddings when
    /// the candidates' are text; nil otherwise (probabilities say nothing
    /// about what has been labelled).
    static func centers(_ labelled: [StoredItem], candidates: [StoredItem], featurizer: Featurizer? = nil) -> Matrix? {
        guard !labelled.isEmpty else { return nil }
        let source = EmbeddingSource.choose(candidates, featurizer: featurizer, hasPredictions: false)
        switch source {
        case .vectors, .text: return source.rows(labelled, predictions: nil, classes: 0)
        case .probabilities, .none: return nil
        }
    }

    /// A metadata field's value as text ("en", "3", "true"); nil when absent.
    static func metaValue(_ metaJSON: String?, _ field: String) -> String? {
        guard let metaJSON, let object = try? JSONSerialization.jsonObject(with: Data(metaJSON.utf8)) as? [String: Any],
              let value = object[field] else { return nil }
        if let s = value as? String { return s }
        if value is NSNull { return nil }
        return "\(value)"
    }
}
