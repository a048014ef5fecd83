import Foundation
import QuorumCore
import QuorumImport
import QuorumModels
import QuorumNumerics
import QuorumStore

/// `quorum models list` and `quorum predictions import`.
public enum ModelService {
    /// One model version as `models list` shows it.
    public struct Entry: Sendable {
        public var model: ModelVersion
        public var settings: [String: Any] {
            get throws(QuorumError) { try StoredJSON.object(model.settingsJSON, "settings of model \(model.id)") }
        }
        public var metrics: [String: Any] {
            get throws(QuorumError) { try StoredJSON.object(model.metricsJSON, "metrics of model \(model.id)") }
        }

        public var json: JSONValue {
            get throws(QuorumError) {
                let m = try metrics, s = try settings
                return .object([
                    ("model_version", .string(model.id)), ("created_at", .string(model.createdAt)), ("kind", .string(model.kind)),
                    ("status", .string(model.isLive ? "live" : (model.isShadow ? "shadow" : "retired"))),
                    ("trained_on", .int(model.trainedOn)), ("members", .number(s["members"] as? Int)),
                    ("test_accuracy", .number(m["test_accuracy"] as? Double)), ("ece", .number(m["ece"] as? Double)),
                    ("settings", raw(model.settingsJSON)), ("calibration", raw(m["calibration"].flatMap(reserialize) ?? "null")),
                ])
            }
        }
    }

    public static func list(store: any ProjectStore) throws -> [Entry] {
        try store.read { try $0.models().map { Entry(model: $0) } }
    }

    /// `quorum models promote ID`: makes a shadow or an earlier model live.
    /// Routing and sampling use it from the next round; the previous live
    /// model is retired (and can be promoted back). Returns (promoted, previous live).
    public static func promote(store: any ProjectStore, id: String) throws -> (ModelVersion, String?) {
        try store.write { w in
            let models = try w.models()
            guard let model = models.first(where: { $0.id == id }) else {
                throw QuorumError(.badInput, "no model \"\(TerminalText.visible(id))\" in this project",
                                  hint: "see `quorum models list` for the model versions (m1, m2, …)")
            }
            let previous = models.first(where: \.isLive)?.id
            guard !model.isLive else {
                throw QuorumError(.state, "model \(id) is already live", hint: "promote another model, or train a new one")
            }
            try w.promoteModel(id)
            try w.appendEvent(EventRecord(kind: "model.promote", modelVersion: id, detailJSON: JSONValue.object([
                ("previous_live", .text(previous)), ("was_shadow", .bool(model.isShadow)),
            ]).serialized()))
            return (model, previous)
        }
    }

    /// Refuses a new shadow model while another one is in shadow, unless the
    /// caller asked to replace it: a shadow is never retired without a word.
    static func requireShadowSlot(_ r: any StoreReader, replacing: Bool) throws {
        guard !replacing, let current = try r.shadowModel() else { return }
        throw QuorumError(.state, "model \(current.id) is already in shadow",
                          hint: "pass --replace-shadow to retire it, or `quorum models promote \(current.id)` to make it live first")
    }

    public struct ImportSummary: Sendable, Equatable {
        public var modelVersion: String
        public var name: String
        public var items: Int
        public var shadow: Bool
        public var testItems: Int
        public var testAccuracy: Double?
        public var ece: Double?

        public var json: JSONValue {
            .object([("model_version", .string(modelVersion)), ("model", .string(name)), ("items", .int(items)),
                     ("shadow", .bool(shadow)), ("test_items", .int(testItems)),
                     ("test_accuracy", .number(testAccuracy)), ("ece", .number(ece))])
        }
    }

