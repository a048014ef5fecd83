import QuorumNumerics

/// The pre-labelling engine's model: a featurizer plus a calibrated
/// ensemble, which together score raw items. This is what a model version stores.
public struct Classifier: Sendable, Equatable {
    public let featurizer: Featurizer
    public let ensemble: LogisticEnsemble

    public init(featurizer: Featurizer, ensemble: LogisticEnsemble) {
        self.featurizer = featurizer
        self.ensemble = ensemble
    }

    /// What calibration measured on out-of-fold predictions.
    public struct Calibration: Sendable, Equatable {
        /// The temperature deployed: the fitted one when it lowered the
        /// out-of-fold ECE (`applied`), else 1.
        public var temperature: Float
        /// The temperature that minimised the out-of-fold log-loss.
        public var fitted: Float
        public var applied: Bool
        /// "5-fold out-of-fold".
        public var scheme: String
        /// Labels with an out-of-fold prediction (all of them).
        public var heldOut: Int
        public var eceBefore: Double
        public var eceAfter: Double
        /// Confidence and correctness of the out-of-fold predictions, at the
        /// deployed temperature: what `--target-error` routing reads. They come
        /// from single fold models, each trained without the item's fold.
        public var reliability: Reliability?
    }

    /// How a model is calibrated.
    public enum CalibrationScheme: String, Sendable, CaseIterable {
        /// Temperature scaling fitted on out-of-fold predictions of the
        /// cross-validation that chose C; kept only where it lowers the
        /// out-of-fold ECE. The deployed ensemble learns from every label.
        case cv
        /// No calibration (T = 1).
        case none
    }

    /// What training chose, and what the choice was based on.
    public struct Training: Sendable, Equatable {
        public var c: Double
        public var features: FeaturizerSettings
        /// Folds of the cross-validation; 0 when there were too few labels for one.
        public var folds: Int
        /// Every cell of the search, in the order tried.
        public var scores: [SelectionScore]
        public var calibration: Calibration?
    }

    /// Items the vocabulary, IDF and vector scaling are learned from (no labels needed).
    public struct ItemTable: Sendable {
        public var texts: [String?]
        public var vectors: [[Float]?]
        public init(texts: [String?], vectors: [[Float]?]) {
            precondition(texts.count == vectors.count, "one text and one vector slot per item")
            self.texts = texts
            self.vectors = vectors
        }
    }

    /// Fits the featurizer and the ensemble, choosing C and the feature
    /// settings by stratified k-fold cross-validation on the labelled items,
    /// then calibrates with the out-of-fold predictions.
    ///
    /// 1. Features: vocabulary, IDF and vector scaling from `table` (else the
    ///    labelled items); the model keeps columns only for terms that occur
    ///    in labelled items (`Featurizer.restricted`).
    /// 2. Search: for each feature setting, the folds are fitted in lockstep
    ///    along the C grid, each C warm-started from the last. The winner has
    ///    the best out-of-fold accuracy, ties broken by log-loss.
    /// 3. Deploy: `members` members trained on every label at that C.
    /// 4. Calibrate: a temperature fitted on the out-of-fold logits, kept only
    ///    where it lowers their ECE.
    /// With fewer than `ModelSelection.minimumLabels` labels nothing is
    /// cross-validated: C = the fixed C or `ModelSelection.fallbackC`, T = 1.
    ///
    /// - Complexity: ≈ (feature settings × Σ_C folds-in-lockstep fits) + one ensemble fit.
    public static func train(texts: [String?], vectors: [[Float]?], labels: [Int], classes: Int,
                             table: ItemTable? = nil, members: Int = 5, seed: UInt64 = 1,
                             resampling: Resampling = .bayesian, selection: ModelSelection = .init(),
                             model modelSettings: LogisticRegressionSettings = .init(),
                             calibration scheme: CalibrationScheme = .cv) -> (Classifier, Training) {
        let design = ItemDesign(texts: texts, vectors: vectors, table: table, selection: selection)
        return fit(labels: labels, classes: classes, candidates: design.candidates, tableItems: design.tableItems, members: members,
                   seed: seed, resampling: resampling, selection: selection, model: modelSettings, calibration: scheme,
                   design: design.features)
    }

    /// The labelled items' features under each candidate setting: the
    /// vocabulary, IDF and vector scaling from the table, columns only for
    /// terms the labelled items have. Models that train several classifiers
    /// on the same items (one per label) build it once and share it.
    public struct ItemDesign {
        public let candidates: [FeaturizerSettings]
        public let tableItems: Int
        private let texts: [String?], vectors: [[Float]?], tableTexts: [String?], tableVectors: [[Float]?]

