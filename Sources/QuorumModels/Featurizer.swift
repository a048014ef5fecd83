import Glibc
import QuorumNumerics

/// How items become feature rows.
public struct FeaturizerSettings: Sendable, Hashable {
    /// Longest word n-gram (1 = words only, 2 = words and word pairs).
    public var maxNGram: Int
    /// Use 1 + ln(tf) instead of raw counts.
    public var sublinearTF: Bool
    /// Keep only terms that occur in at least this many training documents.
    public var minDocumentFrequency: Int

    public init(maxNGram: Int = 2, sublinearTF: Bool = true, minDocumentFrequency: Int = 1) {
        self.maxNGram = maxNGram
        self.sublinearTF = sublinearTF
        self.minDocumentFrequency = minDocumentFrequency
    }

    /// A short name: "words+pairs, min df 2, sublinear" .
    public var name: String {
        (maxNGram == 1 ? "words" : maxNGram == 2 ? "words+pairs" : "words 1-\(maxNGram)-grams")
            + ", min df \(minDocumentFrequency)" + (sublinearTF ? ", sublinear tf" : "")
    }

    /// The settings as recorded with a model version.
    public var summary: String {
        "word 1-\(maxNGram)-grams, \(sublinearTF ? "sublinear " : "")TF-IDF (smoothed IDF, min df \(minDocumentFrequency)), L2-normalised; vectors standardised"
    }
}

/// Turns items' text and vectors into feature rows.
///
/// - Text: lower-cased word 1…n-grams (a word is a run of two or more letters,
///   digits or underscores, as scikit-learn's default token pattern), weighted
///   by sublinear TF × smoothed IDF `ln((1 + n) / (1 + df)) + 1`, and
///   L2-normalised per row. The vocabulary is learned from the training items
///   and kept sparse: there is no hashing into a small dense space, which costs
///   4–14 accuracy points on text.
/// - Vectors: standardised to zero mean and unit variance per dimension.
/// - Both: the sparse text block followed by the dense vector block.
///
/// The vocabulary and IDF need no labels, so `quorum train` learns them from
/// the whole item table (pool and seed items, never test items). A trained
/// model then keeps columns only for the terms its labelled items contain
/// (`restricted(toColumns:)`); the other terms stay as *norm terms*, which
/// count in each row's L2 norm but have no column, so a restricted featurizer
/// produces exactly the values of the full one on the columns it keeps.
public struct Featurizer: Sendable, Equatable {
    public let settings: FeaturizerSettings
    /// Term hashes in column order.
    public let terms: [UInt64]
    /// IDF per column.
    public let idf: [Float]
    /// Terms without a column that still count in the L2 norm, and their IDF.
    public let normTerms: [UInt64]
    public let normIDF: [Float]
    /// Per-dimension mean and scale of the vectors (scale = 1 / std, or 1 where std = 0).
    public let means: [Float]
    public let scales: [Float]
    /// Term → column (≥ 0), or −(1 + index into `normTerms`).
    private let index: [UInt64: Int32]

    /// The largest vocabulary kept (by document frequency), so a huge pool cannot make a huge model.
    public static let maxTerms = 1 << 20

    public var textWidth: Int { terms.count }
    /// Whether the items had any text (a vocabulary, with or without columns).
    public var hasText: Bool { !terms.isEmpty || !normTerms.isEmpty }
    public var vectorWidth: Int { means.count }
    public var width: Int { textWidth + vectorWidth }

    public init(settings: FeaturizerSettings, terms: [UInt64], idf: [Float], normTerms: [UInt64] = [], normIDF: [Float] = [],
                means: [Float], scales: [Float]) {
        precondition(terms.count == idf.count, "\(terms.count) terms but \(idf.count) IDF values")
        precondition(normTerms.count == normIDF.count, "\(normTerms.count) norm terms but \(normIDF.count) IDF values")
        self.settings = settings
        self.terms = terms
        self.idf = idf
        self.normTerms = normTerms
        self.normIDF = normIDF
        self.means = means
        self.scales = scales
        var index: [UInt64: Int32] = [:]
        index.reserveCapacity(terms.count + normTerms.count)
        for (j, t) in terms.enumerated() { index[t] = Int32(j) }
        for (e, t) in normTerms.enumerated() { index[t] = -Int32(e) - 1 }
        self.index = index
    }

    public static func == (a: Featurizer, b: Featurizer) -> Bool {
        a.settings == b.settings && a.terms == b.terms && a.idf == b.idf && a.normTerms == b.normTerms
            && a.normIDF == b.normIDF && a.means == b.means && a.scales == b.scales
    }

    /// Per text column, the number of table items with its term, read back
    /// from the smoothed IDF (idf = ln((1 + n) / (1 + df)) + 1 over `tableItems` = n).
    ///
    /// - Complexity: O(columns).
    public func documentFrequencies(tableItems n: Int) -> [Int] {
        idf.map { Int((Double(1 + n) / exp(Double($0) - 1) - 1).rounded()) }
    }

