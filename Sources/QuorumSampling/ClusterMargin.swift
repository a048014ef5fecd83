import QuorumNumerics

extension Diversity {
    /// Lloyd iterations after k-means++ seeding (fewer when the assignment settles).
    static let clusterMarginIterations = 5

    /// Cluster-margin (Citovsky et al. 2021, "Batch Active Learning at Scale"):
    /// the candidates (already the most uncertain items) are clustered by
    /// seeded k-means into `count` clusters — k-means++ seeds, then up to
    /// `clusterMarginIterations` Lloyd steps with GEMM distances — and the
    /// batch is filled round-robin over the non-empty clusters ordered from
    /// smallest to largest (ties: the cluster whose first member has the lower
    /// index), taking the highest-priority remaining row of each (ties: the
    /// lowest index). Without priorities every row ranks equal.
    ///
    /// - Complexity: O(iterations × count × n × d) by BLAS plus O(n log n) for
    ///   the order; extra memory O(n + count × d + tile).
    static func clusterMargin(_ candidates: Matrix, count k: Int, priority: [Double]?, seed: UInt64) -> [Int] {
        let n = candidates.rows, d = candidates.cols
        let seeds = seeding(candidates, count: k, centers: nil, priority: nil, weighted: false, seed: seed)
        var centroids = candidates.rows(at: seeds)
        let clusters = centroids.rows
        let norms = squaredNorms(candidates)
        var minDistance = [Float](repeating: .infinity, count: n)
        var assignment = [Int32](repeating: -1, count: n)
        var previous = assignment
        var size = [Int](repeating: 0, count: clusters)
        for iteration in 0...clusterMarginIterations {
            for i in 0..<n { minDistance[i] = .infinity }
            nearestCenters(candidates, norms: norms, centers: centroids, minDistance: &minDistance, nearest: &assignment)
            if assignment == previous || iteration == clusterMarginIterations { break }
            previous = assignment
            // Each centroid moves to the mean of its members; an empty cluster keeps its centroid.
            for c in 0..<clusters { size[c] = 0 }
            var sums = Matrix(rows: clusters, cols: d)
            candidates.storage.withUnsafeBufferPointer { x in
                sums.storage.withUnsafeMutableBufferPointer { s in
                    for i in 0..<n {
                        let c = Int(assignment[i])
                        size[c] += 1
                        for j in 0..<d { s[c * d + j] += x[i * d + j] }
                    }
                }
            }
            for c in 0..<clusters where size[c] > 0 {
                let scale = 1 / Float(size[c])
                for j in 0..<d { centroids[c, j] = sums[c, j] * scale }
            }
        }
        // Rows by priority (highest first, ties: lowest index), bucketed by cluster in that order.
        let rank = priority.map { p in (0..<n).sorted { p[$0] > p[$1] || (p[$0] == p[$1] && $0 < $1) } } ?? Array(0..<n)
        for c in 0..<clusters { size[c] = 0 }
        for i in 0..<n { size[Int(assignment[i])] += 1 }
        var start = [Int](repeating: 0, count: clusters + 1)
        for c in 0..<clusters { start[c + 1] = start[c] + size[c] }
        var members = [Int](repeating: 0, count: n)
        var fill = start
        for i in rank { let c = Int(assignment[i]); members[fill[c]] = i; fill[c] += 1 }
        var firstMember = [Int](repeating: n, count: clusters)
        for i in 0..<n { let c = Int(assignment[i]); firstMember[c] = min(firstMember[c], i) }
        let order = (0..<clusters).filter { size[$0] > 0 }.sorted {
            size[$0] < size[$1] || (size[$0] == size[$1] && firstMember[$0] < firstMember[$1])
        }
        // Round-robin: one row per cluster per round, smallest clusters first.
        var taken = [Int](repeating: 0, count: clusters)
        var picked: [Int] = []
        picked.reserveCapacity(k)
        while picked.count < k {
            for c in order where picked.count < k && taken[c] < size[c] {
                picked.append(members[start[c] + taken[c]])
                taken[c] += 1
            }
        }
        return picked
    }
}
