import QuorumNumerics

/// Batch diversity over embeddings: k-center greedy, k-means++ seeding (plain
/// or weighted by priority) and cluster-margin.
///
/// Every method measures squared Euclidean distances and never forms an
/// n × n matrix: distances to existing centers come from one blocked GEMM
/// pass over tiles of candidates × centers, and each pick touches only the
/// rows it needs. The methods live in their own files: `KCenter.swift`
/// (lazy exact greedy), `KMeansPlusPlus.swift` (seeding, plain and
/// weighted) and `ClusterMargin.swift`.
public enum Diversity {
    /// The method, as `--diversity` names it.
    public enum Method: String, Sendable, CaseIterable {
        /// Each pick is the row farthest from everything chosen so far.
        case kCenter = "k-center"
        /// Each pick is drawn with probability ∝ its squared distance to the nearest chosen row.
        case kMeansPlusPlus = "kmeans++"
        /// k-means++ with probability ∝ priority × squared distance (BADGE-like).
        case weightedKMeansPlusPlus = "weighted-kmeans++"
        /// Cluster the candidates, then round-robin over clusters from smallest to
        /// largest, taking the highest-priority remaining item of each (Citovsky et al. 2021).
        case clusterMargin = "cluster-margin"
        /// The first `count` candidates, as given.
        case none
    }

    /// Picks `count` rows of `candidates` (n × d) that spread out over the space.
    ///
    /// - `.kCenter`: each pick is the row farthest from everything chosen so far
    ///   and from `centers` (ties: the lowest index); exact greedy.
    /// - `.kMeansPlusPlus`: each pick is drawn with probability ∝ that squared
    ///   distance (seeded).
    /// - `.weightedKMeansPlusPlus`: drawn with probability ∝ `priority` × that
    ///   squared distance (seeded; negative priorities count as 0).
    /// - `.clusterMargin`: seeded k-means into `count` clusters, then round-robin
    ///   over the clusters from smallest to largest, taking the highest-priority
    ///   remaining row of each; `centers` are not used.
    ///
    /// With no centers, the first pick of the k-center and k-means++ methods is
    /// the row with the highest `priority` (ties: the lowest index); for plain
    /// k-means++ without a priority it is a seeded random row.
    ///
    /// - Parameters:
    ///   - centers: rows already covered (e.g. labelled items), m × d; may be empty.
    ///   - priority: one score per candidate, higher = more wanted (e.g. uncertainty).
    ///   - seed: seeds every random choice.
    /// - Returns: indices into `candidates`, in pick order.
    /// - Complexity: k-center: O(m × n × d) for the centers pass (BLAS) plus, per
    ///   pick, distance evaluations only for the rows whose upper bound reaches the
    ///   top (worst case O(count × n × d) in all); k-means++: O((m + count) × n × d);
    ///   cluster-margin: O(iterations × count × n × d) by BLAS. Extra memory
    ///   O(n + count² + tile), never n × n.
    public static func select(_ method: Method, candidates: Matrix, count: Int, centers: Matrix? = nil,
                              priority: [Double]? = nil, seed: UInt64 = 1) -> [Int] {
        let k = min(count, candidates.rows)
        guard k > 0 else { return [] }
        if let centers, centers.rows > 0 {
            precondition(centers.cols == candidates.cols,
                         "centers have \(centers.cols) dimensions, candidates \(candidates.cols)")
        }
        if let priority {
            precondition(priority.count == candidates.rows,
                         "priority has \(priority.count) values, candidates \(candidates.rows) rows")
        }
        switch method {
        case .none: return Array(0..<k)
        case .kCenter: return kCenter(candidates, count: k, centers: centers, priority: priority)
        case .kMeansPlusPlus:
            return seeding(candidates, count: k, centers: centers, priority: priority, weighted: false, seed: seed)
        case .weightedKMeansPlusPlus:
            return seeding(candidates, count: k, centers: centers, priority: priority, weighted: true, seed: seed)
        case .clusterMargin: return clusterMargin(candidates, count: k, priority: priority, seed: seed)
        }
    }

