import CLAPACKE

/// Linear solves through LAPACKE.
public enum LAPACK {
    /// Why a LAPACK routine refused.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// The matrix is not positive definite (LAPACK's `info` > 0).
        case notPositiveDefinite(leadingMinor: Int)
        /// An argument was invalid (LAPACK's `info` < 0); a programming error.
        case invalidArgument(Int)

        public var description: String {
            switch self {
            case .notPositiveDefinite(let k): "the matrix is not positive definite (leading minor \(k))"
            case .invalidArgument(let i): "LAPACK rejected argument \(-i)"
            }
        }
    }

    /// Solves `A · X = B` for symmetric positive-definite `A` (n×n) by
    /// Cholesky factorisation (sposv), returning X (n × B.cols).
    ///
    /// - Complexity: O(n³/3 + n²·m) for m right-hand sides.
    public static func solveSymmetricPositiveDefinite(_ a: Matrix, _ b: Matrix) throws(Failure) -> Matrix {
        precondition(a.rows == a.cols, "sposv: A must be square")
        precondition(b.rows == a.rows, "sposv: B has \(b.rows) rows, A has \(a.rows)")
        var factor = a
        var x = b
        let n = Int32(a.rows)
        let nrhs = Int32(b.cols)
        let info = factor.storage.withUnsafeMutableBufferPointer { pa in
            x.storage.withUnsafeMutableBufferPointer { px in
                LAPACKE_sposv(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "U")), n, nrhs,
                              pa.baseAddress, n, px.baseAddress, nrhs)
            }
        }
        if info > 0 { throw .notPositiveDefinite(leadingMinor: Int(info)) }
        if info < 0 { throw .invalidArgument(Int(info)) }
        return x
    }
}
