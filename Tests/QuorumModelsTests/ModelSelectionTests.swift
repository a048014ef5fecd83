import Foundation
@testable import QuorumModels
import QuorumNumerics
import Testing

/// Model selection against scikit-learn 1.9.1. Every reference value below was
/// printed by experiments/learning/reference_values.py (the full output is in
/// experiments/learning/results/reference_values.txt, with how each was computed).
@Suite struct ModelSelectionTests {
    /// The first 200 rows of the bundled digits, standardised on those rows
    /// (population std; zero-variance columns become 0), as the script does.
    static let first200: (x: FeatureMatrix, y: [Int]) = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try! String(contentsOf: root.appendingPathComponent("datasets/digits/digits.jsonl"), encoding: .utf8)
        var vectors: [[Float]?] = [], labels: [Int] = []
        for line in text.split(separator: "\n").prefix(200) {
            let row = try! JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            vectors.append((row["vector"] as! [NSNumber]).map { $0.floatValue })
            labels.append(Int(row["label"] as! String)!)
        }
        let featurizer = Featurizer.fit(texts: [String?](repeating: nil, count: 200), vectors: vectors, settings: .init())
        return (featurizer.transform(texts: [String?](repeating: nil, count: 200), vectors: vectors), labels)
    }()

    @Test func foldsAreScikitLearnsStratifiedKFold() {
        // StratifiedKFold(n_splits=5, shuffle=False) on the labels of digits rows 1–60.
        let digits60Labels = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 9, 5, 5, 6, 5, 0, 9, 8, 9,
                              8, 4, 1, 7, 7, 3, 5, 1, 0, 0, 2, 2, 7, 8, 2, 0, 1, 2, 6, 3]
        let digits60Folds = [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 2, 0, 1, 1, 1, 1, 1, 2, 1, 2, 3, 1, 2, 2, 2, 2, 1, 3, 1, 2, 3, 3, 2, 4, 3, 4,
                             3, 4, 3, 2, 3, 3, 4, 3, 2, 3, 2, 3, 4, 4, 4, 4, 4, 4, 4, 4]
        #expect(Folds.stratified(labels: digits60Labels, folds: 5) == digits60Folds)
        // n_splits=3 on a hand-made y, classes of 5, 6 and 7 items.
        #expect(Folds.stratified(labels: [0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2, 0, 1, 2, 2, 1, 0], folds: 3)
                == [0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 1, 2, 1, 2, 2, 2, 2, 2])
        // Shuffled: every item keeps a fold, and each class is still spread over the folds.
        let shuffled = Folds.stratified(labels: digits60Labels, folds: 5, seed: 7)
        for c in 0..<10 {
            let folds = digits60Labels.indices.filter { digits60Labels[$0] == c }.map { shuffled[$0] }
            #expect(Set(folds).count == min(folds.count, 5), "class \(c) is dealt to distinct folds first")
        }
    }

    @Test func cPathMatchesScikitLearn() {
        let (x, y) = Self.first200
        let folds = Folds.stratified(labels: y, folds: 5)
        // scipy-polished optima of sklearn's LogisticRegression(C) objective: predict_proba of row 0 (label 0).
        let row0: [Double: [Double]] = [
            0.01: [0.59870167570667332, 0.01393768427513041, 0.037375578384962208, 0.045972604262351148, 0.049121146352108389,
                   0.041625512090757266, 0.030687060785086408, 0.060287029703075576, 0.048064621545205667, 0.074227086894649533],
            1: [0.98939127017184092, 1.0882607738810979e-05, 0.00051801949747458669, 0.00039439314865943089, 0.0012446008047542561,
                0.0027176033320569196, 0.00017053396846489964, 0.0018310621561640312, 0.00070741545335288169, 0.0030142188594935184],
        ]
        let settings = LogisticRegressionSettings(c: 1, maxIterations: 5000, tolerance: 1e-7)
        for (c, expected) in row0 {
            var s = settings
            s.c = c
            let p = LogisticRegression.fit(features: x, labels: y, classes: 10, settings: s).probabilities(x.rows(at: [0]))
            for j in 0..<10 { #expect(abs(Double(p[0, j]) - expected[j]) < 2e-4, "C = \(c), class \(j)") }
        }
        // 5-fold cross-validation along the warm-started path: held-out accuracy and log-loss per C
        // (folds of 40 rows each, so the out-of-fold means equal sklearn's means over folds).
        let grid = [0.01, 0.1, 1, 10]
        let accuracy = [0.95, 0.955, 0.95, 0.945]
        let logLoss = [0.94114586653485865, 0.33239180285279207, 0.18619167457979766, 0.16143978760177474]
        let path = CrossValidation.path(features: x, labels: y, classes: 10, folds: folds, grid: grid, settings: settings)
        for i in grid.indices {
            #expect(abs(path.scores[i].accuracy - accuracy[i]) <= 0.0051, "C = \(grid[i]): at most one item apart")
            #expect(abs(path.scores[i].logLoss - logLoss[i]) < 2e-3, "C = \(grid[i])")
        }
    }

    /// The C path's stall (found 2026-12-03 on rotten_tomatoes): from the previous C's solution the
    /// new objective's gradient is (1/C₁ − 1/C₂)·w/n, which at n = 6,400 training rows is already below
    /// the absolute tolerance, so the larger C's "fit" took no step and cross-validation scored C₁'s
    /// model twice. The first 200 digits rows, each 40 times (the mean loss is unchanged; the penalty
    /// is 40 times weaker), path C = 10 → 1,000: fold 0's C = 1,000 model must move at least half the way
    /// to that C's optimum (a cold fit to 1e-6), and its out-of-fold log-loss must differ from C = 10's.
    @Test func warmStartedPathDoesNotStallAtLargeC() {
        let (x0, y0) = Self.first200
        let rows = (0..<40).flatMap { _ in Array(0..<200) }
        let x = x0.rows(at: rows), y = rows.map { y0[$0] }
        let folds = Folds.stratified(labels: y, folds: 5)
        let path = CrossValidation.path(features: x, labels: y, classes: 10, folds: folds, grid: [10, 1000])
        #expect(path.scores[0].logLoss != path.scores[1].logLoss)
        let mask = folds.map { $0 == 0 ? Float(0) : 1 }
        let optimum = LogisticRegression.fit(features: x, labels: y, classes: 10, sampleWeights: mask,
                                             settings: LogisticRegressionSettings(c: 1000, maxIterations: 5000, tolerance: 1e-6))
        func distance(_ a: LogisticRegression, _ b: LogisticRegression) -> Double {
            let p: [Float] = a.weights.storage + a.bias, q: [Float] = b.weights.storage + b.bias
            var sum = 0.0
            for i in p.indices { let d = Double(p[i] - q[i]); sum += d * d }
            return sum.squareRoot()
        }
        let previous = path.foldModels[0][0], warm = path.foldModels[1][0]
        #expect(warm.iterations > 0)
        #expect(distance(warm, optimum) < 0.5 * distance(previous, optimum),
                "C = 1,000 from C = 10's model: \(distance(warm, optimum)) from the optimum, C = 10's model \(distance(previous, optimum))")
    }

    @Test func outOfFoldTemperatureMatchesScipy() {
        // C = 1, the same folds: T minimising the out-of-fold NLL (scipy minimize_scalar) = 0.69642016,
        // NLL 0.18619168 → 0.16118982, ECE (15 bins) 0.07053351 → 0.02945359.
        let (x, y) = Self.first200
        let path = CrossValidation.path(features: x, labels: y, classes: 10, folds: Folds.stratified(labels: y, folds: 5), grid: [1],
                                        settings: LogisticRegressionSettings(c: 1, maxIterations: 5000, tolerance: 1e-7))
        let logits = path.outOfFoldLogits[0]
        let t = TemperatureScaling.fit(logits: logits, members: 1, labels: y, classes: 10)
        #expect(abs(Double(t) - 0.6964201601955361) < 5e-3)
        func probabilities(_ t: Float) -> Matrix {
            var p = Matrix(rows: 200, cols: 10, storage: logits.map { $0 / t })
            Softmax.applyRows(&p)
            return p
        }
        #expect(abs(Metrics.expectedCalibrationError(probabilities(1), labels: y) - 0.07053351168112526) < 2e-3)
        #expect(abs(Metrics.expectedCalibrationError(probabilities(t), labels: y) - 0.029453594813746452) < 5e-3)
    }

    @Test func trainChoosesByCrossValidationAndCalibratesOutOfFold() {
        let y = Self.first200.y
        // Through Classifier.train on the raw rows: the deployed ensemble learns from all 200 labels,
        // every label has an out-of-fold prediction, and the choice is the grid cell with the best out-of-fold accuracy.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try! String(contentsOf: root.appendingPathComponent("datasets/digits/digits.jsonl"), encoding: .utf8)
        let vectors: [[Float]?] = text.split(separator: "\n").prefix(200).map { line in
            ((try! JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any])["vector"] as! [NSNumber]).map { $0.floatValue }
        }
        let (_, training) = Classifier.train(texts: [String?](repeating: nil, count: 200), vectors: vectors, labels: y, classes: 10,
                                             members: 3, seed: 1)
        #expect(training.folds == 5)
        #expect(training.scores.count == ModelSelection.standardGrid.count)
        let best = training.scores.max { a, b in a.accuracy != b.accuracy ? a.accuracy < b.accuracy : a.logLoss > b.logLoss }!
        #expect(training.c == best.c)
        let calibration = try! #require(training.calibration)
        #expect(calibration.heldOut == 200)
        #expect(calibration.applied == (calibration.eceAfter < calibration.eceBefore))
        #expect(calibration.temperature == (calibration.applied ? calibration.fitted : 1))
    }

    /// Held-out rows as new items, by hand. Columns' table frequencies [5, 2, 2];
    /// the fold holds row 0 {0: 0.6, 1: 0.8}, row 1 {1: 1}, row 2 {0: 0.8, 2: 0.6},
    /// so in-fold counts are [2, 2, 1] and without the fold [3, 0, 1].
    /// min df 1: column 1 goes (only in this fold); row 0 is {0: 1}, row 1 empty, row 2 unchanged.
    /// min df 2: column 2 goes too; row 2 is {0: 1}.
    @Test func heldOutRowsLoseTermsANewItemWouldNotHave() {
        var sparse = SparseMatrix(cols: 3)
        sparse.appendRow(columns: [0, 1] as [Int32], values: [0.6, 0.8] as [Float])
        sparse.appendRow(columns: [1] as [Int32], values: [1] as [Float])
        sparse.appendRow(columns: [0, 2] as [Int32], values: [0.8, 0.6] as [Float])
        let rows = FeatureMatrix(sparse: sparse, dense: nil)
        func cells(_ m: FeatureMatrix) -> [[Int32: Float]] {
            let s = m.sparse!
            return (0..<s.rows).map { r in
                Dictionary(uniqueKeysWithValues: (s.rowStart[r]..<s.rowStart[r + 1]).map { (s.columns[$0], s.values[$0]) })
            }
        }
        let one = cells(CrossValidation.heldOutAsNewItems(rows, documentFrequency: [5, 2, 2], minimum: 1))
        #expect(one.count == 3 && abs(one[0][0]! - 1) < 1e-6 && one[0].count == 1 && one[1].isEmpty && one[2] == [0: 0.8, 2: 0.6])
        let two = cells(CrossValidation.heldOutAsNewItems(rows, documentFrequency: [5, 2, 2], minimum: 2))
        #expect(abs(two[0][0]! - 1) < 1e-6 && two[1].isEmpty && two[2].count == 1 && abs(two[2][0]! - 1) < 1e-6)
    }

    /// The table frequencies read back from the smoothed IDF are the counts.
    @Test func documentFrequenciesComeBackFromTheIDF() {
        let texts: [String?] = ["apple pie", "apple tart", "apple pie crust", nil, "plum"]
        let f = Featurizer.fit(texts: texts, vectors: [[Float]?](repeating: nil, count: 5),
                               settings: FeaturizerSettings(maxNGram: 1, sublinearTF: true, minDocumentFrequency: 1))
        let df = f.documentFrequencies(tableItems: 5)
        let byTerm = Dictionary(uniqueKeysWithValues: zip(f.terms, df))
        let counted = f.transform(texts: texts, vectors: [[Float]?](repeating: nil, count: 5)).sparse!
        var expected = [Int](repeating: 0, count: f.textWidth)
        for c in counted.columns { expected[Int(c)] += 1 }
        #expect(df == expected && df.sorted() == [1, 1, 1, 2, 3] && byTerm.count == 5)
    }
}
