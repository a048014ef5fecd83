import Foundation
import QuorumCore
import QuorumModels
import QuorumNumerics
import QuorumStore

/// A model version's model, whichever task type trained it.
enum TrainedModel {
    case single(Classifier)
    case multiLabel(MultiLabelClassifier)
    case preference(PreferenceModel)

    /// Decodes a stored model; nil for imported predictions (no model state).
    init?(encoded bytes: [UInt8]) {
        if let c = Classifier(encoded: bytes) { self = .single(c) } else if let m = MultiLabelClassifier(encoded: bytes) {
            self = .multiLabel(m)
        } else if let p = PreferenceModel(encoded: bytes) {
            self = .preference(p)
        } else { return nil }
    }

    /// The single-label classifier; nil for a multi-label model.
    var classifier: Classifier? {
        if case .single(let c) = self { return c }
        return nil
    }

    /// A featurizer over the item table's vocabulary, for embeddings and evidence
    /// (a multi-label model's first label's: every label learns its vocabulary from the same table).
    var featurizer: Featurizer {
        switch self {
        case .single(let c): c.featurizer
        case .multiLabel(let m): m.perLabel[0].featurizer
        case .preference(let p): p.classifier.featurizer
        }
    }

    /// The model's predictions for `items`, with their measures.
    func predictions(_ items: [StoredItem]) -> [Prediction] {
        switch self {
        case .single(let c): return TrainService.predictions(c, items)
        case .multiLabel(let m): return TrainService.predictions(m, items)
        case .preference(let p): return TrainService.predictions(p, items)
        }
    }
}

/// One label's share of a multi-label model: its chosen C and features.
public struct LabelTraining: Sendable, Equatable {
    public var label: String
    public var training: Classifier.Training
    /// The features' name, or "vectors" for items without text.
    public var featuresName: String

    var json: JSONValue {
        .object([("label", .string(label)), ("c", .double(training.c)), ("features", .string(featuresName)),
                 ("folds", .int(training.folds)), ("temperature", .number(training.calibration.map { Double($0.temperature) }))])
    }
}

/// A fitted multi-label model, with what each label's cross-validation chose and the test figures.
struct MultiLabelFit {
    var model: MultiLabelClassifier
    var perLabel: [LabelTraining]
    var microF1: Double?
    var hammingLoss: Double?
}

extension TrainService {
    /// Trains a multi-label project's model: one calibrated ensemble per label
    /// (`MultiLabelClassifier`), each with its own C and features chosen by
    /// cross-validation; evaluates it on the test items (exact-set accuracy as
    /// `test_accuracy`, micro and macro F1, Hamming loss, and the ECE of every
    /// (item, label) decision); scores the pool.
    ///
    /// - Complexity: labels × the single-label `fit`.
    static func fitMultiLabel(_ set: TrainingSet, options: Options) -> Fitted {
        let started = monotonicSeconds()
        let labels = set.labels
        let sets = set.train.map { Set(LabelSetText.indices($0.label, labels: labels) ?? []) }
        let table = set.train.filter { $0.item.kind == .seed }.map(\.item) + set.scoreable.filter { $0.kind == .pool }
        let (model, trainings) = MultiLabelClassifier.train(
            texts: set.train.map { $0.item.text }, vectors: set.train.map { $0.item.vector }, labelSets: sets, labels: labels.count,
            table: Classifier.ItemTable(texts: table.map(\.text), vectors: table.map(\.vector)),
            members: options.members, seed: options.seed,
            selection: ModelSelection(c: options.c, featurizer: options.features), calibration: options.calibration)
        let perLabel = zip(labels.names, zip(trainings, model.perLabel)).map { name, pair in
            LabelTraining(label: name, training: pair.0, featuresName: pair.1.featurizer.hasText ? pair.0.features.name : "vectors")
        }
        var fit = MultiLabelFit(model: model, perLabel: perLabel)
        // The summary's C and features: the most common choice over the labels (ties: the first label's).
        let common = trainings.max { a, b in
            trainings.filter { $0.c == a.c && $0.features == a.features }.count < trainings.filter { $0.c == b.c && $0.features == b.features }.count
        }!
        var fitted = Fitted(classifier: nil, multiLabel: nil, training: common, trainedOn: set.train.count, testItems: set.test.count,
                            predictions: set.scoreable.isEmpty ? [] : predictions(model, set.scoreable), started: started)
        if !set.test.isEmpty {
            let p = model.probabilities(texts: set.test.map(\.text), vectors: set.test.map(\.vector))
            let truth = set.test.map { Set(LabelSetText.indices($0.label!, labels: labels) ?? []) }
            let predicted = MultiLabelClassifier.predicted(p)
            let scores = MultiLabelMetrics.scores(predicted: predicted, truth: truth, labels: labels.count)
            fitted.accuracy = Double(zip(predicted, truth).filter { $0 == $1 }.count) / Double(truth.count)
            fitted.macroF1 = scores.macroF1
            fit.microF1 = scores.microF1
            fit.hammingLoss = scores.hammingLoss
            // Every (item, label) decision as a two-class prediction.
            var pairs = Matrix(rows: p.rows * p.cols, cols: 2)
            var applies = [Int](repeating: 0, count: p.rows * p.cols)
            for i in 0..<p.rows {
                for j in 0..<p.cols {
                    let r = i * p.cols + j
                    pairs.storage[r * 2 + 1] = p.storage[r]
                    pairs.storage[r * 2] = 1 - p.storage[r]
                    applies[r] = truth[i].contains(j) ? 1 : 0
                }
            }
            fitted.ece = Metrics.expectedCalibrationError(pairs, labels: applies)
        }
        fitted.multiLabel = fit
        return fitted
    }

