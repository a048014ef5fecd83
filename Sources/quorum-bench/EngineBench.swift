// The pre-labelling engine against scikit-learn (issue "Pre-labelling engine";
// experiments/engine/). Trains on one labelled file, scores another, through
// `Classifier.train` exactly as `quorum train` does (same row order, seed and
// settings), in up to three configurations:
//
//   a  --members 1, calibrated (holdout 20% when ≥ 100 labels: learns from 80%)
//   b  the default 5-member bootstrap ensemble, calibrated the same way
//   c  one model on 100% of the training rows, no calibration (T = 1): the
//      like-for-like comparison with scikit-learn's LogisticRegression
//
// For each it reports test accuracy and the test ECE (15 bins) both with the
// fitted temperature and with T = 1, which `quorum train` cannot show.
//
// `--dump FILE` also writes the rows configurations a and b learned from (the
// calibration holdout replicated from `Classifier.train`) and member m's
// bootstrap counts over them, so scikit-learn can be fitted on exactly the
// same rows and weights; the replication is checked against the models fitted
// above (`replication_check`: a's model bit-identical; b's member 0 against a
// lone weighted fit, by prediction agreement and weight difference).
import Glibc
import QuorumImport
import QuorumModels
import QuorumNumerics

enum EngineBench {
    struct Rows {
        var texts: [String?] = []
        var vectors: [[Float]?] = []
        var labels: [Int] = []
    }

