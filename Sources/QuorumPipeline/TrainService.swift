import Foundation
import QuorumCore
import QuorumModels
import QuorumNumerics
import QuorumStore

/// `quorum train`: fits the pre-labelling model on seed and consensus
/// labels, evaluates it on the test items, scores the pool, and records it
/// as the live model version.
public enum TrainService {
    public struct Options: Sendable {
        /// A fixed C; nil = chosen by cross-validation over `ModelSelection.standardGrid`.
        public var c: Double?
        /// Fixed feature settings; nil = chosen by cross-validation.
        public var features: FeaturizerSettings?
        public var members: Int
        public var seed: UInt64
        /// Record the model as the shadow: it scores the pool, but routing and sampling keep using the live model.
        public var shadow: Bool
        public var calibration: Classifier.CalibrationScheme
        public var resampling: Resampling
        /// With `shadow`: retire the current shadow model (else a second shadow is refused).
        public var replaceShadow: Bool
        public init(c: Double? = nil, features: FeaturizerSettings? = nil, members: Int = 5, seed: UInt64 = 1, shadow: Bool = false,
                    calibration: Classifier.CalibrationScheme = .cv, resampling: Resampling = .bayesian, replaceShadow: Bool = false) {
            self.resampling = resampling
            self.replaceShadow = replaceShadow
            self.c = c
            self.features = features
            self.members = members
            self.seed = seed
            self.shadow = shadow
            self.calibration = calibration
        }
    }

    public struct Summary: Sendable, Equatable {
        public var modelVersion: String
        public var shadow: Bool
        public var members: Int
        public var trainedOn: Int
        public var testItems: Int
        public var testAccuracy: Double?
        public var macroF1: Double?
        public var ece: Double?
        public var iterations: Int
        public var calibration: Classifier.Calibration?
        /// What cross-validation chose: C, the feature settings, the folds and every cell's scores.
        public var training: Classifier.Training
        public var scored: Int
        public var seconds: Double
        /// The feature settings' name, or "vectors" when the items have no text.
        public var featuresName: String
        /// Multi-label projects: micro F1 and Hamming loss on the test items, and each label's C and features.
        public var microF1: Double?
        public var hammingLoss: Double?
        public var perLabel: [LabelTraining] = []

        /// The contract's JSON shape for `train --format json`.
        public var json: JSONValue {
            .object([("model_version", .string(modelVersion)), ("shadow", .bool(shadow)), ("members", .int(members)),
                     ("test_accuracy", .number(testAccuracy)), ("macro_f1", .number(macroF1)), ("ece", .number(ece)),
                     ("seconds", .double(seconds)), ("trained_on", .int(trainedOn)),
                     ("c", .double(training.c)), ("features", .string(featuresName)),
                     ("folds", .int(training.folds)),
                     ("selection", .array(training.scores.map { $0.json(featuresName: featuresName == "vectors" ? "vectors" : nil) })),
                     ("test_items", .int(testItems)),
                     ("iterations", .int(iterations)), ("scored", .int(scored)),
                     ("calibration", calibration.map(\.json) ?? .null)]
                    + (perLabel.isEmpty ? [] : [("micro_f1", .number(microF1)), ("hamming_loss", .number(hammingLoss)),
                                                ("per_label", .array(perLabel.map(\.json)))]))
        }
    }

    /// What a model is trained and evaluated on, read in one read transaction.
    struct TrainingSet {
        var labels: LabelSet
        var task: TaskType = .single
        /// Seed items, then pool items with a settled consensus label.
        var train: [(item: StoredItem, label: String)]
        /// Pool and gold items: what annotators may be shown, scored after training.
        var scoreable: [StoredItem]
        var test: [StoredItem]
    }

