import CBLAS

/// Thin, typed wrappers over the CBLAS routines Quorum uses.
///
/// All matrices are row-major. The wrappers check shapes with preconditions;
/// a shape mismatch is a programming error, never user input.
public enum BLAS {
    /// `C ← alpha · op(A) · op(B) + beta · C` in single precision (sgemm).
    ///
    /// - Complexity: O(m·n·k) floating-point operations, done by BLAS.
    public static func gemm(_ a: Matrix, transposeA: Bool = false,
                            _ b: Matrix, transposeB: Bool = false,
                            into c: inout Matrix, alpha: Float = 1, beta: Float = 0) {
        let m = transposeA ? a.cols : a.rows
        let k = transposeA ? a.rows : a.cols
        let kb = transposeB ? b.cols : b.rows
        let n = transposeB ? b.rows : b.cols
        precondition(k == kb, "gemm: inner dimensions differ (\(k) vs \(kb))")
        precondition(c.rows == m && c.cols == n, "gemm: output is \(c.rows)×\(c.cols), expected \(m)×\(n)")
        if m == 0 || n == 0 { return }
        if k == 0 {
            if beta == 0 { for i in c.storage.indices { c.storage[i] = 0 } }
            return
        }
        a.storage.withUnsafeBufferPointer { pa in
            b.storage.withUnsafeBufferPointer { pb in
                c.storage.withUnsafeMutableBufferPointer { pc in
                    cblas_sgemm(CblasRowMajor,
                                transposeA ? CblasTrans : CblasNoTrans,
                                transposeB ? CblasTrans : CblasNoTrans,
                                Int32(m), Int32(n), Int32(k), alpha,
                                pa.baseAddress, Int32(a.cols),
                                pb.baseAddress, Int32(b.cols),
                                beta, pc.baseAddress, Int32(c.cols))
                }
            }
        }
    }

    /// The dot product of two equal-length vectors (sdot).
    ///
    /// - Complexity: O(n).
    public static func dot(_ x: [Float], _ y: [Float]) -> Float {
        precondition(x.count == y.count, "dot: lengths differ (\(x.count) vs \(y.count))")
        return cblas_sdot(Int32(x.count), x, 1, y, 1)
    }

    /// `y ← alpha · x + y` (saxpy).
    ///
    /// - Complexity: O(n).
    public static func axpy(_ alpha: Float, _ x: [Float], _ y: inout [Float]) {
        precondition(x.count == y.count, "axpy: lengths differ (\(x.count) vs \(y.count))")
        let n = Int32(x.count)
        y.withUnsafeMutableBufferPointer { py in cblas_saxpy(n, alpha, x, 1, py.baseAddress, 1) }
    }

    /// `x ← alpha · x` (sscal).
    ///
    /// - Complexity: O(n).
    public static func scale(_ x: inout [Float], by alpha: Float) {
        let n = Int32(x.count)
        x.withUnsafeMutableBufferPointer { px in cblas_sscal(n, alpha, px.baseAddress, 1) }
    }

    /// The Euclidean norm (snrm2).
    ///
    /// - Complexity: O(n).
    public static func norm(_ x: [Float]) -> Float { cblas_snrm2(Int32(x.count), x, 1) }
}

extension BLAS {
    /// `y ← A · x` for row-major `A` (rows × cols) given by pointer (sgemv).
    ///
    /// - Complexity: O(rows × cols).
    public static func gemv(rows: Int, cols: Int, a: UnsafePointer<Float>, x: UnsafePointer<Float>, into y: inout [Float]) {
        precondition(y.count >= rows, "gemv: output holds \(y.count) values, expected \(rows)")
        y.withUnsafeMutableBufferPointer { py in
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(rows), Int32(cols), 1, a, Int32(cols), x, 1, 0, py.baseAddress, 1)
        }
    }
}

extension BLAS {
    /// The dot product of `n` values at two pointers (sdot).
    ///
    /// - Complexity: O(n).
    @inlinable
    public static func dot(_ n: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) -> Float {
        cblas_sdot(Int32(n), x, 1, y, 1)
    }
}