    /// Reads a JSONL/CSV item file (fields `id`, `text`, `vector`, `label`), in file order.
    static func load(_ path: String, labels: [String]) throws -> Rows {
        let index = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($0.element, $0.offset) })
        let reader = try ItemFileReader(path: path, mapping: FieldMapping())
        var record = ItemRecord()
        var rows = Rows()
        while try reader.next(into: &record) {
            guard let text = record.label, let label = index[text] else {
                throw BenchUsageError(message: "\(path):\(record.line): label \(record.label ?? "null") is not one of --labels")
            }
            rows.texts.append(record.text)
            rows.vectors.append(record.hasVector ? record.vector : nil)
            rows.labels.append(label)
        }
        return rows
    }

    static func run(_ options: BenchOptions) throws -> JSONOut {
        let trainPath = try options.required("train"), testPath = try options.required("test")
        let labels = try options.required("labels").split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let cText = options.string("c") ?? "1.0"
        guard let c = Double(cText), c > 0 else { throw BenchUsageError(message: "--c must be a positive number") }
        let members = try options.int("members", default: 5)
        let seed = UInt64(try options.int("seed", default: 1))
        let repeats = try options.int("repeats", default: 1)
        let configs = (options.string("configs") ?? "a,b,c").split(separator: ",").map(String.init)
        var settings = LogisticRegressionSettings(c: c)
        if options.string("max-iter") != nil { settings.maxIterations = try options.int("max-iter", default: 500) }

        let train = try load(trainPath, labels: labels)
        let test = try load(testPath, labels: labels)
        let load = loadAverage()

        var results: [JSONOut] = []
        var fitted: [String: Classifier] = [:]
        for config in configs {
            let (m, scheme): (Int, Classifier.CalibrationScheme)
            switch config {
            case "a": (m, scheme) = (1, .holdout)
            case "b": (m, scheme) = (members, .holdout)
            case "c": (m, scheme) = (1, .none)
            default: throw BenchUsageError(message: "--configs: unknown configuration \"\(config)\" (a, b or c)")
            }
            var fitSeconds: [Double] = []
            var trained: (Classifier, Classifier.Calibration?)?
            for _ in 0..<repeats {
                let t0 = now()
                trained = Classifier.train(texts: train.texts, vectors: train.vectors, labels: train.labels,
                                           classes: labels.count, members: m, seed: seed,
                                           featurizer: FeaturizerSettings(), model: settings, calibration: scheme)
                fitSeconds.append(now() - t0)
            }
            let (model, calibration) = trained!
            fitted[config] = model
            let t0 = now()
            let p = model.probabilities(texts: test.texts, vectors: test.vectors)
            let predictSeconds = now() - t0
            let raw = Classifier(featurizer: model.featurizer, ensemble: model.ensemble.calibrated(temperature: 1))
                .probabilities(texts: test.texts, vectors: test.vectors)
            let ensemble = model.ensemble
            var fields: [(String, JSONOut)] = [
                ("config", .string(config)), ("members", .int(m)), ("calibration_scheme", .string(scheme.rawValue)),
                ("fitted_on", .int(train.labels.count - (calibration?.reliability == nil ? 0 : calibration!.heldOut))),
                ("fit_seconds", .array(fitSeconds.map { .double($0) })),
                ("fit_seconds_best", .double(fitSeconds.min()!)), ("predict_seconds", .double(predictSeconds)),
                ("iterations", .int(ensemble.members.map(\.iterations).max() ?? 0)),
                ("converged", .bool(ensemble.members.allSatisfy(\.converged))),
                ("vocabulary", .int(model.featurizer.textWidth)), ("vector_dimensions", .int(model.featurizer.vectorWidth)),
                ("temperature", .double(Double(ensemble.temperature))),
                ("test_accuracy", .double(Metrics.accuracy(p, labels: test.labels))),
                ("macro_f1", .double(Metrics.macroF1(p, labels: test.labels))),
                ("test_ece", .double(Metrics.expectedCalibrationError(p, labels: test.labels))),
                ("test_ece_t1", .double(Metrics.expectedCalibrationError(raw, labels: test.labels))),
            ]
            if let calibration {
                fields.append(("calibration", .object([
                    ("temperature", .double(Double(calibration.temperature))), ("scheme", .string(calibration.scheme)),
                    ("held_out", .int(calibration.heldOut)),
                    ("ece_before", .double(calibration.eceBefore)), ("ece_after", .double(calibration.eceAfter)),
                ])))
            } else {
                fields.append(("calibration", .null))
            }
            results.append(.object(fields))
        }
        var check: JSONOut = .null
        if let dumpPath = options.string("dump") {
            check = try dump(dumpPath, train: train, classes: labels.count, members: members, seed: seed,
                             settings: settings, fitted: fitted)
        }
        return .object([
            ("benchmark", .string("engine")), ("replication_check", check),
            ("path", .string("Classifier.train (Featurizer + LogisticEnsemble L-BFGS [+ temperature scaling]), as quorum train")),
            ("train", .string(trainPath)), ("test", .string(testPath)),
            ("train_rows", .int(train.labels.count)), ("test_rows", .int(test.labels.count)),
            ("classes", .int(labels.count)), ("c", .double(c)), ("seed", .int(Int(seed))),
            ("max_iterations", .int(settings.maxIterations)), ("tolerance", .double(settings.tolerance)),
            ("repeats", .int(repeats)), ("results", .array(results)),
            ("load_average_1m", .double(load)),
        ] + blasFields())
    }

    /// Replicates `Classifier.train`'s holdout and `LogisticEnsemble.fit`'s
    /// bootstrap draws, writes them to `path`, and checks them by refitting.
    static func dump(_ path: String, train: Rows, classes: Int, members: Int, seed: UInt64,
                     settings: LogisticRegressionSettings, fitted: [String: Classifier]) throws -> JSONOut {
        let n = train.labels.count
        var order = Array(0..<n)
        var rng = SeededGenerator(seed: seed ^ 0xCA11_B8A7)
        order.shuffle(using: &rng)
        let held = n >= 100 ? Set(order.prefix(n / 5)) : []
        let fitRows = (0..<n).filter { !held.contains($0) }
        let boots: [[Float]] = (0..<members).map { m in
            var rng = SeededGenerator(seed: seed &+ UInt64(m))
            var counts = [Float](repeating: 0, count: fitRows.count)
            for _ in 0..<fitRows.count { counts[Int(rng.next() % UInt64(fitRows.count))] += 1 }
            return counts
        }
        // Check: refit member 0 of a and b from the replicated rows and weights.
        let t = fitRows.map { train.texts[$0] }, v = fitRows.map { train.vectors[$0] }, y = fitRows.map { train.labels[$0] }
        let featurizer = Featurizer.fit(texts: t, vectors: v, settings: FeaturizerSettings())
        let x = featurizer.transform(texts: t, vectors: v)
        var fields: [(String, JSONOut)] = []
        if let a = fitted["a"] {
            let refit = LogisticRegression.fit(features: x, labels: y, classes: classes, settings: settings)
            fields.append(("a_member_identical", .bool(a.featurizer == featurizer && a.ensemble.members[0] == refit)))
        }
        if let b = fitted["b"], b.ensemble.members.count == members, members > 1 {
            // The ensemble trains its members in lockstep (stopping when all have converged), so member 0
            // need not be bit-identical to a lone fit with the same weights: compare its predictions instead.
            let refit = LogisticRegression.fit(features: x, labels: y, classes: classes, sampleWeights: boots[0], settings: settings)
            let p = b.ensemble.members[0].logits(x), q = refit.logits(x)
            let agree = (0..<p.rows).filter { p.argmax(row: $0) == q.argmax(row: $0) }.count
            let diff = zip(b.ensemble.members[0].weights.storage, refit.weights.storage).map { abs($0 - $1) }.max() ?? 0
            let scale = refit.weights.storage.map { abs($0) }.max() ?? 1
            fields.append(("b_featurizer_identical", .bool(b.featurizer == featurizer)))
            fields.append(("b_member0_argmax_agreement_on_fit_rows", .double(Double(agree) / Double(max(p.rows, 1)))))
            fields.append(("b_member0_max_weight_diff_relative", .double(Double(diff / max(scale, 1e-30)))))
        }
        let out = JSONOut.object([
            ("holdout", .array(order.prefix(held.count).map { .int($0) })),
            ("fit_rows", .array(fitRows.map { .int($0) })),
            ("bootstrap_counts", .array(boots.map { .array($0.map { .int(Int($0)) }) })),
        ]).serialized()
        guard let file = fopen(path, "w") else { throw BenchUsageError(message: "cannot write \(path)") }
        fputs(out + "\n", file)
        fclose(file)
        return .object(fields)
    }
}
