import QuorumNumerics

/// The pre-labelling model of a preference project (a prompt and two
/// responses, a and b): a linear Bradley–Terry scorer,
/// p(a ≻ b) = σ(w · (φ(a) − φ(b))), with φ the responses' features (TF-IDF,
/// vocabulary learned from every response in the item table). It is a
/// two-class logistic regression without biases on feature differences, so
/// swapping a and b gives exactly 1 − p; C and the features are chosen by
/// cross-validation and the temperature out of fold, as for `Classifier`.
/// Ties teach no direction and are left out of training.
public struct PreferenceModel: Sendable, Equatable {
    /// Its featurizer is φ; class 1 of its ensemble is "a preferred".
    public let classifier: Classifier

    public init(classifier: Classifier) {
        self.classifier = classifier
    }

    /// An answer: which response is better, or neither.
    public enum Choice: String, Sendable, CaseIterable { case a, b, tie }

    /// - Parameters:
    ///   - table: texts the vocabulary and IDF are learned from (every item's a and b; never test items).
    /// - Precondition: at least one a and one b among the choices.
    /// - Complexity: that of `Classifier.fit` on the non-tie pairs.
    public static func train(a: [String], b: [String], choices: [Choice], table: [String], members: Int = 5, seed: UInt64 = 1,
                             selection: ModelSelection = .init(), calibration: Classifier.CalibrationScheme = .cv)
        -> (PreferenceModel, Classifier.Training) {
        precondition(a.count == choices.count && b.count == choices.count, "one choice per pair")
        let kept = choices.indices.filter { choices[$0] != .tie }
        let y = kept.map { choices[$0] == .a ? 1 : 0 }
        let keptA = kept.map { a[$0] as String? }, keptB = kept.map { b[$0] as String? }
        let none = [[Float]?](repeating: nil, count: kept.count)
        let candidates = selection.featurizer.map { [$0] }
            ?? ModelSelection.featureCandidates(hasText: true, tableTexts: table.count)
        var settings = LogisticRegressionSettings()
        settings.fitIntercept = false
        let tableTexts = table.map { $0 as String? }
        let (classifier, training) = Classifier.fit(
            labels: y, classes: 2, candidates: candidates, tableItems: 0, members: members, seed: seed,
            selection: selection, model: settings, calibration: calibration) { featureSettings in
                let full = Featurizer.fit(texts: tableTexts, vectors: [[Float]?](repeating: nil, count: table.count), settings: featureSettings)
                var active = Set<Int32>()
                for side in [keptA, keptB] {
                    if let sparse = full.transform(texts: side, vectors: none).sparse { active.formUnion(sparse.columns) }
                }
                let featurizer = full.restricted(toColumns: active.map(Int.init).sorted())
                return (featurizer, difference(featurizer, keptA, keptB))
            }
        return (PreferenceModel(classifier: classifier), training)
    }

    /// p(a ≻ b) per pair.
    ///
    /// - Complexity: O(pairs × (tokens + nnz × members)).
    public func probabilityAPreferred(a: [String], b: [String]) -> [Double] {
        let x = Self.difference(classifier.featurizer, a.map { $0 as String? }, b.map { $0 as String? })
        let p = classifier.ensemble.probabilities(x)
        return (0..<a.count).map { Double(p[$0, 1]) }
    }

    /// A versioned binary encoding: "QMP1", then the classifier's `encoded()`.
    public func encoded() -> [UInt8] {
        var w = ByteWriter()
        w.write(UInt32(0x514D_5031)) // "QMP1"
        w.bytes += classifier.encoded()
        return w.bytes
    }

    /// Decodes `encoded()`; nil when the bytes are not a preference model.
    public init?(encoded bytes: [UInt8]) {
        var r = ByteReader(bytes)
        guard r.readUInt32() == 0x514D_5031, let c = Classifier(encoded: Array(bytes.dropFirst(4))) else { return nil }
        classifier = c
    }

    /// How unsure the model is of a pair: 1 − |2p − 1| (1 at p = 0.5).
    public static func uncertainty(_ p: [Double]) -> [Double] { p.map { 1 - abs(2 * $0 - 1) } }

    /// φ(a) − φ(b) row by row (each row's columns ascending, as `Featurizer.transform` writes them).
    ///
    /// - Complexity: O(nnz of both).
    static func difference(_ featurizer: Featurizer, _ a: [String?], _ b: [String?]) -> FeatureMatrix {
        let none = [[Float]?](repeating: nil, count: a.count)
        let fa = featurizer.transform(texts: a, vectors: none).sparse, fb = featurizer.transform(texts: b, vectors: none).sparse
        var out = SparseMatrix(cols: featurizer.textWidth)
        var columns: [Int32] = [], values: [Float] = []
        for r in 0..<a.count {
            columns.removeAll(keepingCapacity: true)
            values.removeAll(keepingCapacity: true)
            var i = fa?.rowStart[r] ?? 0, j = fb?.rowStart[r] ?? 0
            let iEnd = fa?.rowStart[r + 1] ?? 0, jEnd = fb?.rowStart[r + 1] ?? 0
            while i < iEnd || j < jEnd {
                let ca = i < iEnd ? fa!.columns[i] : Int32.max, cb = j < jEnd ? fb!.columns[j] : Int32.max
                if ca == cb {
                    let v = fa!.values[i] - fb!.values[j]
                    if v != 0 { columns.append(ca); values.append(v) }
                    i += 1; j += 1
                } else if ca < cb {
                    columns.append(ca); values.append(fa!.values[i]); i += 1
                } else {
                    columns.append(cb); values.append(-fb!.values[j]); j += 1
                }
            }
            out.appendRow(columns: columns, values: values)
        }
        return FeatureMatrix(sparse: out, dense: nil)
    }
}
