import QuorumNumerics

/// Embedding similarity for the adversarial strategy.
public enum Similarity {
    /// For each candidate row, its largest cosine similarity to any row of
    /// `targets`, computed a block of targets at a time with one GEMM each,
    /// so memory stays O(n × block).
    ///
    /// - Complexity: O(n × m × d) by BLAS, for n candidates and m targets.
    public static func maxCosine(_ candidates: Matrix, to targets: Matrix, block: Int = 1024) -> [Float] {
        precondition(candidates.cols == targets.cols, "maxCosine: \(candidates.cols) and \(targets.cols) dimensions")
        func normalised(_ m: Matrix) -> Matrix {
            var out = m
            for i in 0..<m.rows {
                var s: Float = 0
                for j in 0..<m.cols { s += m[i, j] * m[i, j] }
                let inv = s > 0 ? 1 / s.squareRoot() : 0
                for j in 0..<m.cols { out[i, j] *= inv }
            }
            return out
        }
        let x = normalised(candidates), t = normalised(targets)
        var best = [Float](repeating: -1, count: x.rows)
        var start = 0
        while start < t.rows {
            let end = min(start + block, t.rows)
            var dots = Matrix(rows: x.rows, cols: end - start)
            BLAS.gemm(x, t.rows(at: Array(start..<end)), transposeB: true, into: &dots)
            for i in 0..<x.rows { for j in 0..<(end - start) { best[i] = max(best[i], dots[i, j]) } }
            start = end
        }
        return best
    }
}
