import QuorumNumerics

extension Classifier {
    /// A versioned binary encoding (little-endian), stored with the model version.
    public func encoded() -> [UInt8] {
        var w = ByteWriter()
        w.write(UInt32(0x5155_4D33)) // "QUM3": QUM2 plus the norm terms
        w.write(UInt32(featurizer.settings.maxNGram))
        w.write(UInt32(featurizer.settings.sublinearTF ? 1 : 0))
        w.write(UInt32(featurizer.settings.minDocumentFrequency))
        w.write(featurizer.terms)
        w.write(featurizer.idf)
        w.write(featurizer.normTerms)
        w.write(featurizer.normIDF)
        w.write(featurizer.means)
        w.write(featurizer.scales)
        w.write(ensemble.temperature.bitPattern)
        w.write(UInt32(ensemble.members.count))
        for member in ensemble.members {
            w.write(UInt32(member.weights.rows))
            w.write(UInt32(member.weights.cols))
            w.write(member.weights.storage)
            w.write(member.bias)
        }
        return w.bytes
    }

    /// Decodes `encoded()` (and the older QUM2, which had no norm terms); nil when the bytes are not a Quorum model.
    public init?(encoded bytes: [UInt8]) {
        var r = ByteReader(bytes)
        let magic = r.readUInt32()
        guard magic == 0x5155_4D33 || magic == 0x5155_4D32,
              let ngram = r.readUInt32(), let sublinear = r.readUInt32(), let minDF = r.readUInt32(),
              let terms = r.readUInt64s(), let idf = r.readFloats(), terms.count == idf.count else { return nil }
        var normTerms: [UInt64] = [], normIDF: [Float] = []
        if magic == 0x5155_4D33 {
            guard let t = r.readUInt64s(), let v = r.readFloats(), t.count == v.count else { return nil }
            normTerms = t; normIDF = v
        }
        guard let means = r.readFloats(), let scales = r.readFloats(), means.count == scales.count,
              let t = r.readUInt32(), let count = r.readUInt32(), count >= 1 else { return nil }
        var members: [LogisticRegression] = []
        for _ in 0..<count {
            guard let rows = r.readUInt32(), let cols = r.readUInt32(), let weights = r.readFloats(), let bias = r.readFloats(),
                  weights.count == Int(rows) * Int(cols), bias.count == Int(cols),
                  Int(rows) == terms.count + means.count else { return nil }
            members.append(LogisticRegression(weights: Matrix(rows: Int(rows), cols: Int(cols), storage: weights), bias: bias))
        }
        featurizer = Featurizer(settings: FeaturizerSettings(maxNGram: Int(ngram), sublinearTF: sublinear == 1,
                                                             minDocumentFrequency: Int(minDF)),
                                terms: terms, idf: idf, normTerms: normTerms, normIDF: normIDF, means: means, scales: scales)
        ensemble = LogisticEnsemble(members: members, temperature: Float(bitPattern: t))
    }
}

struct ByteWriter {
    var bytes: [UInt8] = []
    mutating func write(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func write(_ values: [Float]) {
        write(UInt32(values.count))
        values.withUnsafeBytes { bytes.append(contentsOf: $0) }  // little-endian on every platform Quorum runs on
    }
    mutating func write(_ values: [UInt64]) {
        write(UInt32(values.count))
        values.withUnsafeBytes { bytes.append(contentsOf: $0) }
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

    mutating func readArray<T>(_: T.Type) -> [T]? {
        guard let n = readUInt32() else { return nil }
        let size = Int(n) * MemoryLayout<T>.size
        guard offset + size <= bytes.count else { return nil }
        let out = [T](unsafeUninitializedCapacity: Int(n)) { buffer, count in
            bytes.withUnsafeBytes { raw in
                if n > 0 { UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: raw.baseAddress! + offset, byteCount: size) }
            }
            count = Int(n)
        }
        offset += size
        return out
    }

    mutating func readBytes(_ n: Int) -> [UInt8]? {
        guard n >= 0, offset + n <= bytes.count else { return nil }
        defer { offset += n }
        return Array(bytes[offset..<(offset + n)])
    }

    mutating func readFloats() -> [Float]? { readArray(Float.self) }
    mutating func readUInt64s() -> [UInt64]? { readArray(UInt64.self) }
}
