/// Row-wise softmax and the measures Quorum reads off probability rows.
public enum Softmax {
    /// Replaces each row of `logits` with its softmax, in place, stably
    /// (subtracting the row maximum first).
    ///
    /// - Complexity: O(rows × cols); no allocation.
    public static func applyRows(_ logits: inout Matrix) {
        let k = logits.cols
        guard k > 0 else { return }
        logits.storage.withUnsafeMutableBufferPointer { p in
            // Shift each row by its maximum, exponentiate the whole buffer in
            // SIMD lanes (row boundaries do not matter), then normalise.
            for r in 0..<logits.rows {
                let row = p.baseAddress! + r * k
                var m = row[0]
                for j in 1..<k where row[j] > m { m = row[j] }
                for j in 0..<k { row[j] -= m }
            }
            FastMath.expInPlace(p)
            for r in 0..<logits.rows {
                let row = p.baseAddress! + r * k
                var sum: Float = 0
                for j in 0..<k { sum += row[j] }
                let inv = 1 / sum
                for j in 0..<k { row[j] *= inv }
            }
        }
    }
}

