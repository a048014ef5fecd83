import QuorumNumerics

extension Diversity {
    /// Exact k-center greedy with lazy evaluation: each pick is the unchosen
    /// row whose squared distance to its nearest center (existing or picked)
    /// is largest, ties to the lowest index — the same picks as recomputing
    /// every distance at every step.
    ///
    /// A row's stored minimum distance is an upper bound on its true one,
    /// because distances only shrink as centers are added. The rows sit in a
    /// max-heap keyed by that bound; each step refreshes the top row against
    /// only the centers picked since its last refresh, and accepts it once it
    /// is up to date and still on top (so its exact value is at least every
    /// other row's bound). A refresh stops as soon as the row falls below the
    /// runner-up's bound, and goes on from there when the row is next on top.
    /// Most rows are never refreshed again once a far row is ahead of them.
    /// A refresh skips a center c for row x when ‖c − c′‖² ≥ 4·d(x, c′), c′
    /// the nearest center so far (by the triangle inequality c cannot be
    /// nearer: Elkan's bound, with a 1e-4 margin so rounding never prunes a
    /// real improvement), using the squared distances between picks, kept
    /// while count²/2 ≤ n·d.
    ///
    /// Distances to picks are Σ(x − c)² (`squaredDistance`), so equal rows tie
    /// exactly; the nearest existing center comes from the blocked GEMM pass,
    /// and the distance to it is measured again the same way.
    ///
    /// - Complexity: O(m × n × d) for the existing centers (BLAS), O(n × d)
    ///   for the first pick without centers, then O(d) per (refreshed row,
    ///   unpruned new center) pair plus O(log n) per refresh; worst case
    ///   O(count × n × d), typically far less. Extra memory O(n + count² + tile)
    ///   with count² ≤ n·d.
    static func kCenter(_ candidates: Matrix, count k: Int, centers: Matrix?, priority: [Double]?) -> [Int] {
        let n = candidates.rows, d = candidates.cols
        let existing = centers?.rows ?? 0
        var minDistance = [Float](repeating: .infinity, count: n)
        // The center each row is nearest to: 0..<m for existing centers, m + p for the p-th pick.
        var nearest = [Int32](repeating: -1, count: n)
        // How many picks each row's minDistance accounts for.
        var refreshed = [Int32](repeating: 0, count: n)
        var picked: [Int] = []
        picked.reserveCapacity(k)
        // Squared distances between picks p > q at p(p − 1)/2 + q, when they fit in O(n·d).
        let keepGaps = k * (k - 1) / 2 <= n * d
        var gaps: [Float] = []
        if keepGaps { gaps.reserveCapacity(k * (k - 1) / 2) }
        var heap = UpperBoundHeap()

        candidates.storage.withUnsafeBufferPointer { storage in
            let x = storage.baseAddress!
            func addPick(_ i: Int) {
                if keepGaps { for q in picked { gaps.append(squaredDistance(x + i * d, x + q * d, d)) } }
                picked.append(i)
            }
            if let centers, existing > 0 {
                nearestCenters(candidates, norms: squaredNorms(candidates), centers: centers,
                               minDistance: &minDistance, nearest: &nearest)
                heap.build(minDistance, excluding: -1)
            } else {
                let first = highestPriority(priority, count: n)
                addPick(first)
                for i in 0..<n { minDistance[i] = squaredDistance(x + i * d, x + first * d, d) }
                for i in 0..<n { nearest[i] = 0; refreshed[i] = 1 }
                heap.build(minDistance, excluding: first)
            }
            while picked.count < k, let top = heap.top {
                let done = picked.count
                if Int(refreshed[top]) == done {
                    heap.pop()
                    addPick(top)
                    continue
                }
                // Refresh the top row against the picks since its last refresh, stopping early once
                // it falls below the runner-up (what it has seen so far is still an upper bound).
                let (nextBound, nextRow) = heap.runnerUp
                var value = minDistance[top], near = Int(nearest[top]) - existing
                let row = x + top * d
                var p = Int(refreshed[top])
                while p < done {
                    defer { p += 1 }
                    if keepGaps, near >= 0, gaps[p * (p - 1) / 2 + near] >= 4 * value * 1.0001 { continue }
                    let dist = squaredDistance(row, x + picked[p] * d, d)
                    guard dist < value else { continue }
                    value = dist
                    near = p
                    if value < nextBound || (value == nextBound && top > nextRow) { break }
                }
                minDistance[top] = value
                nearest[top] = Int32(existing + near)
                refreshed[top] = Int32(p)
                heap.lowerTop(to: value)
            }
        }
        return picked
    }
}

/// A binary max-heap of (upper bound, row) pairs, ordered by bound, then by
/// the lower row index — the k-center tie rule.
struct UpperBoundHeap {
    private var bound: [Float] = []
    private var row: [Int32] = []

    /// The row on top, if any.
    var top: Int? { row.isEmpty ? nil : Int(row[0]) }

    /// Fills the heap with every row's value but `excluded`.
    ///
    /// - Complexity: O(n).
    mutating func build(_ values: [Float], excluding excluded: Int) {
        bound.removeAll(keepingCapacity: true)
        row.removeAll(keepingCapacity: true)
        bound.reserveCapacity(values.count)
        row.reserveCapacity(values.count)
        for (i, v) in values.enumerated() where i != excluded { bound.append(v); row.append(Int32(i)) }
        var i = bound.count / 2
        while i > 0 { i -= 1; siftDown(i) }
    }

    /// The bound and row of the entry that would be on top without the top
    /// one; (−∞, 0) when there is none.
    var runnerUp: (bound: Float, row: Int) {
        guard bound.count > 1 else { return (-.infinity, 0) }
        let best = bound.count > 2 && above(2, 1) ? 2 : 1
        return (bound[best], Int(row[best]))
    }

    /// Removes the top row.
    ///
    /// - Complexity: O(log n).
    mutating func pop() {
        let last = bound.count - 1
        bound.swapAt(0, last); row.swapAt(0, last)
        bound.removeLast(); row.removeLast()
        if !bound.isEmpty { siftDown(0) }
    }

    /// Lowers the top row's bound to `value` (never raises it).
    ///
    /// - Complexity: O(log n).
    mutating func lowerTop(to value: Float) {
        bound[0] = value
        siftDown(0)
    }

    @inline(__always)
    private func above(_ a: Int, _ b: Int) -> Bool {
        bound[a] > bound[b] || (bound[a] == bound[b] && row[a] < row[b])
    }

    private mutating func siftDown(_ start: Int) {
        let count = bound.count
        var i = start
        while true {
            let left = 2 * i + 1
            guard left < count else { return }
            var child = left
            if left + 1 < count, above(left + 1, left) { child = left + 1 }
            guard above(child, i) else { return }
            bound.swapAt(i, child); row.swapAt(i, child)
            i = child
        }
    }
}
