// Training on the digits data set, timed like scikit-learn's side:
// standardise on the training rows, fit multinomial logistic regression
// (L-BFGS, C = 1), then score the held-out rows.
// Split: test = rows whose 1-based line number is divisible by 5.
import QuorumImport
import QuorumModels
import QuorumNumerics

enum DigitsBench {
    struct Split {
        var trainX: [[Float]?] = []
        var trainY: [Int] = []
        var testX: [[Float]?] = []
        var testY: [Int] = []
    }

    static func load(_ path: String) throws -> Split {
        let reader = try ItemFileReader(path: path, mapping: FieldMapping())
        var record = ItemRecord()
        var split = Split()
        while try reader.next(into: &record) {
            guard record.hasVector, let labelText = record.label, let label = Int(labelText), (0..<10).contains(label) else {
                throw BenchUsageError(message: "\(path):\(record.line): expected a vector and a label 0…9")
            }
            if record.line % 5 == 0 {
                split.testX.append(record.vector)
                split.testY.append(label)
            } else {
                split.trainX.append(record.vector)
                split.trainY.append(label)
            }
        }
        return split
    }

    static func run(_ options: BenchOptions) throws -> JSONOut {
        let path = try options.required("data")
        let repeats = try options.int("repeats", default: 5)
        var settings = LogisticRegressionSettings(c: 1.0)
        if options.string("max-iter") != nil { settings.maxIterations = try options.int("max-iter", default: 300) }
        let members = try options.int("members", default: 1)
        let split = try load(path)
        let trainTexts = [String?](repeating: nil, count: split.trainX.count)
        let testTexts = [String?](repeating: nil, count: split.testX.count)

        var fitSeconds: [Double] = []
        var classifier: Classifier?
        let load = loadAverage()
        for _ in 0..<repeats {
            let t0 = now()
            let (c, _) = Classifier.train(texts: trainTexts, vectors: split.trainX, labels: split.trainY, classes: 10,
                                          members: members, selection: .fixed(c: settings.c), model: settings,
                                          calibration: .none)
            fitSeconds.append(now() - t0)
            classifier = c
        }
        guard let model = classifier else { throw BenchUsageError(message: "--repeats must be at least 1") }
        let t0 = now()
        let p = model.probabilities(texts: testTexts, vectors: split.testX)
        let predictSeconds = now() - t0
        let accuracy = Metrics.accuracy(p, labels: split.testY)
        let trainAccuracy = Metrics.accuracy(model.probabilities(texts: trainTexts, vectors: split.trainX),
                                             labels: split.trainY)
        return .object([
            ("benchmark", .string("digits")),
            ("path", .string("Classifier.train (Featurizer standardise + LogisticRegression L-BFGS, no calibration)")),
            ("data", .string(path)), ("train_rows", .int(split.trainY.count)), ("test_rows", .int(split.testY.count)),
            ("c", .double(settings.c)), ("max_iterations", .int(settings.maxIterations)),
            ("tolerance", .double(settings.tolerance)), ("repeats", .int(repeats)),
            ("fit_seconds", .array(fitSeconds.map { .double($0) })),
            ("fit_seconds_best", .double(fitSeconds.min()!)), ("fit_seconds_median", .double(median(fitSeconds))),
            ("predict_seconds", .double(predictSeconds)),
            ("members", .int(members)),
            ("iterations", .int(model.ensemble.members.map(\.iterations).max() ?? 0)),
            ("converged", .bool(model.ensemble.members.allSatisfy(\.converged))),
            ("test_accuracy", .double(accuracy)), ("train_accuracy", .double(trainAccuracy)),
            ("macro_f1", .double(Metrics.macroF1(p, labels: split.testY))),
            ("load_average_1m", .double(load)),
        ] + blasFields())
    }
}
