import QuorumNumerics

/// One feature's pull towards a label, for the loop's details view.
public struct FeatureContribution: Sendable, Equatable {
    /// The n-gram ("late delivery") or vector dimension ("v[17]").
    public var name: String
    /// x_j · (w̄_j,label − mean over labels of w̄_j,·), w̄ averaged over the ensemble's members.
    public var contribution: Float
}

extension Classifier {
    /// The features that pull the item towards `label` most (and least), by
    /// their contribution to that label's logit relative to the average label.
    ///
    /// - Complexity: O(features in the item × classes × members).
    public func strongestFeatures(text: String?, vector: [Float]?, label: Int, count: Int) -> [FeatureContribution] {
        let x = featurizer.transform(texts: [text], vectors: [vector])
        let k = ensemble.classes
        let scale = 1 / Float(ensemble.members.count)
        func pull(_ row: Int) -> Float {
            var towards: Float = 0, average: Float = 0
            for member in ensemble.members {
                for c in 0..<k {
                    let w = member.weights[row, c] * scale
                    average += w / Float(k)
                    if c == label { towards += w }
                }
            }
            return towards - average
        }
        var out: [FeatureContribution] = []
        if let sparse = x.sparse, sparse.rows == 1, let text {
            let names = Featurizer.termNames(text, maxNGram: featurizer.settings.maxNGram)
            for e in sparse.rowStart[0]..<sparse.rowStart[1] {
                let j = Int(sparse.columns[e])
                out.append(FeatureContribution(name: names[featurizer.terms[j]] ?? "term \(j)",
                                               contribution: sparse.values[e] * pull(j)))
            }
        }
        if let dense = x.dense, dense.rows == 1 {
            for j in 0..<dense.cols where dense[0, j] != 0 {
                out.append(FeatureContribution(name: "v[\(j)]", contribution: dense[0, j] * pull(x.sparseWidth + j)))
            }
        }
        return Array(out.sorted { abs($0.contribution) > abs($1.contribution) }.prefix(count))
    }
}

/// The labelled items nearest to a given item, by cosine similarity in the
/// classifier's feature space (TF-IDF and standardised vectors).
public struct NearestExamples: Sendable {
    private let classifier: Classifier
    private let features: FeatureMatrix
    private let norms: [Float]

    /// Featurises the labelled items once.
    ///
    /// - Complexity: O(total tokens + n × vector dimension).
    public init(classifier: Classifier, texts: [String?], vectors: [[Float]?]) {
        self.classifier = classifier
        features = classifier.featurizer.transform(texts: texts, vectors: vectors)
        var norms = [Float](repeating: 0, count: features.rows)
        if let s = features.sparse {
            for i in 0..<s.rows { for e in s.rowStart[i]..<s.rowStart[i + 1] { norms[i] += s.values[e] * s.values[e] } }
        }
        if let d = features.dense {
            d.storage.withUnsafeBufferPointer { p in
                for i in 0..<d.rows { norms[i] += BLAS.dot(d.cols, p.baseAddress! + i * d.cols, p.baseAddress! + i * d.cols) }
            }
        }
        self.norms = norms.map { $0.squareRoot() }
    }

    /// The `count` most similar labelled items: (index into the labelled items, cosine similarity).
    ///
    /// - Complexity: one sparse/dense matrix–vector product over the labelled items.
    public func nearest(text: String?, vector: [Float]?, count: Int) -> [(index: Int, similarity: Float)] {
        guard features.rows > 0 else { return [] }
        let x = classifier.featurizer.transform(texts: [text], vectors: [vector])
        var query = [Float](repeating: 0, count: features.width)
        if let s = x.sparse { for e in s.rowStart[0]..<s.rowStart[1] { query[Int(s.columns[e])] = s.values[e] } }
        if let d = x.dense { for j in 0..<d.cols { query[x.sparseWidth + j] = d[0, j] } }
        var qNorm: Float = 0
        for v in query { qNorm += v * v }
        qNorm = qNorm.squareRoot()
        guard qNorm > 0 else { return [] }
        var dots = Matrix(rows: features.rows, cols: 1)
        query.withUnsafeBufferPointer { q in features.multiply(q, k: 1, into: &dots, beta: 0) }
        let scored = (0..<features.rows).map { i in (i, norms[i] > 0 ? dots.storage[i] / (norms[i] * qNorm) : 0) }
        return Array(scored.sorted { $0.1 > $1.1 }.prefix(count)).map { (index: $0.0, similarity: $0.1) }
    }
}
