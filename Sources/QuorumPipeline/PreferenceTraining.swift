import Foundation
import QuorumCore
import QuorumModels
import QuorumNumerics
import QuorumStore

extension TrainService {
    /// Trains a preference project's model: a Bradley–Terry scorer on the
    /// responses' TF-IDF features (`PreferenceModel`: p(a ≻ b) = σ(w·(φ(a) − φ(b))),
    /// C and features by cross-validation, out-of-fold temperature; ties are left
    /// out of training). Test accuracy is over the test pairs answered a or b.
    /// The pool's predictions are [p(a), p(b), 0] over the labels a, b, tie.
    ///
    /// - Complexity: that of `Classifier.fit` on the non-tie pairs.
    static func fitPreference(_ set: TrainingSet, options: Options) -> Fitted {
        let started = monotonicSeconds()
        let pairs = set.train.compactMap { row in PreferencePair(row.item).map { ($0, PreferenceModel.Choice(rawValue: row.label) ?? .tie) } }
        var table: [String] = []
        for item in set.train.map(\.item).filter({ $0.kind == .seed }) + set.scoreable.filter({ $0.kind == .pool }) {
            if let pair = PreferencePair(item) { table += [pair.a, pair.b] }
        }
        let (model, training) = PreferenceModel.train(
            a: pairs.map(\.0.a), b: pairs.map(\.0.b), choices: pairs.map(\.1), table: table, members: options.members, seed: options.seed,
            selection: ModelSelection(c: options.c, featurizer: options.features), calibration: options.calibration)
        var fitted = Fitted(classifier: nil, preference: model, training: training, trainedOn: set.train.count, testItems: set.test.count,
                            predictions: set.scoreable.isEmpty ? [] : predictions(model, set.scoreable), started: started)
        let decided = set.test.compactMap { item -> (PreferencePair, Int)? in
            guard let pair = PreferencePair(item), let label = item.label, label != "tie" else { return nil }
            return (pair, label == "a" ? 0 : 1)
        }
        if !decided.isEmpty {
            let p = model.probabilityAPreferred(a: decided.map(\.0.a), b: decided.map(\.0.b))
            var m = Matrix(rows: p.count, cols: 2)
            for (i, value) in p.enumerated() { m.storage[2 * i] = Float(value); m.storage[2 * i + 1] = Float(1 - value) }
            let truth = decided.map(\.1)
            fitted.accuracy = Metrics.accuracy(m, labels: truth)
            fitted.macroF1 = Metrics.macroF1(m, labels: truth)
            fitted.ece = Metrics.expectedCalibrationError(m, labels: truth)
        }
        return fitted
    }

    /// A preference model's predictions over (a, b, tie): [p, 1 − p, 0] with
    /// p = p(a ≻ b); confidence max(p, 1 − p), margin |2p − 1|. Items without both responses are not scored.
    static func predictions(_ model: PreferenceModel, _ items: [StoredItem]) -> [Prediction] {
        let scored = items.compactMap { item in PreferencePair(item).map { (item, $0) } }
        let p = model.probabilityAPreferred(a: scored.map(\.1.a), b: scored.map(\.1.b))
        return zip(scored, p).map { row, value in
            let pa = Float(value), pb = Float(1 - value)
            let entropy = -[pa, pb].reduce(Float(0)) { $0 + ($1 > 0 ? $1 * log($1) : 0) }
            return Prediction(itemKey: row.0.key, probabilities: [pa, pb, 0],
                              measures: PredictionMeasures(label: pa >= pb ? 0 : 1, confidence: max(pa, pb), margin: abs(pa - pb),
                                                           entropy: entropy, voteEntropy: 0, meanKL: 0, mutualInformation: 0))
        }
    }

    /// Records a fitted preference model and its predictions.
    static func recordPreference(_ w: any StoreWriter, _ fitted: Fitted, options: Options) throws -> Summary {
        guard let model = fitted.preference else { preconditionFailure("recordPreference needs a preference fit") }
        let training = fitted.training
        let settings = JSONValue.object([
            ("model", .string("Bradley–Terry: p(a ≻ b) = σ(w·(φ(a) − φ(b))), an ensemble of logistic regressions without bias on feature differences")),
            ("optimizer", .string("L-BFGS")), ("c", .double(training.c)),
            ("c_chosen_by", .string(options.c == nil && training.folds > 0 ? "\(training.folds)-fold cross-validation" : "fixed")),
            ("features", .string(training.features.name)), ("members", .int(options.members)),
            ("seed", .int(Int(truncatingIfNeeded: options.seed))),
            ("temperature", .double(Double(model.classifier.ensemble.temperature))),
            ("calibration", .string(options.calibration.rawValue)),
        ])
        // The out-of-fold reliability record lets rounds route at a target error (`--target-error`).
        return try recordTaskModel(w, fitted, options: options, settings: settings, state: model.encoded(),
                                   members: model.classifier.ensemble.members, featuresName: training.features.name,
                                   calibration: training.calibration)
    }
}
