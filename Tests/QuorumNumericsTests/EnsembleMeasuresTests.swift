import Glibc
import Testing
@testable import QuorumNumerics

/// Tests for `Ensemble.measures` and `FastMath.log`.
@Suite struct EnsembleMeasuresTests {
    // The fixed example: M = 3 members, n = 4 items, k = 3 classes, with exact
    // zeros (item 1 in members 0 and 2; item 2 is one-hot, so p̄ has a zero
    // class), a tie inside one member's row (item 1, member 0 votes class 1),
    // and a three-way tie in the mean (item 3: predicted 0, margin 0).
    static let example: [[Float]] = [
        [0.7, 0.2, 0.1, /**/ 0.0, 0.5, 0.5, /**/ 1.0, 0.0, 0.0, /**/ 0.25, 0.25, 0.5],
        [0.6, 0.3, 0.1, /**/ 0.125, 0.375, 0.5, /**/ 1.0, 0.0, 0.0, /**/ 0.5, 0.25, 0.25],
        [0.1, 0.8, 0.1, /**/ 0.0, 0.625, 0.375, /**/ 0.0, 1.0, 0.0, /**/ 0.25, 0.5, 0.25],
    ]

    // Reference values: numpy 2.4.6, float64, from the float32 array above,
    // P = np.array(example, dtype=np.float32).reshape(3, 4, 3).astype(np.float64), with
    // xlogx(x) = np.where(x > 0, x * np.log(np.where(x > 0, x, 1)), 0):
    //   pbar = P.mean(0); predicted = pbar.argmax(1); confidence = pbar.max(1)
    //   s = np.sort(pbar, 1); margin = s[:, -1] - s[:, -2]
    //   entropy = -xlogx(pbar).sum(1)
    //   votes = P.argmax(2); q = np.stack([(votes == c).sum(0) for c in range(3)], 1) / 3
    //   vote_entropy = -xlogx(q).sum(1)
    //   mean_kl = (xlogx(P) - np.where(P > 0, P * np.log(np.where(pbar > 0, pbar, 1))[None], 0)).sum(2).mean(0)
    //   bald = entropy - (-xlogx(P).sum(2)).mean(0)
    // (the `reference` function of experiments/scoring/numpy_peer.py), printed with '%.9g'.
    static let expectedMean: [Float] = [0.466666671, 0.433333342, 0.100000001, 0.0416666667, 0.5, 0.458333333,
                                        0.666666667, 0.333333333, 0, 0.333333333, 0.333333333, 0.333333333]
    static let expectedPredicted: [Int32] = [0, 1, 0, 0]
    static let expectedConfidence: [Float] = [0.466666671, 0.5, 0.666666667, 0.333333333]
    static let expectedMargin: [Float] = [0.0333333289, 0.0416666667, 0.333333333, 0]
    static let expectedEntropy: [Float] = [0.94829801, 0.836565172, 0.636514168, 1.09861229]
    static let expectedVoteEntropy: [Float] = [0.636514168, 0.636514168, 0.636514168, 1.09861229]
    static let expectedMeanKL: [Float] = [0.168699298, 0.0602234482, 0.636514168, 0.0588915178]
    static let expectedBALD: [Float] = [0.168699298, 0.0602234482, 0.636514168, 0.0588915178]

