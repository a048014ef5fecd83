import Foundation
import QuorumCore
import QuorumModels
import QuorumStore
import QuorumNumerics
import QuorumSampling

/// Turns stored items and predictions into what the sampler reads.
enum SamplingInput {
    /// Candidates with their strata, measures and embeddings.
    ///
    /// - Strata: the value of metadata field `stratifyBy`, or the predicted
    ///   class when nil (one stratum, "all", before the first model).
    /// - Measures: from the live model's predictions; an item it did not
    ///   score counts as maximally uncertain.
    /// - Embeddings: the items' vectors when every candidate has one of the
    ///   same length; else the model's probabilities; else none.
    static func candidates(_ items: [StoredItem], predictions: [Int64: Prediction]?, labels: LabelSet,
                           stratifyBy: String?) -> PoolCandidates {
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
        var embeddings: Matrix?
        if let d = items.first?.vector?.count, d > 0, items.allSatisfy({ $0.vector?.count == d }) {
            embeddings = Matrix(rows: n, cols: d, storage: items.flatMap { $0.vector! })
        } else if let predictions {
            embeddings = Matrix(rows: n, cols: k, storage: items.flatMap {
                predictions[$0.key]?.probabilities ?? [Float](repeating: 1 / Float(k), count: k)
            })
        }
        return PoolCandidates(keys: items.map(\.key), contentGroups: items.map(\.contentHash), strata: strata,
                              measures: measures, embeddings: embeddings)
    }

    /// Confidence above which a model's prediction counts as confident when people override it.
    static let confidentOverride: Float = 0.8

    /// Adds what the adversarial strategy reads: each candidate's distance to
    /// the live model's decision boundary (when it is a Quorum model), and its
    /// largest cosine similarity to pool items whose consensus overrode a
    /// confident prediction (when there are any).
    static func addAdversarial(_ candidates: inout PoolCandidates, items: [StoredItem], model: ModelVersion,
                               predictions: [Int64: Prediction], labels: LabelSet, store: any StoreReader) throws {
        if let classifier = Classifier(encoded: model.state) {
            candidates.boundaryDistance = classifier.ensemble.boundaryDistances(
                classifier.featurizer.transform(texts: items.map(\.text), vectors: items.map(\.vector)))
        }
        let consensus = try store.consensus()
        let overridden = try store.items(kinds: [.pool]).filter { item in
            guard let settled = consensus[item.key]?.label, let p = predictions[item.key] else { return false }
            return p.confidence >= confidentOverride && labels.names[p.label] != settled
        }
        guard !overridden.isEmpty, let embeddings = candidates.embeddings else { return }
        let d = embeddings.cols
        let rows: [[Float]] = overridden.compactMap { item in
            if let v = item.vector, v.count == d, items.first?.vector?.count == d { return v }
            if let p = predictions[item.key]?.probabilities, p.count == d, items.first?.vector == nil { return p }
            return nil
        }
        guard !rows.isEmpty else { return }
        candidates.overrideSimilarity = Similarity.maxCosine(embeddings, to: Matrix(rows: rows.count, cols: d, storage: rows.flatMap { $0 }))
    }

    /// Labelled items' vectors, which diversity keeps the batch away from;
    /// nil unless the candidates' embeddings are their vectors and every
    /// labelled item has one of the same length.
    static func centers(_ labelled: [StoredItem], candidates: [StoredItem]) -> Matrix? {
        guard let d = candidates.first?.vector?.count, d > 0, candidates.allSatisfy({ $0.vector?.count == d }) else { return nil }
        let rows = labelled.compactMap { $0.vector }.filter { $0.count == d }
        guard !rows.isEmpty, rows.count == labelled.count else { return nil }
        return Matrix(rows: rows.count, cols: d, storage: rows.flatMap { $0 })
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
