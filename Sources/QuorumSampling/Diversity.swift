import QuorumNumerics

/// Batch diversity over embeddings: k-center greedy and k-means++ seeding.
///
/// Both keep one running minimum distance per candidate, and the center it
/// belongs to, after one blocked GEMM pass against the existing centers.
/// Each pick then updates only the candidates it could be closer to: by the
/// triangle inequality a candidate x whose nearest center c' satisfies
/// ‖c − c'‖ ≥ 2‖x − c'‖ cannot get closer to the new center c, so it is
/// skipped (Elkan's bound). While most candidates remain, one GEMV serves
/// them all; once most are pruned, one dot product per survivor. The picks
/// are the same as recomputing every distance. Memory is O(n·d + n): no
/// n × n matrix is ever formed.
public enum Diversity {
    /// The method, as `--diversity` names it.
    public enum Method: String, Sendable, CaseIterable {
        case kCenter = "k-center"
        case kMeansPlusPlus = "kmeans++"
        case none
    }

    /// Picks `count` rows of `candidates` (n × d): each pick is the row
    /// farthest from everything chosen so far and from `centers` (k-center
    /// greedy), or a row drawn with probability ∝ that squared distance
    /// (k-means++ seeding, seeded). With no centers, the first pick is the
    /// row with the highest `priority` (ties: the lowest index).
    ///
    /// - Parameters:
    ///   - centers: rows already covered (e.g. labelled items), m × d; may be empty.
    ///   - priority: used only for the first pick when there are no centers.
    /// - Returns: indices into `candidates`, in pick order.
    /// - Complexity: O((m + count) × n × d) time, by BLAS; O(n + block × n) extra memory.
    public static func select(_ method: Method, candidates: Matrix, count: Int, centers: Matrix? = nil,
                              priority: [Double]? = nil, seed: UInt64 = 1) -> [Int] {
        let n = candidates.rows, d = candidates.cols
        let k = min(count, n)
        guard k > 0 else { return [] }
        if method == .none { return Array(0..<k) }
        // Squared norms of the candidates.
        var norms = [Float](repeating: 0, count: n)
        candidates.storage.withUnsafeBufferPointer { x in
            for i in 0..<n { var s: Float = 0; for j in 0..<d { s += x[i * d + j] * x[i * d + j] }; norms[i] = s }
        }
        var minDistance = [Float](repeating: .infinity, count: n)
        // The center each candidate is nearest to: 0..<m for existing centers, m + p for the p-th pick.
        var nearest = [Int32](repeating: -1, count: n)
        // Distances to the existing centers, one tile of candidates × centers at a time
        // (4,096 × 512, 8 MB): D = ‖x‖² + ‖c‖² − 2·X·Cᵀ. Memory stays O(n·d) whatever the sizes.
        if let centers, centers.rows > 0 {
            precondition(centers.cols == d, "centers have \(centers.cols) dimensions, candidates \(d)")
            let centerBlock = 512, rowBlock = 4096
            var start = 0
            while start < centers.rows {
                let end = min(start + centerBlock, centers.rows)
                let c = centers.rows(at: Array(start..<end))
                let m = end - start
                var cNorms = [Float](repeating: 0, count: m)
                for r in 0..<m { var s: Float = 0; for j in 0..<d { s += c[r, j] * c[r, j] }; cNorms[r] = s }
                var rowStart = 0
                while rowStart < n {
                    let rowEnd = min(rowStart + rowBlock, n)
                    let x = candidates.rows(at: Array(rowStart..<rowEnd))
                    var dots = Matrix(rows: rowEnd - rowStart, cols: m)
                    BLAS.gemm(x, c, transposeB: true, into: &dots)
                    dots.storage.withUnsafeBufferPointer { p in
                        for i in rowStart..<rowEnd {
                            let row = (i - rowStart) * m
                            for r in 0..<m {
                                let dist = max(norms[i] + cNorms[r] - 2 * p[row + r], 0)
                                if dist < minDistance[i] { minDistance[i] = dist; nearest[i] = Int32(start + r) }
                            }
                        }
                    }
                    rowStart = rowEnd
                }
                start = end
            }
        }
        var picked: [Int] = []
        var chosen = [Bool](repeating: false, count: n)
        var rng = SeededGenerator(seed: seed)
        var dots = [Float](repeating: 0, count: n)
        var survivors: [Int] = []
        var centerGap: [Float] = []
        survivors.reserveCapacity(n)
        for step in 0..<k {
            var next = -1
            if step == 0 && (centers?.rows ?? 0) == 0 {
                if method == .kMeansPlusPlus && priority == nil {
                    next = Int(rng.next() % UInt64(n))
                } else {
                    let p = priority ?? []
                    next = 0
                    for i in 1..<n where (p.isEmpty ? false : p[i] > p[next]) { next = i }
                }
            } else if method == .kCenter {
                var best: Float = -1
                for i in 0..<n where !chosen[i] && minDistance[i] > best { best = minDistance[i]; next = i }
            } else {
                var total = 0.0
                for i in 0..<n where !chosen[i] { total += Double(minDistance[i]) }
                if total <= 0 {
                    next = (0..<n).first { !chosen[$0] } ?? -1
                } else {
                    var u = Double(rng.next() >> 11) / Double(1 << 53) * total
                    for i in 0..<n where !chosen[i] {
                        u -= Double(minDistance[i])
                        next = i
                        if u <= 0 { break }
                    }
                }
            }
            guard next >= 0 else { break }
            picked.append(next)
            chosen[next] = true
            if picked.count == k { break }  // no distances are needed after the last pick
            // Squared distances from the new center to every center so far.
            let existing = centers?.rows ?? 0
            let newIndex = Int32(existing + picked.count - 1)
            centerGap.removeAll(keepingCapacity: true)
            candidates.storage.withUnsafeBufferPointer { x in
                let c = x.baseAddress! + next * d
                if let centers {
                    centers.storage.withUnsafeBufferPointer { e in
                        for j in 0..<existing { centerGap.append(squaredDistance(c, e.baseAddress! + j * d, d)) }
                    }
                }
                for p in picked { centerGap.append(squaredDistance(c, x.baseAddress! + p * d, d)) }
                // Candidates the new center might improve (a 1e-4 margin keeps rounding from pruning a real improvement).
                survivors.removeAll(keepingCapacity: true)
                for i in 0..<n where !chosen[i] {
                    let j = Int(nearest[i])
                    if j >= 0, centerGap[j] > 4 * minDistance[i] * 1.0001 { continue }
                    survivors.append(i)
                }
                if survivors.count * 2 > n {
                    BLAS.gemv(rows: n, cols: d, a: x.baseAddress!, x: c, into: &dots)
                } else {
                    for i in survivors { dots[i] = BLAS.dot(d, x.baseAddress! + i * d, c) }
                }
            }
            for i in survivors {
                let dist = max(norms[i] + norms[next] - 2 * dots[i], 0)
                if dist < minDistance[i] { minDistance[i] = dist; nearest[i] = newIndex }
            }
            minDistance[next] = 0
        }
        return picked
    }

    @inline(__always)
    static func squaredDistance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Float {
        var s: Float = 0
        for j in 0..<d { let t = a[j] - b[j]; s += t * t }
        return s
    }
}
