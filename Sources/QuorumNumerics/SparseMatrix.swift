/// A compressed-sparse-row matrix of `Float`: row `i`'s non-zeros are
/// `values[rowStart[i]..<rowStart[i+1]]` at columns `columns[same range]`.
///
/// Text features live here: a TF-IDF row has a few hundred non-zeros out of
/// hundreds of thousands of columns, so products with dense weights cost
/// O(nnz × k) instead of O(n × V × k).
public struct SparseMatrix: Sendable, Equatable {
    public private(set) var rows: Int
    public let cols: Int
    public private(set) var rowStart: [Int]
    public private(set) var columns: [Int32]
    public private(set) var values: [Float]

    /// An empty matrix with `cols` columns; add rows with `appendRow`.
    public init(cols: Int) {
        self.rows = 0
        self.cols = cols
        self.rowStart = [0]
        self.columns = []
        self.values = []
    }

    public var nonZeros: Int { values.count }

    /// Appends a row given as parallel (column, value) arrays.
    ///
    /// - Complexity: amortised O(entries).
    public mutating func appendRow(columns c: some Collection<Int32>, values v: some Collection<Float>) {
        precondition(c.count == v.count, "appendRow: \(c.count) columns but \(v.count) values")
        columns.append(contentsOf: c)
        values.append(contentsOf: v)
        rows += 1
        rowStart.append(values.count)
    }

    /// Copies of the rows at `indices`, in that order.
    ///
    /// - Complexity: O(non-zeros of those rows).
    public func rows(at indices: [Int]) -> SparseMatrix {
        var out = SparseMatrix(cols: cols)
        for i in indices {
            let r = rowStart[i]..<rowStart[i + 1]
            out.appendRow(columns: columns[r], values: values[r])
        }
        return out
    }

    /// `out ← beta · out + self · w`, where `w` is `cols × k` and `out` is `rows × k`.
    ///
    /// - Complexity: O(nnz × k); no allocation.
    public func multiply(_ w: UnsafePointer<Float>, k: Int, into out: UnsafeMutablePointer<Float>, beta: Float) {
        columns.withUnsafeBufferPointer { cols in
            values.withUnsafeBufferPointer { vals in
                for i in 0..<rows {
                    let o = out + i * k
                    if beta == 0 { o.update(repeating: 0, count: k) } else if beta != 1 { for j in 0..<k { o[j] *= beta } }
                    for e in rowStart[i]..<rowStart[i + 1] {
                        let v = vals[e]
                        let src = w + Int(cols[e]) * k
                        for j in 0..<k { o[j] += v * src[j] }
                    }
                }
            }
        }
    }

    /// `out ← beta · out + selfᵀ · g`, where `g` is `rows × k` and `out` is `cols × k`.
    ///
    /// - Complexity: O(nnz × k + cols × k); no allocation.
    public func transposeMultiply(_ g: UnsafePointer<Float>, k: Int, into out: UnsafeMutablePointer<Float>, beta: Float) {
        if beta == 0 { out.update(repeating: 0, count: cols * k) } else if beta != 1 { for j in 0..<(cols * k) { out[j] *= beta } }
        columns.withUnsafeBufferPointer { cols in
            values.withUnsafeBufferPointer { vals in
                for i in 0..<rows {
                    let gi = g + i * k
                    for e in rowStart[i]..<rowStart[i + 1] {
                        let v = vals[e]
                        let dst = out + Int(cols[e]) * k
                        for j in 0..<k { dst[j] += v * gi[j] }
                    }
                }
            }
        }
    }
}

/// Feature rows made of an optional sparse block (text) followed by an
/// optional dense block (vectors). Models see one matrix of width
/// `sparse.cols + dense.cols` and never build it densely.
public struct FeatureMatrix: Sendable, Equatable {
    public var sparse: SparseMatrix?
    public var dense: Matrix?

    public init(sparse: SparseMatrix?, dense: Matrix?) {
        if let sparse, let dense { precondition(sparse.rows == dense.rows, "blocks have \(sparse.rows) and \(dense.rows) rows") }
        self.sparse = sparse
        self.dense = dense
    }

    public var rows: Int { sparse?.rows ?? dense?.rows ?? 0 }
    public var sparseWidth: Int { sparse?.cols ?? 0 }
    public var denseWidth: Int { dense?.cols ?? 0 }
    public var width: Int { sparseWidth + denseWidth }

    public func rows(at indices: [Int]) -> FeatureMatrix {
        FeatureMatrix(sparse: sparse?.rows(at: indices), dense: dense?.rows(at: indices))
    }

    /// `out ← beta · out + X · W` for `W` of shape `width × k` (row-major):
    /// the sparse block's product, then one GEMM for the dense block.
    ///
    /// - Complexity: O(nnz × k + rows × denseWidth × k).
    public func multiply(_ w: UnsafeBufferPointer<Float>, k: Int, into out: inout Matrix, beta: Float) {
        precondition(w.count == width * k && out.rows == rows && out.cols == k, "multiply: shapes differ")
        var beta = beta
        out.storage.withUnsafeMutableBufferPointer { o in
            if let sparse {
                sparse.multiply(w.baseAddress!, k: k, into: o.baseAddress!, beta: beta)
                beta = 1
            }
            if let dense, dense.cols > 0, rows > 0 {
                BLAS.gemm(rawA: dense.storage, m: rows, n: k, kDim: dense.cols,
                          b: w.baseAddress! + sparseWidth * k, into: o.baseAddress!, beta: beta)
            } else if beta == 0 {
                o.update(repeating: 0)
            }
        }
    }

    /// `out ← Xᵀ · G` for `G` of shape `rows × k`; `out` has `width × k` values.
    ///
    /// - Complexity: O(nnz × k + rows × denseWidth × k).
    public func transposeMultiply(_ g: Matrix, into out: UnsafeMutableBufferPointer<Float>) {
        let k = g.cols
        precondition(g.rows == rows && out.count == width * k, "transposeMultiply: shapes differ")
        g.storage.withUnsafeBufferPointer { gp in
            if let sparse { sparse.transposeMultiply(gp.baseAddress!, k: k, into: out.baseAddress!, beta: 0) }
            if let dense, dense.cols > 0 {
                BLAS.gemmTransposedA(rawA: dense.storage, m: rows, kDim: dense.cols, g: gp.baseAddress!, n: k,
                                     into: out.baseAddress! + sparseWidth * k)
            }
        }
    }
}

import CBLAS

extension BLAS {
    /// `C (m×n) ← A (m×kDim) · B (kDim×n) + beta·C` on raw row-major buffers.
    static func gemm(rawA a: [Float], m: Int, n: Int, kDim: Int, b: UnsafePointer<Float>,
                     into c: UnsafeMutablePointer<Float>, beta: Float) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(kDim), 1,
                    a, Int32(kDim), b, Int32(n), beta, c, Int32(n))
    }

    /// `C (kDim×n) ← Aᵀ · G` for `A` (m×kDim) and `G` (m×n), row-major.
    static func gemmTransposedA(rawA a: [Float], m: Int, kDim: Int, g: UnsafePointer<Float>, n: Int,
                                into c: UnsafeMutablePointer<Float>) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(kDim), Int32(n), Int32(m), 1,
                    a, Int32(kDim), g, Int32(n), 0, c, Int32(n))
    }
}