        public init(texts: [String?], vectors: [[Float]?], table: ItemTable?, selection: ModelSelection) {
            (self.texts, self.vectors) = (texts, vectors)
            (tableTexts, tableVectors) = (table?.texts ?? texts, table?.vectors ?? vectors)
            candidates = selection.featurizer.map { [$0] }
                ?? ModelSelection.featureCandidates(hasText: tableTexts.contains { $0 != nil },
                                                    tableTexts: tableTexts.lazy.filter { $0 != nil }.count)
            tableItems = tableTexts.count
        }

        /// - Complexity: O(table tokens + labelled tokens).
        public func features(_ settings: FeaturizerSettings) -> (Featurizer, FeatureMatrix) {
            let full = Featurizer.fit(texts: tableTexts, vectors: tableVectors, settings: settings)
            var active = Set<Int32>()
            if let sparse = full.transform(texts: texts, vectors: vectors).sparse { active.formUnion(sparse.columns) }
            let featurizer = full.restricted(toColumns: active.map(Int.init).sorted())
            return (featurizer, featurizer.transform(texts: texts, vectors: vectors))
        }
    }

    /// The search, the deployed ensemble and its calibration, on whatever rows
    /// `design` builds from a featurizer setting (the items' own features, or
    /// differences between two items' features for a preference).
    ///
    /// - Parameters:
    ///   - tableItems: the items the vocabulary was learned from, for reading
    ///     term frequencies back (`heldOutAsNewItems`); 0 to score held-out rows as they are.
    ///   - design: per feature setting, the featurizer and the labelled rows' features.
    /// - Complexity: ≈ (feature settings × Σ_C folds-in-lockstep fits) + one ensemble fit.
    public static func fit(labels: [Int], classes: Int, candidates: [FeaturizerSettings], tableItems: Int, members: Int = 5,
                           seed: UInt64 = 1, resampling: Resampling = .bayesian, selection: ModelSelection = .init(),
                           model modelSettings: LogisticRegressionSettings = .init(), calibration scheme: CalibrationScheme = .cv,
                           design: (FeaturizerSettings) -> (Featurizer, FeatureMatrix)) -> (Classifier, Training) {
        let n = labels.count
        let grid = selection.c.map { [$0] } ?? selection.cGrid
        let validate = n >= ModelSelection.minimumLabels && (grid.count > 1 || candidates.count > 1 || scheme == .cv)
        let foldCount = min(selection.folds, n)
        let foldOf = validate ? Folds.stratified(labels: labels, folds: foldCount, seed: seed ^ 0xF01D_5EED) : []

        struct Best { var score: SelectionScore; var featurizer: Featurizer; var x: FeatureMatrix
                      var logits: [Float]; var start: LogisticRegression? }
        var best: Best?
        var scores: [SelectionScore] = []
        for settings in candidates {
            let (featurizer, x) = design(settings)
            guard validate else {
                let c = selection.c ?? ModelSelection.fallbackC
                best = Best(score: SelectionScore(features: settings, c: c, accuracy: .nan, logLoss: .nan),
                            featurizer: featurizer, x: x, logits: [], start: nil)
                break
            }
            // Held-out items are scored as new items would be (see `heldOutAsNewItems`).
            let outOfTable = featurizer.textWidth > 0 && tableItems > 0
                ? (documentFrequency: featurizer.documentFrequencies(tableItems: tableItems), minimum: settings.minDocumentFrequency)
                : nil
            let path = CrossValidation.path(features: x, labels: labels, classes: classes, folds: foldOf, grid: grid,
                                            settings: modelSettings, outOfTable: outOfTable)
            for (ci, c) in grid.enumerated() {
                let score = SelectionScore(features: settings, c: c, accuracy: path.scores[ci].accuracy,
                                           logLoss: path.scores[ci].logLoss)
                scores.append(score)
                let better = best.map { b in
                    score.accuracy > b.score.accuracy + 1e-12
                        || (abs(score.accuracy - b.score.accuracy) <= 1e-12 && score.logLoss < b.score.logLoss)
                } ?? true
                if better {
                    best = Best(score: score, featurizer: featurizer, x: x, logits: path.outOfFoldLogits[ci],
                                start: path.foldModels[ci].first)
                }
            }
        }
        let chosen = best!
        var settings = modelSettings
        settings.c = chosen.score.c
        let ensemble = LogisticEnsemble.fit(features: chosen.x, labels: labels, classes: classes, count: members,
                                            seed: seed, resampling: resampling, settings: settings, start: chosen.start)
        var calibration: Calibration?
        if validate, scheme == .cv {
            let fitted = TemperatureScaling.fit(logits: chosen.logits, members: 1, labels: labels, classes: classes)
            func probabilities(_ t: Float) -> Matrix {
                var p = Matrix(rows: n, cols: classes, storage: chosen.logits)
                if t != 1 { BLAS.scale(&p.storage, by: 1 / t) }
                Softmax.applyRows(&p)
                return p
            }
            let before = probabilities(1), after = probabilities(fitted)
            let eceBefore = Metrics.expectedCalibrationError(before, labels: labels)
            let eceAfter = Metrics.expectedCalibrationError(after, labels: labels)
            let applied = eceAfter < eceBefore
            calibration = Calibration(temperature: applied ? fitted : 1, fitted: fitted, applied: applied,
                                      scheme: "\(foldCount)-fold out-of-fold", heldOut: n,
                                      eceBefore: eceBefore, eceAfter: eceAfter,
                                      reliability: Reliability(probabilities: applied ? after : before, labels: labels))
        }
        let deployed = calibration.map { ensemble.calibrated(temperature: $0.temperature) } ?? ensemble
        return (Classifier(featurizer: chosen.featurizer, ensemble: deployed),
                Training(c: chosen.score.c, features: chosen.score.features, folds: validate ? foldCount : 0,
                         scores: scores, calibration: calibration))
    }

