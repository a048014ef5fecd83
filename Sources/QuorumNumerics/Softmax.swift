/// Row-wise softmax and the measures Quorum reads off probability rows.
public enum Softmax {
    /// Replaces each row of `logits` with its softmax, in place, stably
    /// (subtracting the row maximum first).
    ///
    /// - Complexity: O(rows × cols); no allocation.
    public static func applyRows(_ logits: inout Matrix) {
        let (rows, cols) = (logits.rows, logits.cols)
        logits.storage.withUnsafeMutableBufferPointer { applyRows($0, rows: rows, cols: cols) }
    }

    /// The same, on a raw row-major buffer of `rows × cols` values, so a
    /// matrix of M blocks of k classes per row can be treated as (rows·M) × k.
    ///
    /// - Complexity: O(rows × cols); no allocation.
    public static func applyRows(_ p: UnsafeMutableBufferPointer<Float>, rows: Int, cols k: Int) {
        precondition(p.count >= rows * k, "softmax: buffer holds \(p.count) values, expected \(rows)×\(k)")
        guard k > 0, rows > 0 else { return }
        // Shift each row by its maximum, exponentiate the whole buffer in
        // SIMD lanes (row boundaries do not matter), then normalise.
        for r in 0..<rows {
            let row = p.baseAddress! + r * k
            var m = row[0]
            for j in 1..<k where row[j] > m { m = row[j] }
            for j in 0..<k { row[j] -= m }
        }
        FastMath.expInPlace(UnsafeMutableBufferPointer(rebasing: p[0..<(rows * k)]))
        for r in 0..<rows {
            let row = p.baseAddress! + r * k
            var sum: Float = 0
            for j in 0..<k { sum += row[j] }
            let inv = 1 / sum
            for j in 0..<k { row[j] *= inv }
        }
    }
}

