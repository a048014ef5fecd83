import QuorumNumerics

/// The pre-labelling engine's model: a featurizer plus a classifier, which
/// together score raw items. This is what a model version stores.
public struct Classifier: Sendable, Equatable {
    public let featurizer: Featurizer
    public let model: LogisticRegression

    public init(featurizer: Featurizer, model: LogisticRegression) {
        self.featurizer = featurizer
        self.model = model
    }

    /// Fits the featurizer and the model on labelled items.
    ///
    /// - Complexity: O(featurizing + L-BFGS iterations × n × width × classes).
    public static func train(texts: [String?], vectors: [[Float]?], labels: [Int], classes: Int,
                             featurizer settings: FeaturizerSettings = .init(),
                             model modelSettings: LogisticRegressionSettings = .init()) -> Classifier {
        let featurizer = Featurizer.fit(texts: texts, vectors: vectors, settings: settings)
        let x = featurizer.transform(texts: texts, vectors: vectors)
        let model = LogisticRegression.fit(features: x, labels: labels, classes: classes, settings: modelSettings)
        return Classifier(featurizer: featurizer, model: model)
    }

    /// Class probabilities for raw items, scored in chunks so memory stays
    /// bounded by `chunk × width` whatever the pool size.
    ///
    /// - Complexity: O(n × width × classes).
    public func probabilities(texts: [String?], vectors: [[Float]?], chunk: Int = 8192) -> Matrix {
        var out = Matrix(rows: texts.count, cols: model.classes)
        var start = 0
        while start < texts.count {
            let end = min(start + chunk, texts.count)
            let x = featurizer.transform(texts: Array(texts[start..<end]), vectors: Array(vectors[start..<end]))
            let p = model.probabilities(x)
            out.storage.replaceSubrange((start * model.classes)..<(end * model.classes), with: p.storage)
            start = end
        }
        return out
    }

    // MARK: - Serialisation

    /// A versioned binary encoding (little-endian), stored with the model version.
    public func encoded() -> [UInt8] {
        var w = ByteWriter()
        w.write(UInt32(0x5155_4D31)) // "QUM1"
        w.write(UInt32(featurizer.settings.textDimensions))
        w.write(UInt32(featurizer.settings.maxNGram))
        w.write(UInt32(featurizer.settings.sublinearTF ? 1 : 0))
        w.write(featurizer.idf)
        w.write(featurizer.means)
        w.write(featurizer.scales)
        w.write(UInt32(model.weights.rows))
        w.write(UInt32(model.weights.cols))
        w.write(model.weights.storage)
        w.write(model.bias)
        return w.bytes
    }

    /// Decodes `encoded()`; nil when the bytes are not a Quorum model.
    public init?(encoded bytes: [UInt8]) {
        var r = ByteReader(bytes)
        guard r.readUInt32() == 0x5155_4D31,
              let dims = r.readUInt32(), let ngram = r.readUInt32(), let sublinear = r.readUInt32(),
              let idf = r.readFloats(), let means = r.readFloats(), let scales = r.readFloats(),
              let rows = r.readUInt32(), let cols = r.readUInt32(),
              let weights = r.readFloats(), let bias = r.readFloats(),
              weights.count == Int(rows) * Int(cols), bias.count == Int(cols) else { return nil }
        featurizer = Featurizer(settings: FeaturizerSettings(textDimensions: Int(dims), maxNGram: Int(ngram),
                                                             sublinearTF: sublinear == 1),
                                idf: idf, means: means, scales: scales)
        model = LogisticRegression(weights: Matrix(rows: Int(rows), cols: Int(cols), storage: weights), bias: bias)
    }
}

struct ByteWriter {
    var bytes: [UInt8] = []
    mutating func write(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func write(_ values: [Float]) {
        write(UInt32(values.count))
        for v in values { write(v.bitPattern) }
    }
}

struct ByteReader {
    let bytes: [UInt8]
    var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func readUInt32() -> UInt32? {
        guard offset + 4 <= bytes.count else { return nil }
        var v: UInt32 = 0
        for k in 0..<4 { v |= UInt32(bytes[offset + k]) << (8 * k) }
        offset += 4
        return v
    }

    mutating func readFloats() -> [Float]? {
        guard let n = readUInt32(), offset + Int(n) * 4 <= bytes.count else { return nil }
        var out = [Float]()
        out.reserveCapacity(Int(n))
        for _ in 0..<n { out.append(Float(bitPattern: readUInt32()!)) }
        return out
    }
}
