import QuorumNumerics

extension Diversity {
    /// k-means++ seeding: each pick is drawn with probability ∝ its squared
    /// distance to the nearest center so far — times its priority when
    /// `weighted` (BADGE-like; negative priorities count as 0). With no
    /// centers the first pick is the highest priority (ties: the lowest index),
    /// or a seeded random row without priorities.
    ///
    /// Sampling needs every candidate's exact minimum distance, so all of them
    /// are kept up to date: each pick updates only the candidates it could be
    /// closer to. By the triangle inequality a candidate x whose nearest
    /// center c′ satisfies ‖c − c′‖ ≥ 2‖x − c′‖ cannot get closer to the new
    /// center c, so it is skipped (Elkan's bound). While most candidates remain,
    /// one GEMV serves them all; once most are pruned, one dot product per survivor.
    /// When the weighted mass of the unchosen rows is 0 (every positive-priority
    /// row already covered), the draw falls back to plain distances, then to
    /// the first unchosen row.
    ///
    /// - Complexity: O((m + count) × n × d) time, by BLAS; O(n + m + count + tile) extra memory.
    static func seeding(_ candidates: Matrix, count k: Int, centers: Matrix?, priority: [Double]?,
                        weighted: Bool, seed: UInt64) -> [Int] {
        let n = candidates.rows, d = candidates.cols
        let existing = centers?.rows ?? 0
        let norms = squaredNorms(candidates)
        var minDistance = [Float](repeating: .infinity, count: n)
        // The center each candidate is nearest to: 0..<m for existing centers, m + p for the p-th pick.
        var nearest = [Int32](repeating: -1, count: n)
        if let centers, existing > 0 {
            nearestCenters(candidates, norms: norms, centers: centers, minDistance: &minDistance, nearest: &nearest)
        }
        let weight: [Double]? = weighted ? priority.map { $0.map { max($0, 0) } } : nil
        var picked: [Int] = []
        picked.reserveCapacity(k)
        var chosen = [Bool](repeating: false, count: n)
        var rng = SeededGenerator(seed: seed)
        var dots = [Float](repeating: 0, count: n)
        var survivors: [Int] = []
        var centerGap: [Float] = []
        survivors.reserveCapacity(n)
        centerGap.reserveCapacity(existing + k)
        for step in 0..<k {
            var next: Int
            if step == 0 && existing == 0 {
                next = priority == nil ? Int(rng.next() % UInt64(n)) : highestPriority(priority, count: n)
            } else {
                next = draw(minDistance, weight, chosen, &rng)
                    ?? draw(minDistance, nil, chosen, &rng)
                    ?? chosen.firstIndex(of: false) ?? -1
            }
            guard next >= 0 else { break }
            picked.append(next)
            chosen[next] = true
            if picked.count == k { break }  // no distances are needed after the last pick
            // Squared distances from the new center to every center so far.
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
            candidates.storage.withUnsafeBufferPointer { x in
                for i in survivors {
                    var dist = max(norms[i] + norms[next] - 2 * dots[i], 0)
                    // Near zero the expansion is mostly rounding: measure again, so a copy of a center is at 0.
                    if dist < 1e-4 * (norms[i] + norms[next]) {
                        dist = squaredDistance(x.baseAddress! + i * d, x.baseAddress! + next * d, d)
                    }
                    if dist < minDistance[i] { minDistance[i] = dist; nearest[i] = newIndex }
                }
            }
            minDistance[next] = 0
        }
        return picked
    }

    /// One draw over the unchosen rows with probability ∝ weight × distance
    /// (weight 1 when `weight` is nil); nil when that mass is 0. Rows of zero
    /// mass are never returned.
    static func draw(_ distance: [Float], _ weight: [Double]?, _ chosen: [Bool],
                     _ rng: inout SeededGenerator) -> Int? {
        let n = distance.count
        var total = 0.0
        for i in 0..<n where !chosen[i] { total += Double(distance[i]) * (weight?[i] ?? 1) }
        guard total > 0, total.isFinite else { return nil }
        var u = Double(rng.next() >> 11) / Double(1 << 53) * total
        var next: Int?
        for i in 0..<n where !chosen[i] {
            let mass = Double(distance[i]) * (weight?[i] ?? 1)
            guard mass > 0 else { continue }
            next = i
            u -= mass
            if u <= 0 { break }
        }
        return next
    }
}
