// The multi-label model on a real data set, timed like scikit-learn's side
// (experiments/multilabel/run.py): one-vs-rest with Quorum's defaults (C and
// features chosen by 5-fold cross-validation per label, out-of-fold
// temperature), trained on the training rows, scored on the test rows.
// Input: JSONL rows {"id", "vector", "labels": [...], "split": "train"|"test"}.
import Foundation
import QuorumModels
import QuorumNumerics

enum MultiLabelBench {
    static func run(_ options: BenchOptions) throws -> JSONOut {
        let path = try options.required("data")
        let members = try options.int("members", default: 5)
        var names: [String] = []
        var index: [String: Int] = [:]
        var train: (x: [[Float]?], y: [Set<Int>]) = ([], []), test: (x: [[Float]?], y: [Set<Int>]) = ([], [])
        let text = try String(contentsOfFile: path, encoding: .utf8)
        for (n, line) in text.split(separator: "\n").enumerated() {
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let vector = object["vector"] as? [NSNumber], let labels = object["labels"] as? [String],
                  let split = object["split"] as? String else {
                throw BenchUsageError(message: "\(path):\(n + 1): expected vector, labels and split")
            }
            let set = Set(labels.map { name -> Int in
                if let i = index[name] { return i }
                index[name] = names.count
                names.append(name)
                return names.count - 1
            })
            if split == "test" { test.x.append(vector.map(\.floatValue)); test.y.append(set) } else {
                train.x.append(vector.map(\.floatValue)); train.y.append(set)
            }
        }
        let load = loadAverage()
        let t0 = now()
        let (model, trainings) = MultiLabelClassifier.train(texts: [String?](repeating: nil, count: train.x.count), vectors: train.x,
                                                            labelSets: train.y, labels: names.count, members: members)
        let fitSeconds = now() - t0
        let p = model.probabilities(texts: [String?](repeating: nil, count: test.x.count), vectors: test.x)
        let scores = MultiLabelMetrics.scores(predicted: MultiLabelClassifier.predicted(p), truth: test.y, labels: names.count)
        return .object([
            ("benchmark", .string("multilabel")), ("data", .string(path)),
            ("train_rows", .int(train.x.count)), ("test_rows", .int(test.x.count)), ("labels", .int(names.count)),
            ("members", .int(members)), ("fit_seconds", .double(fitSeconds)),
            ("c_per_label", .array(trainings.map { .double($0.c) })),
            ("micro_f1", .double(scores.microF1)), ("macro_f1", .double(scores.macroF1)), ("hamming_loss", .double(scores.hammingLoss)),
            ("load_average_1m", .double(load)),
        ] + blasFields())
    }
}