    func close(_ a: [Float], _ b: [Float], tolerance: Float = 1e-5) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }
    }

    func noNaN(_ m: EnsembleMeasures) -> Bool {
        [m.confidence, m.margin, m.entropy, m.voteEntropy, m.meanKL, m.mutualInformation]
            .allSatisfy { $0.allSatisfy { $0.isFinite } }
    }

    /// Softmax of scaled normal-ish logits, member-major M × n × k, seeded.
    func randomEnsemble(members M: Int, items n: Int, classes k: Int, seed: UInt64, zeroFraction: Float = 0) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        var buffer = [Float](repeating: 0, count: M * n * k)
        let shared = (0..<(n * k)).map { _ in Float.random(in: -3...3, using: &rng) }
        for m in 0..<M {
            var logits = Matrix(rows: n, cols: k)
            for j in 0..<(n * k) { logits.storage[j] = shared[j] + Float.random(in: -1.5...1.5, using: &rng) }
            Softmax.applyRows(&logits)
            for i in 0..<n where zeroFraction > 0 {
                var sum: Float = 0
                for c in 0..<k {
                    if c > 0 && Float.random(in: 0..<1, using: &rng) < zeroFraction { logits[i, c] = 0 }
                    sum += logits[i, c]
                }
                for c in 0..<k { logits[i, c] /= sum }
            }
            buffer.replaceSubrange((m * n * k)..<((m + 1) * n * k), with: logits.storage)
        }
        return buffer
    }

    func score(_ buffer: [Float], members M: Int, items n: Int, classes k: Int, threads: Int = 1) -> (Matrix, EnsembleMeasures) {
        var mean = Matrix(rows: n, cols: k)
        var out = EnsembleMeasures(count: n)
        buffer.withUnsafeBufferPointer {
            Ensemble.measures(members: $0, memberCount: M, items: n, classes: k, mean: &mean, into: &out, threads: threads)
        }
        return (mean, out)
    }

    @Test func matchesNumpyOnFixedExample() {
        let (mean, m) = score(Self.example.flatMap { $0 }, members: 3, items: 4, classes: 3)
        #expect(close(mean.storage, Self.expectedMean))
        #expect(m.predicted == Self.expectedPredicted)
        #expect(close(m.confidence, Self.expectedConfidence))
        #expect(close(m.leastConfidence, Self.expectedConfidence.map { 1 - $0 }))
        #expect(close(m.margin, Self.expectedMargin))
        #expect(close(m.marginUncertainty, Self.expectedMargin.map { 1 - $0 }))
        #expect(close(m.entropy, Self.expectedEntropy))
        #expect(close(m.voteEntropy, Self.expectedVoteEntropy))
        #expect(close(m.meanKL, Self.expectedMeanKL))
        #expect(close(m.mutualInformation, Self.expectedBALD))
        #expect(noNaN(m))
    }

    @Test func matrixConvenienceMatchesBufferAPI() {
        let matrices = Self.example.map { Matrix(rows: 4, cols: 3, storage: $0) }
        let (mean, m) = Ensemble.measures(members: matrices)
        let (mean2, m2) = score(Self.example.flatMap { $0 }, members: 3, items: 4, classes: 3)
        #expect(mean == mean2)
        #expect(m == m2)
    }

    @Test func fastLogMatchesGlibcOverASweep() {
        // Geometric sweep over the positive normal floats, plus a dense sweep near 1
        // (where log x is small and relative error is hardest).
        var xs: [Float] = []
        var x = Float.leastNormalMagnitude
        while x < Float.greatestFiniteMagnitude / 1.0007 { xs.append(x); x *= 1.0007 }
        for i in 0..<20_000 { xs.append(0.9 + Float(i) * 1e-5) }
        while xs.count % 16 != 0 { xs.append(1) }
        var worst: Double = 0
        var i = 0
        while i < xs.count {
            var v = SIMD16<Float>()
            for l in 0..<16 { v[l] = xs[i + l] }
            let fast = FastMath.log(v)
            for l in 0..<16 {
                let exact = Glibc.log(Double(xs[i + l]))
                // Relative error, with the absolute error of one float ulp of 1 as the floor near x = 1.
                let err = abs(Double(fast[l]) - exact) / max(abs(exact), 1e-3)
                worst = max(worst, err)
                #expect(fast[l] == FastMath.log(xs[i + l]))   // scalar and SIMD agree bit for bit
            }
            i += 16
        }
        #expect(worst < 1e-6, "worst relative error \(worst)")
        // Zero gives −127 · ln 2 and subnormals finite values in [−88.03, −87.34],
        // so 0 · log 0 = 0; SIMD lanes agree with the scalar version there too.
        let logZero = FastMath.log(Float(0))
        #expect(logZero.isFinite && abs(logZero + 88.03) < 0.01)
        #expect(0 * logZero == 0)
        for tiny in [Float.leastNonzeroMagnitude, Float.leastNormalMagnitude / 3, Float.leastNormalMagnitude.nextDown] {
            let l = FastMath.log(tiny)
            #expect(l.isFinite && l >= -88.1 && l <= -87.3)
            #expect(FastMath.log(SIMD16<Float>(repeating: tiny)) == SIMD16<Float>(repeating: l))
        }
        #expect(FastMath.log(SIMD16<Float>(repeating: 0)) == SIMD16<Float>(repeating: logZero))
        #expect(FastMath.log(SIMD8<Float>(1, 2, 4, 0.5, 10, 0.1, 1e-20, 3e30))
                == SIMD8<Float>([1, 2, 4, 0.5, 10, 0.1, 1e-20, 3e30].map { FastMath.log(Float($0)) }))
    }

    @Test func meanKLEqualsBALDAndDoublePrecisionDefinitions() {
        // k = 13: three 4-lane chunks and a 1-class scalar tail.
        let M = 7, n = 301, k = 13
        let buffer = randomEnsemble(members: M, items: n, classes: k, seed: 42, zeroFraction: 0.1)
        let (_, m) = score(buffer, members: M, items: n, classes: k)
        var worstKL: Double = 0, worstBALD: Double = 0, worstIdentity: Float = 0
        for i in 0..<n {
            // The definitions, in Double with Glibc.log.
            var pbar = [Double](repeating: 0, count: k)
            for mm in 0..<M { for c in 0..<k { pbar[c] += Double(buffer[mm * n * k + i * k + c]) / Double(M) } }
            var kl = 0.0, memberEntropy = 0.0, meanEntropy = 0.0
            for c in 0..<k where pbar[c] > 0 { meanEntropy -= pbar[c] * Glibc.log(pbar[c]) }
            for mm in 0..<M {
                for c in 0..<k {
                    let p = Double(buffer[mm * n * k + i * k + c])
                    guard p > 0 else { continue }
                    kl += p * (Glibc.log(p) - Glibc.log(pbar[c])) / Double(M)
                    memberEntropy -= p * Glibc.log(p) / Double(M)
                }
            }
            worstKL = max(worstKL, abs(Double(m.meanKL[i]) - kl))
            worstBALD = max(worstBALD, abs(Double(m.mutualInformation[i]) - (meanEntropy - memberEntropy)))
            worstIdentity = max(worstIdentity, abs(m.meanKL[i] - m.mutualInformation[i]))
        }
        #expect(worstIdentity <= 1e-5, "mean KL vs BALD: \(worstIdentity)")
        #expect(worstKL <= 1e-5, "mean KL vs double definition: \(worstKL)")
        #expect(worstBALD <= 1e-5, "BALD vs double definition: \(worstBALD)")
        #expect(noNaN(m))
        #expect(m.meanKL.allSatisfy { $0 >= 0 } && m.mutualInformation.allSatisfy { $0 >= 0 })
    }

    @Test func zeroProbabilitiesNeverGiveNaN() {
        // Two members, 20 classes: one-hot rows, all-zero classes, subnormals.
        let k = 20, n = 3
        var a = [Float](repeating: 0, count: n * k), b = a
        a[3] = 1; b[3] = 1                                   // item 0: both one-hot on class 3
        a[k + 0] = 1; b[k + 19] = 1                          // item 1: disagreeing one-hots
        a[2 * k + 5] = 1 - Float.leastNonzeroMagnitude       // item 2: a subnormal and a zero
        a[2 * k + 6] = Float.leastNonzeroMagnitude; b[2 * k + 5] = 1
        let (mean, m) = score(a + b, members: 2, items: n, classes: k)
        #expect(noNaN(m))
        #expect(mean.storage.allSatisfy { $0.isFinite })
        #expect(m.predicted == [3, 0, 5])
        #expect(m.entropy[0] == 0 && m.voteEntropy[0] == 0 && m.meanKL[0] == 0 && m.mutualInformation[0] == 0)
        let ln2 = Float(Glibc.log(2.0))
        #expect(abs(m.entropy[1] - ln2) < 1e-6 && abs(m.voteEntropy[1] - ln2) < 1e-6)
        #expect(abs(m.meanKL[1] - ln2) < 1e-6 && abs(m.mutualInformation[1] - ln2) < 1e-6)
        #expect(m.margin[1] == 0 && m.confidence[1] == 0.5)
        #expect(m.entropy[2] < 1e-6 && m.meanKL[2] < 1e-6 && m.voteEntropy[2] == 0)
        // One member: nothing to disagree about.
        let (_, single) = score(a, members: 1, items: n, classes: k)
        #expect(single.meanKL.allSatisfy { $0 == 0 } && single.voteEntropy.allSatisfy { $0 == 0 })
        // One class: everything certain.
        let (_, oneClass) = score([1, 1, 1, 1], members: 2, items: 2, classes: 1)
        #expect(oneClass.predicted == [0, 0] && oneClass.confidence == [1, 1] && oneClass.entropy == [0, 0])
    }

    @Test func chunkedAndThreadedResultsEqualWholeBuffer() {
        let M = 5, n = 17_000, k = 20   // two threads need at least 2 × 8,192 items
        let buffer = randomEnsemble(members: M, items: n, classes: k, seed: 7, zeroFraction: 0.05)
        let (wholeMean, whole) = score(buffer, members: M, items: n, classes: k)
        let (threadedMean, threaded) = score(buffer, members: M, items: n, classes: k, threads: 2)
        #expect(threadedMean == wholeMean)
        #expect(threaded == whole)

        // Stream in chunks of 1,237 items (not a multiple of the tile) through
        // fixed-size outputs, copying each chunk out.
        let chunk = 1_237
        var chunkMean = Matrix(rows: chunk, cols: k)
        var chunkOut = EnsembleMeasures(count: chunk)
        var streamed = EnsembleMeasures(count: n)
        var streamedMean = Matrix(rows: n, cols: k)
        buffer.withUnsafeBufferPointer { p in
            var lo = 0
            while lo < n {
                let hi = min(n, lo + chunk)
                Ensemble.measures(members: p, memberCount: M, items: n, classes: k, range: lo..<hi,
                                  mean: &chunkMean, into: &chunkOut)
                for r in 0..<(hi - lo) {
                    streamed.predicted[lo + r] = chunkOut.predicted[r]
                    streamed.confidence[lo + r] = chunkOut.confidence[r]
                    streamed.margin[lo + r] = chunkOut.margin[r]
                    streamed.entropy[lo + r] = chunkOut.entropy[r]
                    streamed.voteEntropy[lo + r] = chunkOut.voteEntropy[r]
                    streamed.meanKL[lo + r] = chunkOut.meanKL[r]
                    streamed.mutualInformation[lo + r] = chunkOut.mutualInformation[r]
                    for c in 0..<k { streamedMean[lo + r, c] = chunkMean[r, c] }
                }
                lo = hi
            }
        }
        #expect(streamedMean == wholeMean)
        #expect(streamed == whole)
    }

    @Test func partsComputeTheSameValuesAndLeaveTheRestAlone() {
        // k = 22: five 4-lane chunks and a 2-class scalar tail.
        let M = 4, n = 500, k = 22
        let buffer = randomEnsemble(members: M, items: n, classes: k, seed: 11, zeroFraction: 0.2)
        let (fullMean, full) = score(buffer, members: M, items: n, classes: k)
        for parts: Ensemble.Parts in [.meanOnly, .votes, .disagreement] {
            var mean = Matrix(rows: n, cols: k)
            var out = EnsembleMeasures(count: n)
            let sentinel: Float = -7
            out.voteEntropy = [Float](repeating: sentinel, count: n)
            out.meanKL = out.voteEntropy
            out.mutualInformation = out.voteEntropy
            buffer.withUnsafeBufferPointer {
                Ensemble.measures(members: $0, memberCount: M, items: n, classes: k, mean: &mean, into: &out, parts: parts)
            }
            #expect(mean == fullMean)
            #expect(out.predicted == full.predicted && out.confidence == full.confidence)
            #expect(out.margin == full.margin && out.entropy == full.entropy)
            #expect(out.voteEntropy == (parts.contains(.votes) ? full.voteEntropy : [Float](repeating: sentinel, count: n)))
            #expect(out.meanKL == (parts.contains(.disagreement) ? full.meanKL : [Float](repeating: sentinel, count: n)))
            #expect(out.mutualInformation
                    == (parts.contains(.disagreement) ? full.mutualInformation : [Float](repeating: sentinel, count: n)))
        }
    }
}