    /// The same featurizer with columns only for `keep` (ascending column
    /// indices of the text block); every other term becomes a norm term, so
    /// the kept columns' values do not change.
    ///
    /// - Complexity: O(vocabulary).
    public func restricted(toColumns keep: [Int]) -> Featurizer {
        var kept = [Bool](repeating: false, count: textWidth)
        for j in keep { kept[j] = true }
        var normTerms = self.normTerms, normIDF = self.normIDF
        for j in 0..<textWidth where !kept[j] { normTerms.append(terms[j]); normIDF.append(idf[j]) }
        return Featurizer(settings: settings, terms: keep.map { terms[$0] }, idf: keep.map { idf[$0] },
                          normTerms: normTerms, normIDF: normIDF, means: means, scales: scales)
    }

    /// Learns the vocabulary, IDF and vector statistics from items (labels are not needed).
    /// At most `maxTerms` terms are kept, the most frequent first.
    ///
    /// - Complexity: O(total tokens + vocabulary log vocabulary + n × vector dimension).
    public static func fit(texts: [String?], vectors: [[Float]?], settings: FeaturizerSettings) -> Featurizer {
        precondition(texts.count == vectors.count, "fit: \(texts.count) texts but \(vectors.count) vectors")
        let n = texts.count
        var df: [UInt64: Int32] = [:]
        var lastDoc: [UInt64: Int32] = [:]
        for (doc, text) in texts.enumerated() {
            guard let text else { continue }
            forEachTerm(text, maxNGram: settings.maxNGram) { term in
                if lastDoc.updateValue(Int32(doc), forKey: term) != Int32(doc) { df[term, default: 0] += 1 }
            }
        }
        var kept = df.filter { $0.value >= settings.minDocumentFrequency }
        if kept.count > maxTerms {
            let cut = kept.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(maxTerms)
            kept = Dictionary(uniqueKeysWithValues: cut.map { ($0.key, $0.value) })
        }
        let terms = kept.keys.sorted()
        let idf = terms.map { Float(log(Double(1 + n) / Double(1 + Int(df[$0]!))) + 1) }
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
        return Featurizer(settings: settings, terms: terms, idf: idf, means: means, scales: scales)
    }

    /// Feature rows for the given items, one per item. Terms unseen in training are dropped.
    ///
    /// - Complexity: O(total tokens + n × vector dimension).
    public func transform(texts: [String?], vectors: [[Float]?]) -> FeatureMatrix {
        precondition(texts.count == vectors.count, "transform: \(texts.count) texts but \(vectors.count) vectors")
        var sparse: SparseMatrix?
        if textWidth > 0 {
            var matrix = SparseMatrix(cols: textWidth)
            // Columns first, then norm terms at textWidth + e: sorted, the columns come first.
            var counts = [Float](repeating: 0, count: textWidth + normTerms.count)
            var touched: [Int32] = []
            var values: [Float] = []
            for text in texts {
                touched.removeAll(keepingCapacity: true)
                values.removeAll(keepingCapacity: true)
                if let text {
                    Featurizer.forEachTerm(text, maxNGram: settings.maxNGram) { term in
                        guard let found = index[term] else { return }
                        let j = found >= 0 ? found : Int32(textWidth) - found - 1
                        if counts[Int(j)] == 0 { touched.append(j) }
                        counts[Int(j)] += 1
                    }
                    touched.sort()
                    var norm: Float = 0
                    for j in touched {
                        let tf = counts[Int(j)]
                        let weight = Int(j) < textWidth ? idf[Int(j)] : normIDF[Int(j) - textWidth]
                        let v = (settings.sublinearTF ? 1 + logf(tf) : tf) * weight
                        counts[Int(j)] = 0
                        values.append(v)
                        norm += v * v
                    }
                    if let firstNormTerm = touched.firstIndex(where: { Int($0) >= textWidth }) {
                        touched.removeSubrange(firstNormTerm...)
                        values.removeSubrange(firstNormTerm...)
                    }
                    if norm > 0 {
                        let inv = 1 / norm.squareRoot()
                        for i in values.indices { values[i] *= inv }
                    }
                }
                matrix.appendRow(columns: touched, values: values)
            }
            sparse = matrix
        }
        var dense: Matrix?
        if vectorWidth > 0 {
            var m = Matrix(rows: texts.count, cols: vectorWidth)
            m.storage.withUnsafeMutableBufferPointer { out in
                for (i, v) in vectors.enumerated() {
                    guard let v, v.count == vectorWidth else { continue }
                    let row = out.baseAddress! + i * vectorWidth
                    for j in 0..<vectorWidth { row[j] = (v[j] - means[j]) * scales[j] }
                }
            }
            dense = m
        }
        return FeatureMatrix(sparse: sparse, dense: dense)
    }