    /// Member-major probabilities for raw items (see `LogisticEnsemble.memberProbabilities`).
    public func memberProbabilities(texts: [String?], vectors: [[Float]?]) -> [Float] {
        ensemble.memberProbabilities(featurizer.transform(texts: texts, vectors: vectors))
    }

    /// Mean class probabilities for raw items, scored in chunks so memory
    /// stays bounded by the chunk, whatever the pool size.
    ///
    /// - Complexity: O(members × n × features × classes).
    public func probabilities(texts: [String?], vectors: [[Float]?], chunk: Int = 16_384) -> Matrix {
        let k = ensemble.classes
        var out = Matrix(rows: texts.count, cols: k)
        var start = 0
        while start < texts.count {
            let end = min(start + chunk, texts.count)
            let p = ensemble.probabilities(featurizer.transform(texts: Array(texts[start..<end]), vectors: Array(vectors[start..<end])))
            out.storage.replaceSubrange((start * k)..<(end * k), with: p.storage)
            start = end
        }
        return out
    }
}

extension Classifier {
    /// Scores raw items in chunks: the calibrated mean probabilities and every
    /// uncertainty and disagreement measure, computed in one pass over each
    /// chunk's member probabilities. Memory is bounded by the chunk.
    ///
    /// - Complexity: O(members × n × (features + classes)).
    public func score(texts: [String?], vectors: [[Float]?], chunk: Int = 16_384) -> (probabilities: Matrix, measures: EnsembleMeasures) {
        let k = ensemble.classes, m = ensemble.members.count, n = texts.count
        var probabilities = Matrix(rows: n, cols: k)
        var measures = EnsembleMeasures(count: n)
        var start = 0
        var mean = Matrix(rows: min(chunk, n), cols: k)
        var part = EnsembleMeasures(count: min(chunk, n))
        while start < n {
            let end = min(start + chunk, n)
            let members = ensemble.memberProbabilities(featurizer.transform(texts: Array(texts[start..<end]),
                                                                            vectors: Array(vectors[start..<end])))
            members.withUnsafeBufferPointer { buffer in
                Ensemble.measures(members: buffer, memberCount: m, items: end - start, classes: k,
                                  range: 0..<(end - start), mean: &mean, into: &part)
            }
            probabilities.storage.replaceSubrange((start * k)..<(end * k), with: mean.storage[0..<((end - start) * k)])
            let c = end - start
            measures.predicted.replaceSubrange(start..<end, with: part.predicted[0..<c])
            measures.confidence.replaceSubrange(start..<end, with: part.confidence[0..<c])
            measures.margin.replaceSubrange(start..<end, with: part.margin[0..<c])
            measures.entropy.replaceSubrange(start..<end, with: part.entropy[0..<c])
            measures.voteEntropy.replaceSubrange(start..<end, with: part.voteEntropy[0..<c])
            measures.meanKL.replaceSubrange(start..<end, with: part.meanKL[0..<c])
            measures.mutualInformation.replaceSubrange(start..<end, with: part.mutualInformation[0..<c])
            start = end
        }
        return (probabilities, measures)
    }
}