    /// A multi-label model's predictions: per label P(applies), with the item-level
    /// measures of `MultiLabelClassifier.score` (the least sure label's confidence,
    /// the mean two-class margin, committee measures averaged over labels).
    static func predictions(_ model: MultiLabelClassifier, _ items: [StoredItem]) -> [Prediction] {
        predictions(items, scored: model.score(texts: items.map(\.text), vectors: items.map(\.vector)))
    }

    /// Records a fitted multi-label model and its predictions.
    static func recordMultiLabel(_ w: any StoreWriter, _ fitted: Fitted, options: Options) throws -> Summary {
        guard let fit = fitted.multiLabel else { preconditionFailure("recordMultiLabel needs a multi-label fit") }
        let featuresName = fit.model.perLabel[0].featurizer.hasText ? fitted.training.features.name : "vectors"
        let settings = JSONValue.object([
            ("model", .string("one-vs-rest: per label, an ensemble of two-class logistic regressions, each on a bootstrap resample")),
            ("optimizer", .string("L-BFGS")), ("c", .double(fitted.training.c)),
            ("c_chosen_by", .string(options.c == nil && fitted.training.folds > 0 ? "\(fitted.training.folds)-fold cross-validation, per label" : "fixed")),
            ("features", .string(featuresName)), ("members", .int(options.members)),
            ("seed", .int(Int(truncatingIfNeeded: options.seed))),
            ("calibration", .string(options.calibration.rawValue)), ("bootstrap", .string(options.resampling.rawValue)),
            ("per_label", .array(fit.perLabel.map(\.json))),
        ])
        var summary = try recordTaskModel(w, fitted, options: options, settings: settings, state: fit.model.encoded(),
                                          members: fit.model.perLabel.flatMap(\.ensemble.members), featuresName: featuresName,
                                          extraMetrics: [("micro_f1", .number(fit.microF1)), ("hamming_loss", .number(fit.hammingLoss))])
        summary.microF1 = fit.microF1
        summary.hammingLoss = fit.hammingLoss
        summary.perLabel = fit.perLabel
        return summary
    }

    /// Records a multi-label or preference model version (`settings`, `state`)
    /// with its test figures and the pool's predictions, and the train event.
    static func recordTaskModel(_ w: any StoreWriter, _ fitted: Fitted, options: Options, settings: JSONValue, state: [UInt8],
                                members: [LogisticRegression], featuresName: String,
                                extraMetrics: [(String, JSONValue)] = [], calibration: Classifier.Calibration? = nil) throws -> Summary {
        let id = try w.nextModelID()
        let metrics = JSONValue.object([
            ("test_accuracy", .number(fitted.accuracy)), ("macro_f1", .number(fitted.macroF1))] + extraMetrics + [
            ("ece", .number(fitted.ece)), ("test_items", .int(fitted.testItems)),
            ("iterations", .int(members.map(\.iterations).max() ?? 0)), ("converged", .bool(members.allSatisfy(\.converged))),
            ("calibration", calibration.map(\.json) ?? .null), ("reliability", calibration?.reliability?.json ?? .null),
        ])
        try w.insertModel(ModelVersion(id: id, createdAt: Timestamp.format(w.now), kind: "logistic-regression",
                                       settingsJSON: settings.serialized(), trainedOn: fitted.trainedOn,
                                       metricsJSON: metrics.serialized(), state: state,
                                       isLive: !options.shadow, isShadow: options.shadow))
        if !fitted.predictions.isEmpty { try w.insertPredictions(model: id, fitted.predictions) }
        var summary = Summary(modelVersion: id, shadow: options.shadow, members: options.members, trainedOn: fitted.trainedOn,
                              testItems: fitted.testItems, testAccuracy: fitted.accuracy, macroF1: fitted.macroF1, ece: fitted.ece,
                              iterations: members.map(\.iterations).max() ?? 0, calibration: calibration, training: fitted.training,
                              scored: fitted.predictions.count, seconds: monotonicSeconds() - fitted.started, featuresName: featuresName)
        if let fit = fitted.multiLabel { summary.microF1 = fit.microF1; summary.hammingLoss = fit.hammingLoss; summary.perLabel = fit.perLabel }
        try w.appendEvent(EventRecord(kind: "train", modelVersion: id, detailJSON: summary.json.serialized()))
        return summary
    }
}