    /// Reads the training set. Readers never block writers, so labelling goes on meanwhile.
    static func gather(_ r: any StoreReader) throws -> TrainingSet {
        let project = try r.project()
        let labels = project.labels
        var train = try r.items(kinds: [.seed]).map { ($0, $0.label!) }
        let consensus = try r.consensus()
        let scoreable = try r.items(kinds: [.pool, .gold])  // read once: training labels, then scoring
        for item in scoreable where item.kind == .pool {
            if let c = consensus[item.key], let label = c.label { train.append((item, label)) }
        }
        guard !train.isEmpty else {
            throw QuorumError(.state, "there are no labelled items to train on",
                              hint: "import labelled items with `quorum import FILE --as seed`, or label a round and close it")
        }
        if project.task == .preference {
            let choices = Set(train.map(\.1))
            guard choices.contains("a"), choices.contains("b") else {
                throw QuorumError(.state, "the preference model needs at least one pair answered a and one answered b (ties teach no direction)",
                                  hint: "import more labelled pairs with `quorum import FILE --as seed`, or label a round and close it")
            }
        }
        return TrainingSet(labels: labels, task: project.task, train: train, scoreable: scoreable, test: try r.items(kinds: [.test]))
    }

    /// A trained, evaluated and scored model, not yet recorded.
    struct Fitted {
        /// The single-label model; nil for a multi-label project's (`multiLabel`).
        var classifier: Classifier?
        var multiLabel: MultiLabelFit?
        var preference: PreferenceModel?
        var training: Classifier.Training
        var trainedOn: Int
        var testItems: Int
        var accuracy: Double?, macroF1: Double?, ece: Double?
        var perClass: [(label: String, figures: Metrics.ClassFigures)] = []
        var predictions: [Prediction]
        var started: Double
    }

    /// Trains, evaluates on the test items and scores the pool, outside any
    /// transaction: the slow part of `train` and `round close`.
    static func fit(_ set: TrainingSet, options: Options) -> Fitted {
        if set.task == .multiLabel { return fitMultiLabel(set, options: options) }
        if set.task == .preference { return fitPreference(set, options: options) }
        let started = monotonicSeconds()
        let labels = set.labels
        let y = set.train.map { labels.index(of: $0.label)! }
        // Vocabulary, IDF and vector scaling come from the item table (seed and pool, never test or gold).
        let table = set.train.filter { $0.item.kind == .seed }.map(\.item) + set.scoreable.filter { $0.kind == .pool }
        let (classifier, training) = Classifier.train(
            texts: set.train.map { $0.item.text }, vectors: set.train.map { $0.item.vector }, labels: y, classes: labels.count,
            table: Classifier.ItemTable(texts: table.map(\.text), vectors: table.map(\.vector)),
            members: options.members, seed: options.seed, resampling: options.resampling,
            selection: ModelSelection(c: options.c, featurizer: options.features), calibration: options.calibration)
        var fitted = Fitted(classifier: classifier, training: training, trainedOn: set.train.count, testItems: set.test.count,
                            predictions: set.scoreable.isEmpty ? [] : predictions(classifier, set.scoreable), started: started)
        if !set.test.isEmpty {
            let p = classifier.probabilities(texts: set.test.map(\.text), vectors: set.test.map(\.vector))
            let truth = set.test.map { labels.index(of: $0.label!)! }
            fitted.accuracy = Metrics.accuracy(p, labels: truth)
            fitted.macroF1 = Metrics.macroF1(p, labels: truth)
            fitted.ece = Metrics.expectedCalibrationError(p, labels: truth)
            fitted.perClass = Array(zip(labels.names, Metrics.perClass(p, labels: truth)))
        }
        return fitted
    }

    /// Trains and records a model inside the caller's transaction (for callers that must; `run` does not).
    static func train(_ w: any StoreWriter, options: Options) throws -> Summary {
        try record(w, fit(try gather(w), options: options), options: options)
    }

