import Glibc
import QuorumNumerics

/// How items become feature rows.
public struct FeaturizerSettings: Sendable, Equatable {
    /// Width of the hashed n-gram block for text (0 = ignore text).
    public var textDimensions: Int
    /// Longest word n-gram (1 = words only, 2 = words and word pairs).
    public var maxNGram: Int
    /// Use 1 + log(tf) instead of raw counts.
    public var sublinearTF: Bool

    public init(textDimensions: Int = 4096, maxNGram: Int = 2, sublinearTF: Bool = true) {
        self.textDimensions = textDimensions
        self.maxNGram = maxNGram
        self.sublinearTF = sublinearTF
    }
}

/// Turns an item's text and vector into one dense feature row.
///
/// - Text: lower-cased word 1…n-grams, hashed (FNV-1a) into `textDimensions`
///   buckets, weighted by sublinear TF × smoothed IDF, and L2-normalised.
/// - Vector: standardised to zero mean and unit variance per dimension.
/// - Both: the text block followed by the vector block.
///
/// It is fitted once on the training items and then applied unchanged to
/// every other item, so the statistics never see test or pool items.
public struct Featurizer: Sendable, Equatable {
    public let settings: FeaturizerSettings
    /// Smoothed IDF per hashed bucket: ln((1 + n) / (1 + df)) + 1.
    public private(set) var idf: [Float]
    /// Per-dimension mean and scale of the vectors (scale = 1 / std, or 1 where std = 0).
    public private(set) var means: [Float]
    public private(set) var scales: [Float]

    /// Text block width actually used (0 when the training items have no text).
    public var textWidth: Int { idf.count }
    public var vectorWidth: Int { means.count }
    /// The width of a feature row.
    public var width: Int { textWidth + vectorWidth }

    public init(settings: FeaturizerSettings, idf: [Float], means: [Float], scales: [Float]) {
        self.settings = settings
        self.idf = idf
        self.means = means
        self.scales = scales
    }

    /// Fits IDF and vector statistics on training items.
    ///
    /// - Complexity: O(total tokens + n × vector dimension).
    public static func fit(texts: [String?], vectors: [[Float]?], settings: FeaturizerSettings) -> Featurizer {
        precondition(texts.count == vectors.count, "fit: \(texts.count) texts but \(vectors.count) vectors")
        let n = texts.count
        var idf: [Float] = []
        if settings.textDimensions > 0, texts.contains(where: { $0 != nil }) {
            var df = [Int32](repeating: 0, count: settings.textDimensions)
            var seen = [Int32](repeating: -1, count: settings.textDimensions)
            for (doc, text) in texts.enumerated() {
                guard let text else { continue }
                forEachBucket(text, settings: settings) { bucket in
                    if seen[bucket] != Int32(doc) {
                        seen[bucket] = Int32(doc)
                        df[bucket] += 1
                    }
                }
            }
            idf = df.map { Float(log(Double(1 + n) / Double(1 + Int($0))) + 1) }
        }
        var means: [Float] = []
        var scales: [Float] = []
        if let d = vectors.first(where: { $0 != nil })??.count, d > 0 {
            var sum = [Double](repeating: 0, count: d)
            var sumSq = [Double](repeating: 0, count: d)
            var count = 0
            for case let v? in vectors where v.count == d {
                count += 1
                for j in 0..<d {
                    let x = Double(v[j])
                    sum[j] += x
                    sumSq[j] += x * x
                }
            }
            let c = Double(max(count, 1))
            means = sum.map { Float($0 / c) }
            scales = (0..<d).map { j in
                let variance = max(sumSq[j] / c - (sum[j] / c) * (sum[j] / c), 0)
                return variance > 1e-12 ? Float(1 / variance.squareRoot()) : 1
            }
        }
        return Featurizer(settings: settings, idf: idf, means: means, scales: scales)
    }

    /// Feature rows for the given items, one per item.
    ///
    /// - Complexity: O(n × width + total tokens); one allocation (the result).
    public func transform(texts: [String?], vectors: [[Float]?]) -> Matrix {
        precondition(texts.count == vectors.count, "transform: \(texts.count) texts but \(vectors.count) vectors")
        var out = Matrix(rows: texts.count, cols: width)
        let w = width
        let tw = textWidth
        var touched: [Int] = []
        touched.reserveCapacity(256)
        out.storage.withUnsafeMutableBufferPointer { buffer in
            for i in 0..<texts.count {
                let row = buffer.baseAddress! + i * w
                if tw > 0, let text = texts[i] {
                    touched.removeAll(keepingCapacity: true)
                    Featurizer.forEachBucket(text, settings: settings) { bucket in
                        if row[bucket] == 0 { touched.append(bucket) }
                        row[bucket] += 1
                    }
                    var norm: Float = 0
                    for b in touched {
                        let tf = settings.sublinearTF ? 1 + logf(row[b]) : row[b]
                        let v = tf * idf[b]
                        row[b] = v
                        norm += v * v
                    }
                    if norm > 0 {
                        let inv = 1 / norm.squareRoot()
                        for b in touched { row[b] *= inv }
                    }
                }
                if vectorWidth > 0, let v = vectors[i], v.count == vectorWidth {
                    for j in 0..<vectorWidth {
                        row[tw + j] = (v[j] - means[j]) * scales[j]
                    }
                }
            }
        }
        return out
    }

    /// Calls `body` with the hashed bucket of every word n-gram in `text`.
    /// Words are runs of letters and digits (any non-ASCII byte counts as a
    /// letter), lower-cased for ASCII.
    static func forEachBucket(_ text: String, settings: FeaturizerSettings, _ body: (Int) -> Void) {
        let d = UInt64(settings.textDimensions)
        var previous: [UInt64] = []
        if settings.maxNGram > 1 { previous.reserveCapacity(settings.maxNGram - 1) }
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        var inWord = false
        func endWord() {
            body(Int(h % d))
            if settings.maxNGram > 1 {
                var combined = h
                for (k, p) in previous.reversed().enumerated() where k + 2 <= settings.maxNGram {
                    combined = (p &* 0x9E37_79B9_7F4A_7C15) ^ (combined &+ 0x632B_E59B_D9B4_E019)
                    body(Int(combined % d))
                }
                previous.append(h)
                if previous.count >= settings.maxNGram { previous.removeFirst() }
            }
            h = 0xcbf2_9ce4_8422_2325
            inWord = false
        }
        var text = text
        text.withUTF8 { bytes in
            for var b in bytes {
                let isASCIIAlnum = (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122)
                if isASCIIAlnum || b >= 128 {
                    if b >= 65 && b <= 90 { b += 32 }
                    h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3
                    inWord = true
                } else if inWord {
                    endWord()
                }
            }
        }
        if inWord { endWord() }
    }
}