    /// The index of the highest priority (ties: the lowest index); 0 without priorities.
    static func highestPriority(_ priority: [Double]?, count n: Int) -> Int {
        guard let p = priority else { return 0 }
        var best = 0
        for i in 1..<max(n, 1) where p[i] > p[best] { best = i }
        return best
    }

    /// Squared norms of the rows of `x`.
    static func squaredNorms(_ x: Matrix) -> [Float] {
        let n = x.rows, d = x.cols
        var norms = [Float](repeating: 0, count: n)
        x.storage.withUnsafeBufferPointer { p in
            for i in 0..<n { norms[i] = dot(p.baseAddress! + i * d, p.baseAddress! + i * d, d) }
        }
        return norms
    }

    /// Sets `minDistance[i]` to the squared distance from candidate i to its
    /// nearest row of `centers`, and `nearest[i]` to that row's index (ties: the
    /// lowest index), where a center is nearer than the value already there
    /// (pass +∞ and −1 to start afresh). One tile of 4,096 candidates × 512
    /// centers (8 MB) at a time: D = ‖x‖² + ‖c‖² − 2·X·Cᵀ by GEMM, so memory
    /// stays O(n·d); then the distance to the nearest center found is measured
    /// again as Σ(x − c)², so a copy of a center is at distance exactly 0.
    ///
    /// - Complexity: O(m × n × d) by BLAS; O(tile) extra memory.
    static func nearestCenters(_ candidates: Matrix, norms: [Float], centers: Matrix,
                               minDistance: inout [Float], nearest: inout [Int32]) {
        let n = candidates.rows
        let centerBlock = 512, rowBlock = 4096
        var start = 0
        while start < centers.rows {
            let end = min(start + centerBlock, centers.rows)
            let c = centers.rows(at: Array(start..<end))
            let m = end - start
            let cNorms = squaredNorms(c)
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
        let d = candidates.cols
        candidates.storage.withUnsafeBufferPointer { x in
            centers.storage.withUnsafeBufferPointer { c in
                for i in 0..<n where nearest[i] >= 0 {
                    minDistance[i] = squaredDistance(x.baseAddress! + i * d, c.baseAddress! + Int(nearest[i]) * d, d)
                }
            }
        }
    }

    /// The squared Euclidean distance between `d` floats at `a` and at `b`, as
    /// Σ (a − b)² in eight-wide lanes (multiply, then add: `addProduct`
    /// would call libm's scalar `fmaf` per lane on a baseline x86-64 target). A pure function of the values, so equal
    /// rows give bit-equal distances (ties stay ties) and a row's distance to
    /// itself is exactly 0.
    @inline(__always)
    static func squaredDistance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Float {
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
        var j = 0
        while j + 16 <= d {
            let t0 = ra.loadUnaligned(fromByteOffset: 4 * j, as: SIMD8<Float>.self)
                - rb.loadUnaligned(fromByteOffset: 4 * j, as: SIMD8<Float>.self)
            let t1 = ra.loadUnaligned(fromByteOffset: 4 * j + 32, as: SIMD8<Float>.self)
                - rb.loadUnaligned(fromByteOffset: 4 * j + 32, as: SIMD8<Float>.self)
            acc0 += t0 * t0
            acc1 += t1 * t1
            j += 16
        }
        if j + 8 <= d {
            let t0 = ra.loadUnaligned(fromByteOffset: 4 * j, as: SIMD8<Float>.self)
                - rb.loadUnaligned(fromByteOffset: 4 * j, as: SIMD8<Float>.self)
            acc0 += t0 * t0
            j += 8
        }
        var s = (acc0 + acc1).sum()
        while j < d { let t = a[j] - b[j]; s += t * t; j += 1 }
        return s
    }

    /// The dot product of `d` floats at `a` and at `b`, in eight-wide lanes.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Float {
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var acc = SIMD8<Float>()
        var j = 0
        while j + 8 <= d {
            acc += ra.loadUnaligned(fromByteOffset: 4 * j, as: SIMD8<Float>.self)
                * rb.loadUnaligned(fromByteOffset: 4 * j, as: SIMD8<Float>.self)
            j += 8
        }
        var s = acc.sum()
        while j < d { s += a[j] * b[j]; j += 1 }
        return s
    }
}
