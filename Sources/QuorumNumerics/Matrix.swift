/// A dense, row-major matrix of `Float` in one contiguous buffer.
///
/// It is the currency of the numeric layer: features, weights and
/// probabilities all travel as `Matrix`, and BLAS reads its storage directly.
public struct Matrix: Sendable, Equatable {
    public private(set) var rows: Int
    public let cols: Int
    /// Row-major storage: element (i, j) is `storage[i * cols + j]`.
    public var storage: [Float]

    /// A zero-filled `rows × cols` matrix.
    public init(rows: Int, cols: Int) {
        precondition(rows >= 0 && cols >= 0, "matrix dimensions must be non-negative")
        self.rows = rows
        self.cols = cols
        self.storage = [Float](repeating: 0, count: rows * cols)
    }

    /// Wraps existing row-major storage.
    public init(rows: Int, cols: Int, storage: [Float]) {
        precondition(storage.count == rows * cols, "storage holds \(storage.count) values, expected \(rows)×\(cols)")
        self.rows = rows
        self.cols = cols
        self.storage = storage
    }

    @inlinable
    public subscript(i: Int, j: Int) -> Float {
        get { storage[i * cols + j] }
        set { storage[i * cols + j] = newValue }
    }

    /// Copies of the rows at `indices`, in that order.
    ///
    /// - Complexity: O(indices.count × cols).
    public func rows(at indices: [Int]) -> Matrix {
        var out = Matrix(rows: indices.count, cols: cols)
        storage.withUnsafeBufferPointer { src in
            out.storage.withUnsafeMutableBufferPointer { dst in
                for (r, i) in indices.enumerated() {
                    let from = src.baseAddress! + i * cols
                    (dst.baseAddress! + r * cols).update(from: from, count: cols)
                }
            }
        }
        return out
    }

    /// Index of the largest value in row `i` (the first one on ties).
    public func argmax(row i: Int) -> Int {
        var best = 0
        var bestValue = -Float.infinity
        for j in 0..<cols where self[i, j] > bestValue {
            bestValue = self[i, j]
            best = j
        }
        return best
    }
}