    /// Records a fitted model and its predictions: the short write at the end of training.
    static func record(_ w: any StoreWriter, _ fitted: Fitted, options: Options) throws -> Summary {
        guard let classifier = fitted.classifier else {
            return fitted.preference != nil ? try recordPreference(w, fitted, options: options) : try recordMultiLabel(w, fitted, options: options)
        }
        let training = fitted.training
        let (accuracy, macroF1, ece) = (fitted.accuracy, fitted.macroF1, fitted.ece)
        let calibration = training.calibration
        let featurizerSettings = training.features
        // Record the model, then the scores of what annotators may be shown.
        let id = try w.nextModelID()
        let settings = JSONValue.object([
            ("model", .string("ensemble of multinomial logistic regressions, each on a bootstrap resample")),
            ("optimizer", .string("L-BFGS")), ("C", .double(training.c)), ("c", .double(training.c)),
            ("c_chosen_by", .string(options.c == nil && training.folds > 0 ? "\(training.folds)-fold cross-validation" : "fixed")),
            ("features", .string(classifier.featurizer.hasText ? featurizerSettings.name : "vectors")), ("members", .int(options.members)),
            ("seed", .int(Int(truncatingIfNeeded: options.seed))),
            ("temperature", .double(Double(classifier.ensemble.temperature))),
            ("calibration", .string(options.calibration.rawValue)), ("bootstrap", .string(options.resampling.rawValue)),
            ("featurizer", .object([
                ("description", .string(featurizerSettings.summary)), ("max_ngram", .int(featurizerSettings.maxNGram)),
                ("sublinear_tf", .bool(featurizerSettings.sublinearTF)),
                ("min_df", .int(featurizerSettings.minDocumentFrequency)),
                ("vocabulary", .int(classifier.featurizer.textWidth + classifier.featurizer.normTerms.count)),
                ("columns", .int(classifier.featurizer.textWidth)), ("vector_dimensions", .int(classifier.featurizer.vectorWidth)),
            ])),
        ])
        let metrics = JSONValue.object([
            ("test_accuracy", .number(accuracy)), ("macro_f1", .number(macroF1)), ("ece", .number(ece)),
            ("test_items", .int(fitted.testItems)),
            ("per_class", fitted.perClass.isEmpty ? .null : .array(fitted.perClass.map { name, c in
                .object([("label", .string(name)), ("precision", .number(c.precision)), ("recall", .number(c.recall)),
                         ("f1", .number(c.f1)), ("support", .int(c.support))])
            })),
            ("iterations", .int(classifier.ensemble.members.map(\.iterations).max() ?? 0)),
            ("converged", .bool(classifier.ensemble.members.allSatisfy(\.converged))),
            ("calibration", calibration.map(\.json) ?? .null),
            ("selection", .array(training.scores.map { $0.json(featuresName: classifier.featurizer.hasText ? nil : "vectors") })),
            ("reliability", calibration?.reliability?.json ?? .null),
        ])
        try w.insertModel(ModelVersion(id: id, createdAt: Timestamp.format(w.now), kind: "logistic-regression",
                                       settingsJSON: settings.serialized(), trainedOn: fitted.trainedOn,
                                       metricsJSON: metrics.serialized(), state: classifier.encoded(),
                                       isLive: !options.shadow, isShadow: options.shadow))
        if !fitted.predictions.isEmpty { try w.insertPredictions(model: id, fitted.predictions) }
        let scored = fitted.predictions.count
        let summary = Summary(modelVersion: id, shadow: options.shadow, members: options.members, trainedOn: fitted.trainedOn, testItems: fitted.testItems,
                              testAccuracy: accuracy, macroF1: macroF1, ece: ece,
                              iterations: classifier.ensemble.members.map(\.iterations).max() ?? 0,
                              calibration: calibration, training: training,
                              scored: scored, seconds: monotonicSeconds() - fitted.started,
                              featuresName: classifier.featurizer.hasText ? featurizerSettings.name : "vectors")
        try w.appendEvent(EventRecord(kind: "train", modelVersion: id, detailJSON: summary.json.serialized()))
        return summary
    }

