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

    /// What calibration measured on held-out labels.
    public struct Calibration: Sendable, Equatable {
        public var temperature: Float
        /// "holdout 20%" or "5-fold".
        public var scheme: String
        public var heldOut: Int
        public var eceBefore: Double
        public var eceAfter: Double
        /// Calibrated confidence and correctness of the deployed model on the
        /// held-out labels; nil when the labels were too few to hold any out
        /// (then only the temperature was cross-validated).
        public var reliability: Reliability?
    }

    /// How a model is calibrated, and what it learns from.
    public enum CalibrationScheme: String, Sendable, CaseIterable {
        /// Hold out a seeded 20% (from 100 labels on): the deployed ensemble
        /// learns from the other 80%, and the temperature and reliability curve
        /// are fitted on the held-out labels with that very ensemble. The
        /// safest basis for `--target-error`; costs the held-out labels' accuracy.
        case holdout
        /// The same held-out fit, then the ensemble is refitted on every label
        /// with that temperature. More accurate; the reliability curve describes
        /// the 80% model, so routing estimates are slightly optimistic.
        case refit
        /// No calibration (T = 1); the ensemble learns from every label.
        case none
    }

    /// Fits featurizer and ensemble on labelled items, then calibrates.
    ///
    /// With 20 to 99 labels (too few to hold any out) the temperature comes
    /// from 5-fold out-of-fold predictions, the ensemble learns from every
    /// label, and no reliability curve is kept. With fewer than 20, T = 1.
    ///
    /// - Complexity: ≈ 1× (holdout), 1.8× (refit) or up to 6× (5-fold) the cost of fitting the ensemble.
    public static func train(texts: [String?], vectors: [[Float]?], labels: [Int], classes: Int,
                             members: Int = 5, seed: UInt64 = 1, resampling: Resampling = .bayesian,
                             featurizer settings: FeaturizerSettings = .init(),
                             model modelSettings: LogisticRegressionSettings = .init(),
                             calibration scheme: CalibrationScheme = .holdout) -> (Classifier, Calibration?) {
        func fit(_ rows: [Int]) -> Classifier {
            let t = rows.map { texts[$0] }, v = rows.map { vectors[$0] }
            let featurizer = Featurizer.fit(texts: t, vectors: v, settings: settings)
            let ensemble = LogisticEnsemble.fit(features: featurizer.transform(texts: t, vectors: v),
                                                labels: rows.map { labels[$0] }, classes: classes,
                                                count: members, seed: seed, resampling: resampling,
                                                settings: modelSettings)
            return Classifier(featurizer: featurizer, ensemble: ensemble)
        }
        let all = Array(labels.indices)
        guard scheme != .none, labels.count >= 20 else { return (fit(all), nil) }
        var order = all
        var rng = SeededGenerator(seed: seed ^ 0xCA11_B8A7)
        order.shuffle(using: &rng)
        let holdout = labels.count >= 100
        let heldOutParts: [[Int]] = holdout
            ? [Array(order.prefix(labels.count / 5))]
            : (0..<5).map { f in order.enumerated().filter { $0.offset % 5 == f }.map(\.element) }
        var logits: [[Float]] = Array(repeating: [], count: members)  // per member, held-out rows in order
        var heldLabels: [Int] = []
        var deployed: Classifier?
        for part in heldOutParts {
            let held = Set(part)
            let model = fit(all.filter { !held.contains($0) })
            let x = model.featurizer.transform(texts: part.map { texts[$0] }, vectors: part.map { vectors[$0] })
            for (m, member) in model.ensemble.members.enumerated() { logits[m] += member.logits(x).storage }
            heldLabels += part.map { labels[$0] }
            if holdout { deployed = model }
        }
        let flat = logits.flatMap { $0 }
        let temperature = TemperatureScaling.fit(logits: flat, members: members, labels: heldLabels, classes: classes)
        func heldOutProbabilities(_ t: Float) -> Matrix {
            var p = flat
            let n = heldLabels.count
            for m in 0..<members {
                var block = Matrix(rows: n, cols: classes, storage: Array(p[(m * n * classes)..<((m + 1) * n * classes)]))
                if t != 1 { BLAS.scale(&block.storage, by: 1 / t) }
                Softmax.applyRows(&block)
                p.replaceSubrange((m * n * classes)..<((m + 1) * n * classes), with: block.storage)
            }
            return LogisticEnsemble.mean(p, members: members, rows: n, classes: classes)
        }
        let before = heldOutProbabilities(1), after = heldOutProbabilities(temperature)
        let calibration = Calibration(temperature: temperature,
                                      scheme: holdout ? (scheme == .refit ? "holdout 20%, refit on all" : "holdout 20%") : "5-fold",
                                      heldOut: heldLabels.count,
                                      eceBefore: Metrics.expectedCalibrationError(before, labels: heldLabels),
                                      eceAfter: Metrics.expectedCalibrationError(after, labels: heldLabels),
                                      reliability: holdout ? Reliability(probabilities: after, labels: heldLabels) : nil)
        let model = scheme == .refit ? fit(all) : (deployed ?? fit(all))
        return (Classifier(featurizer: model.featurizer, ensemble: model.ensemble.calibrated(temperature: temperature)), calibration)
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
