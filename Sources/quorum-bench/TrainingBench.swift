// Ensemble training speed: 5 bootstrap members on 50,000 × 128, 10 classes,
// against scikit-learn's 5 LogisticRegression fits on the same files
// (experiments/training/sklearn_peer.py).
import Glibc
import QuorumModels
import QuorumNumerics

enum TrainingBench {
    static let hint = "run experiments/training/make_data.py"

    static func run(_ options: BenchOptions) throws(BenchUsageError) -> JSONOut {
        let dir = options.string("data") ?? "experiments/data/training"
        let repeats = try options.int("repeats", default: 3)
        let members = try options.int("members", default: 5)
        let d = 128
        let x = try readRaw("\(dir)/train_x.f32", as: Float.self, hint: hint)
        let y = try readRaw("\(dir)/train_y.i32", as: Int32.self, hint: hint)
        let xt = try readRaw("\(dir)/test_x.f32", as: Float.self, hint: hint)
        let yt = try readRaw("\(dir)/test_y.i32", as: Int32.self, hint: hint)
        let train = FeatureMatrix(sparse: nil, dense: Matrix(rows: y.count, cols: d, storage: x))
        let test = FeatureMatrix(sparse: nil, dense: Matrix(rows: yt.count, cols: d, storage: xt))
        let labels = y.map(Int.init)
        var best = Double.infinity
        var ensemble: LogisticEnsemble?
        let load = loadAverage()
        for _ in 0..<repeats {
            let t0 = now()
            let e = LogisticEnsemble.fit(features: train, labels: labels, classes: 10, count: members, seed: 1)
            best = min(best, now() - t0)
            ensemble = e
        }
        let p = ensemble!.probabilities(test)
        return .object([
            ("benchmark", .string("training")), ("side", .string("quorum")), ("members", .int(members)),
            ("rows", .int(labels.count)), ("features", .int(d)), ("classes", .int(10)),
            ("fit_seconds_best", .double(best)),
            ("test_accuracy", .double(Metrics.accuracy(p, labels: yt.map(Int.init)))),
            ("iterations", .array(ensemble!.members.map { .int($0.iterations) })),
            ("load_average_1m", .double(load)),
        ] + blasFields())
    }
}