    /// The classifier's predictions for `items`, with their measures.
    static func predictions(_ classifier: Classifier, _ items: [StoredItem]) -> [Prediction] {
        predictions(items, scored: classifier.score(texts: items.map(\.text), vectors: items.map(\.vector)))
    }

    /// One prediction per item from a model's scores (`probabilities` items × k, and its measures).
    static func predictions(_ items: [StoredItem], scored: (probabilities: Matrix, measures: EnsembleMeasures)) -> [Prediction] {
        let (p, m) = scored
        let k = p.cols
        return items.enumerated().map { i, item in
            Prediction(itemKey: item.key, probabilities: Array(p.storage[(i * k)..<((i + 1) * k)]),
                       measures: PredictionMeasures(label: Int(m.predicted[i]), confidence: m.confidence[i], margin: m.margin[i],
                                                    entropy: m.entropy[i], voteEntropy: m.voteEntropy[i], meanKL: m.meanKL[i],
                                                    mutualInformation: m.mutualInformation[i]))
        }
    }

    /// `quorum train`: reads the labels, trains outside any transaction (so
    /// annotators labelling meanwhile are never held up), then records the
    /// model in one short write.
    public static func run(store: any ProjectStore, options: Options) throws -> Summary {
        let set = try store.read { r in
            if options.shadow { try ModelService.requireShadowSlot(r, replacing: options.replaceShadow) }
            return try gather(r)
        }
        let fitted = fit(set, options: options)
        return try store.writePatiently { w in
            if options.shadow { try ModelService.requireShadowSlot(w, replacing: options.replaceShadow) }
            return try record(w, fitted, options: options)
        }
    }
}

extension Reliability {
    /// Stored with the model version: confidences (4 decimals) and 0/1 correctness, most confident first.
    var json: JSONValue {
        .object([("confidence", .array(confidences.map { .double((Double($0) * 10_000).rounded() / 10_000) })),
                 ("correct", .array(correct.map { .int($0 ? 1 : 0) }))])
    }

    /// Reads `json` back from a model version's metrics: nil when the model
    /// has no reliability record (e.g. imported predictions); a malformed
    /// record is a failed check.
    static func stored(in model: ModelVersion) throws(QuorumError) -> Reliability? {
        let metrics = try StoredJSON.object(model.metricsJSON, "metrics of model \(model.id)")
        guard let r = metrics["reliability"], !(r is NSNull) else { return nil }
        guard let r = r as? [String: Any], let c = r["confidence"] as? [Double], let ok = r["correct"] as? [Int], c.count == ok.count else {
            throw QuorumError(.failedCheck, "the stored reliability record of model \(model.id) is malformed",
                              hint: "the project database was modified outside Quorum; retrain with `quorum train`")
        }
        return Reliability(confidences: c.map { Float($0) }, correct: ok.map { $0 == 1 })
    }
}

extension Classifier.Calibration {
    /// As recorded with the model version: temperature, scheme, ECE before and after (15 bins).
    public var json: JSONValue {
        .object([("temperature", .double(Double(temperature))), ("fitted_temperature", .double(Double(fitted))),
                 ("applied", .bool(applied)), ("scheme", .string(scheme)), ("held_out", .int(heldOut)),
                 ("ece_before", .double(eceBefore)), ("ece_after", .double(eceAfter))])
    }
}

extension SelectionScore {
    /// One cell of the cross-validated search, as `train --format json` shows
    /// it. `featuresName` replaces the text settings' name (with "vectors" for
    /// items that have no text, whose text settings do not apply).
    public func json(featuresName: String? = nil) -> JSONValue {
        .object([("features", .string(featuresName ?? features.name)), ("c", .double(c)),
                 ("accuracy", .double((accuracy * 1e6).rounded() / 1e6)), ("log_loss", .double((logLoss * 1e6).rounded() / 1e6))])
    }
}