    /// Imports an external model's per-item probabilities (JSONL:
    /// `{"id": …, "probs": {"A": 0.7, …}}`) as a model version, all or
    /// nothing. Probabilities must be numbers in [0, 1] summing to 1 (±1e-3)
    /// over known labels (a label left out counts as 0); items must exist and
    /// appear once. When the file covers test items, the model is evaluated on them.
    public static func importPredictions(store: any ProjectStore, path: String, name: String, shadow: Bool,
                                         replaceShadow: Bool = false) throws -> ImportSummary {
        let name = name.trimmingWhitespace()
        guard !name.isEmpty else { throw QuorumError(.badInput, "--model needs a name", hint: "name the model, e.g. --model bert-v3") }
        let reader = try ItemFileReader.open(path, mapping: FieldMapping(metaFields: ["probs"]))
        return try store.write { w in
            if shadow { try requireShadowSlot(w, replacing: replaceShadow) }
            let project = try w.project()
            guard project.task == .single else {
                throw QuorumError(.badInput, "importing predictions is available for single-label projects only",
                                  hint: "train the project's own model with `quorum train`")
            }
            let labels = project.labels
            var known: [String: StoredItem] = [:]
            for item in try w.items(kinds: ItemKind.allCases) { known[item.id] = item }
            var seen: [String: Int] = [:]
            var predictions: [Prediction] = []
            var testProbs: [Float] = [], testTruth: [Int] = []
            var record = ItemRecord()
            func fail(_ line: Int, _ field: String, _ problem: String, _ hint: String) -> QuorumError {
                ItemFileError(file: path, line: line, field: field, problem: problem, hint: hint).asQuorumError
            }
            while try reader.nextRecord(into: &record) {
                let line = record.line
                guard let id = record.id, !id.isEmpty else {
                    throw fail(line, "id", "missing id", "give every line the id of the item it scores")
                }
                guard let item = known[id] else {
                    throw fail(line, "id", "no item \"\(id)\" in the project", "import the item first, or remove the line")
                }
                if let first = seen[id] {
                    throw fail(line, "id", "item \"\(id)\" already appears on line \(first)", "give each item one line")
                }
                seen[id] = line
                guard let text = record.meta.first(where: { $0.key == "probs" })?.json else {
                    throw fail(line, "probs", "missing probabilities", "add \"probs\": {\"LABEL\": p, …}")
                }
                guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                    throw fail(line, "probs", "must be an object of label → probability", "write e.g. \"probs\": {\"\(labels.names[0])\": 0.7, …}")
                }
                var p = [Float](repeating: 0, count: labels.count)
                var sum = 0.0
                for (label, value) in object {
                    guard let j = labels.index(of: label) else {
                        throw fail(line, "probs", "\"\(label)\" is not one of the project's labels (\(labels.names.joined(separator: ", ")))",
                                   "use the project's label names")
                    }
                    guard type(of: value) != Bool.self, let number = value as? NSNumber, number.doubleValue.isFinite,
                          (0...1).contains(number.doubleValue) else {
                        throw fail(line, "probs", "the probability of \"\(label)\" must be a number in [0, 1]", "fix the value")
                    }
                    p[j] = Float(number.doubleValue)
                    sum += number.doubleValue
                }
                guard abs(sum - 1) <= 1e-3 else {
                    throw fail(line, "probs", "the probabilities sum to \(JSONValue.format((sum * 1e6).rounded() / 1e6)), not 1 (±0.001)",
                               "normalise them so they sum to 1")
                }
                predictions.append(Prediction(itemKey: item.key, probabilities: p))
                if item.kind == .test, let truth = item.label.flatMap(labels.index(of:)) {
                    testProbs += p
                    testTruth.append(truth)
                }
            }
            guard !predictions.isEmpty else {
                throw QuorumError(.badInput, "\(path): the file has no predictions", hint: "check that you passed the right file")
            }
            // Measures, from the single "member" the external model is.
            let k = labels.count
            var flat = [Float](); flat.reserveCapacity(predictions.count * k)
            for p in predictions { flat += p.probabilities }
            var mean = Matrix(rows: predictions.count, cols: k)
            var measures = EnsembleMeasures(count: predictions.count)
            flat.withUnsafeBufferPointer { buffer in
                Ensemble.measures(members: buffer, memberCount: 1, items: predictions.count, classes: k, mean: &mean, into: &measures)
            }
            for i in predictions.indices {
                predictions[i].measures = PredictionMeasures(
                    label: Int(measures.predicted[i]), confidence: measures.confidence[i], margin: measures.margin[i],
                    entropy: measures.entropy[i], voteEntropy: measures.voteEntropy[i], meanKL: measures.meanKL[i],
                    mutualInformation: measures.mutualInformation[i])
            }
            var accuracy: Double?, ece: Double?
            if !testTruth.isEmpty {
                let m = Matrix(rows: testTruth.count, cols: k, storage: testProbs)
                accuracy = Metrics.accuracy(m, labels: testTruth)
                ece = Metrics.expectedCalibrationError(m, labels: testTruth)
            }
            let id = try w.nextModelID()
            let settings = JSONValue.object([("model", .string("external")), ("name", .string(name)), ("file", .string(path)),
                                             ("members", .int(1))])
            let metrics = JSONValue.object([("test_accuracy", .number(accuracy)), ("ece", .number(ece)),
                                            ("test_items", .int(testTruth.count)), ("items", .int(predictions.count))])
            try w.insertModel(ModelVersion(id: id, createdAt: Timestamp.format(w.now), kind: "external:\(name)",
                                           settingsJSON: settings.serialized(), trainedOn: 0, metricsJSON: metrics.serialized(),
                                           state: [], isLive: !shadow, isShadow: shadow))
            try w.insertPredictions(model: id, predictions)
            let summary = ImportSummary(modelVersion: id, name: name, items: predictions.count, shadow: shadow,
                                        testItems: testTruth.count, testAccuracy: accuracy, ece: ece)
            try w.appendEvent(EventRecord(kind: "predictions.import", modelVersion: id, detailJSON: summary.json.serialized()))
            return summary
        }
    }
}

private func reserialize(_ value: Any) -> String? {
    guard JSONSerialization.isValidJSONObject(value), let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]) else { return nil }
    return String(decoding: data, as: UTF8.self)
}

/// Embeds already-serialised JSON text as a value.
private func raw(_ json: String) -> JSONValue { .raw(json) }
