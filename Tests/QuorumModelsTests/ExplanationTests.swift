import QuorumNumerics
import Testing
@testable import QuorumModels

@Suite struct ExplanationTests {
    @Test func termNamesCoverEveryHashedNGram() {
        let text = "The late delivery, a broken box and a late refund"
        let names = Featurizer.termNames(text, maxNGram: 2)
        var hashes: [UInt64] = []
        Featurizer.forEachTerm(text, maxNGram: 2) { hashes.append($0) }
        #expect(hashes.allSatisfy { names[$0] != nil }, "every term the featurizer hashes has a name")
        #expect(Set(names.values).isSuperset(of: ["late", "late delivery", "broken box", "late refund"]))
        #expect(!names.values.contains("a"), "one-letter words are not terms")
    }

    /// A hand-built model: one member, two classes, vectors only, so each
    /// contribution is x_j · (w_j,c − (w_j,0 + w_j,1)/2) by hand.
    @Test func contributionsMatchAHandComputation() {
        let featurizer = Featurizer(settings: FeaturizerSettings(), terms: [], idf: [], means: [0, 0, 0], scales: [1, 1, 1])
        let weights = Matrix(rows: 3, cols: 2, storage: [2, -2,   0.5, 0.5,   -1, 3])
        let c = Classifier(featurizer: featurizer, ensemble: LogisticEnsemble(members: [LogisticRegression(weights: weights, bias: [0, 0])]))
        let top = c.strongestFeatures(text: nil, vector: [1, 4, 0.5], label: 0, count: 3)
        // v0: 1·(2 − 0) = 2; v1: 4·(0.5 − 0.5) = 0; v2: 0.5·(−1 − 1) = −1.
        #expect(top.map(\.name) == ["v[0]", "v[2]", "v[1]"])
        #expect(top.map(\.contribution) == [2, -1, 0])
    }

    @Test func nearestExamplesRankByCosine() {
        let texts: [String?] = ["refund for a late delivery", "great tasty pizza", "late delivery again, want refund", "tasty pizza"]
        let (c, _) = Classifier.train(texts: texts, vectors: [nil, nil, nil, nil], labels: [0, 1, 0, 1], classes: 2, members: 1)
        let index = NearestExamples(classifier: c, texts: texts, vectors: [nil, nil, nil, nil])
        let near = index.nearest(text: "my delivery was late, refund please", vector: nil, count: 2)
        #expect(Set(near.map(\.index)) == [0, 2])
        #expect(near[0].similarity >= near[1].similarity && near[0].similarity <= 1.0001)
    }
}