    /// Dense embeddings of texts for diversity and similarity: each text's
    /// TF-IDF row over the whole vocabulary the featurizer was fitted on
    /// (columns and norm terms alike, so a model trained on 20 labels still
    /// sees every pool word), multiplied by a random ±1/√d sign matrix
    /// (Achlioptas 2003) that is a pure function of each term's hash and
    /// `seed`. Rows have unit norm before projection, so Euclidean and
    /// cosine distances between embeddings approximate those of the TF-IDF
    /// rows (Johnson–Lindenstrauss), and near-duplicate texts land close together.
    /// A text without a known term gets a zero row.
    ///
    /// - Parameters:
    ///   - dimensions: embedding width, a positive multiple of 64.
    /// - Complexity: O(total tokens × dimensions / 64 + n × dimensions), no per-term allocation.
    public func embed(texts: [String?], dimensions: Int = 128, seed: UInt64 = 0x5EED) -> Matrix {
        precondition(dimensions > 0 && dimensions % 64 == 0, "embedding width \(dimensions) is not a positive multiple of 64")
        var out = Matrix(rows: texts.count, cols: dimensions)
        guard hasText else { return out }
        let words = dimensions / 64
        let scale = 1 / Float(dimensions).squareRoot()
        // Terms in order of first appearance, so the sums do not depend on the process's hash seed.
        var counts: [UInt64: Float] = [:]
        var order: [UInt64] = []
        out.storage.withUnsafeMutableBufferPointer { buffer in
            for (i, text) in texts.enumerated() {
                guard let text else { continue }
                counts.removeAll(keepingCapacity: true)
                order.removeAll(keepingCapacity: true)
                Featurizer.forEachTerm(text, maxNGram: settings.maxNGram) { term in
                    guard index[term] != nil else { return }
                    if counts[term] == nil { order.append(term) }
                    counts[term, default: 0] += 1
                }
                let row = buffer.baseAddress! + i * dimensions
                var norm: Float = 0
                for term in order {
                    let tf = counts[term]!, j = index[term]!
                    let weight = j >= 0 ? idf[Int(j)] : normIDF[Int(-j - 1)]
                    let v = (settings.sublinearTF ? 1 + logf(tf) : tf) * weight
                    norm += v * v
                    var bits = Featurizer.combine(term, seed)
                    for w in 0..<words {
                        if w > 0 { bits = Featurizer.combine(bits, seed) }
                        let base = row + w * 64
                        for b in 0..<64 { base[b] += (bits >> UInt64(b)) & 1 == 1 ? v : -v }
                    }
                }
                guard norm > 0 else { continue }
                let inv = scale / norm.squareRoot()
                for r in 0..<dimensions { row[r] *= inv }
            }
        }
        return out
    }

    /// Calls `body` with a 64-bit hash of every word n-gram in `text`.
    /// Words are runs of two or more letters, digits or underscores (any
    /// non-ASCII byte counts as a letter); ASCII is lower-cased.
    static func forEachTerm(_ text: String, maxNGram: Int, _ body: (UInt64) -> Void) {
        var window = (UInt64(0), UInt64(0)) // the previous words' hashes, newest first
        var seen = 0
        forEachWord(text) { h, _ in
            body(h)
            if maxNGram >= 2, seen >= 1 { body(combine(window.0, h)) }
            if maxNGram >= 3, seen >= 2 { body(combine(window.1, combine(window.0, h))) }
            window = (h, window.0)
            seen += 1
        }
    }

    /// Calls `body` with each word's hash and its byte range in `text`'s UTF-8.
    static func forEachWord(_ text: String, _ body: (UInt64, Range<Int>) -> Void) {
        let offset: UInt64 = 0xcbf2_9ce4_8422_2325
        var h = offset
        var length = 0
        var text = text
        text.withUTF8 { bytes in
            for (i, byte) in bytes.enumerated() {
                var b = byte
                let isWordByte = (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 95 || b >= 128
                if isWordByte {
                    if b >= 65 && b <= 90 { b += 32 }
                    h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3
                    length += 1
                } else if length > 0 {
                    if length >= 2 { body(h, (i - length)..<i) }
                    h = offset
                    length = 0
                }
            }
            if length >= 2 { body(h, (bytes.count - length)..<bytes.count) }
        }
    }

    /// The names of `text`'s n-grams by their hash ("word" or "two words"), to explain a prediction.
    ///
    /// - Complexity: O(length of `text`).
    public static func termNames(_ text: String, maxNGram: Int) -> [UInt64: String] {
        let utf8 = Array(text.utf8)
        var names: [UInt64: String] = [:]
        var window: [(hash: UInt64, word: String)] = []
        forEachWord(text) { h, range in
            let word = String(decoding: utf8[range], as: UTF8.self).lowercased()
            names[h] = word
            if maxNGram >= 2, let previous = window.last { names[combine(previous.hash, h)] = previous.word + " " + word }
            if maxNGram >= 3, window.count >= 2 {
                let a = window[window.count - 2], b = window[window.count - 1]
                names[combine(a.hash, combine(b.hash, h))] = a.word + " " + b.word + " " + word
            }
            window.append((h, word))
        }
        return names
    }

    @inline(__always)
    static func combine(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var z = a &* 0x9E37_79B9_7F4A_7C15 ^ (b &+ 0x632B_E59B_D9B4_E019)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        return z ^ (z >> 27)
    }
}
