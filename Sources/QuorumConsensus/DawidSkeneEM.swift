import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension DawidSkene {
    /// The EM state, in blocks of four classes (`SIMD4<Double>`): with k classes a
    /// row is m = ⌈k / 4⌉ blocks, and lanes past k are padding (log-prior −10³⁰, so
    /// their posterior underflows to ~1e-308 and never matters).
    ///
    /// Tables: `posterior` n × m; `counts` / `logPi` (A·k) × m, row a·k + l holding,
    /// per true class c, Σ T[item][c] over a's answers l (resp. log π_a[c][l]).
    /// Between calls the state is consistent as crowd-kit's is: posteriors from an
    /// E-step, and counts, log π and log p from the M-step on those posteriors.
    struct EM {
        typealias Block = SIMD4<Double>
        let n: Int, k: Int, m: Int, cells: Int, answerCount: Int
        let smoothing: Double
        let itemStart: [Int32]
        /// Answer j's row in the tables, pre-multiplied by m: (annotator · k + label) · m.
        let row: [Int32]
        var posterior: [Block]
        var counts: [Block]
        var nextCounts: [Block]
        var logPi: [Block]
        var classMass: [Block]
        var logPrior: [Block]
        var logTotals: [Double]
        var scratch: [Block]
        /// The E-step runs over `parts` ranges of items at once (two threads); each part
        /// scatters into its own count table (part 0 into `nextCounts`) and class mass,
        /// and reports (entropy, log-likelihood, largest change); they are summed in a
        /// fixed order, so results do not depend on scheduling.
        let parts: Int
        var partCounts: [Block]
        var partMass: [Block]
        var partTotals: [Double]
        /// Σ_i H(T[i]) of the current posteriors.
        var entropy = 0.0
        /// The marginal log-likelihood Σ_i log Σ_c p_c Π_answers π_a[c][l] of the
        /// parameters the last E-step used (SQUAREM's guard).
        var logLikelihood = -Double.infinity
        /// Σ_answers Σ_c T[i][c] (log π_a[c][l] + log p_c) for the current state.
        var joint = 0.0

        /// Majority-vote start (vote shares per item) and the M-step from it.
        ///
        /// - Complexity: O(answers · k + annotators · k²).
        /// - Parameter parts: how many item ranges the E-step runs at once (default: 2 from 4,096 items).
        init(_ answers: Answers, smoothing: Double, parts requested: Int? = nil) {
            n = answers.items.count
            k = answers.labels.count
            m = (k + 3) / 4
            cells = answers.annotators.count * k
            answerCount = answers.count
            self.smoothing = smoothing
            itemStart = answers.itemStart
            let (k, m) = (self.k, self.m)
            row = zip(answers.annotator, answers.label).map { (ann, l) in (ann * Int32(k) + l) * Int32(m) }
            posterior = [Block](repeating: .zero, count: n * m)
            counts = [Block](repeating: .zero, count: cells * m)
            nextCounts = counts
            logPi = counts
            classMass = [Block](repeating: .zero, count: m)
            logPrior = [Block](repeating: Block(repeating: -1e30), count: m)
            logTotals = [Double](repeating: 0, count: k)
            parts = Swift.max(1, requested ?? (n >= 4_096 ? 2 : 1))
            scratch = [Block](repeating: .zero, count: 2 * m * parts)   // per part: shifted logits, then their exponentials
            partCounts = [Block](repeating: .zero, count: parts > 1 ? cells * m * (parts - 1) : 0)
            partMass = [Block](repeating: .zero, count: m * parts)
            partTotals = [Double](repeating: 0, count: 3 * parts)
            for i in 0..<n {
                let lo = Int(itemStart[i]), hi = Int(itemStart[i + 1])
                let share = 1 / Double(hi - lo)
                for j in lo..<hi {
                    let c = Int(answers.label[j])
                    posterior[i * m + c / 4][c % 4] += share
                }
                for q in 0..<m {
                    let p = posterior[i * m + q]
                    classMass[q] += p
                    for j in lo..<hi { counts[Int(row[j]) + q] += p }
                    for lane in 0..<4 where p[lane] > 0 { entropy -= p[lane] * log(p[lane]) }
                }
            }
            mStep()
        }

        /// M-step from `counts` and `classMass`: log π_a[c][l] = log(count + ε) −
        /// log Σ_l' (count + ε) per (annotator, true class); log p_c = log max(mass / n, 1e-10);
        /// and the joint term of the evidence lower bound.
        ///
        /// - Complexity: O(annotators · k²).
        mutating func mStep() {
            let (k, m, eps) = (self.k, self.m, smoothing)
            for c in 0..<k { logPrior[c / 4][c % 4] = log(Swift.max(classMass[c / 4][c % 4] / Double(n), 1e-10)) }
            var joint = 0.0
            for ann in 0..<(cells / k) {
                let base = ann * k * m
                for c in 0..<k {
                    var total = 0.0
                    for l in 0..<k { total += counts[base + l * m + c / 4][c % 4] + eps }
                    logTotals[c] = log(total)
                }
                for l in 0..<k {
                    for c in 0..<k {
                        let count = counts[base + l * m + c / 4][c % 4]
                        let lp = log(count + eps) - logTotals[c]
                        logPi[base + l * m + c / 4][c % 4] = lp
                        if count > 0 { joint += count * (lp + logPrior[c / 4][c % 4]) }
                    }
                }
            }
            self.joint = joint
        }

        /// The evidence lower bound per answer of the current state (crowd-kit's definition).
        func evidenceLowerBound() -> Double { (joint + entropy) / Double(answerCount) }

        /// One EM iteration: the E-step (per item, log p + Σ log-π rows, softmax) fused
        /// with the scatter of the new posterior rows into the next counts, then the
        /// M-step. Returns the largest change of any posterior. Large inputs run the
        /// E-step on two threads (see `parts`).
        ///
        /// - Complexity: O(answers · k + annotators · k²); no allocation.
        mutating func iterate() -> Double {
            let (n, m, parts, cells) = (self.n, self.m, self.parts, self.cells)
            nextCounts.withUnsafeMutableBufferPointer { $0.update(repeating: .zero) }
            partCounts.withUnsafeMutableBufferPointer { $0.update(repeating: .zero) }
            itemStart.withUnsafeBufferPointer { start in
            row.withUnsafeBufferPointer { row in
            posterior.withUnsafeMutableBufferPointer { t in
            logPi.withUnsafeBufferPointer { lp in
            logPrior.withUnsafeBufferPointer { prior in
            partMass.withUnsafeMutableBufferPointer { mass in
            scratch.withUnsafeMutableBufferPointer { z in
            nextCounts.withUnsafeMutableBufferPointer { next in
            partCounts.withUnsafeMutableBufferPointer { extra in
            partTotals.withUnsafeMutableBufferPointer { totals in
                let kernel = EStep(start: start.baseAddress!, row: row.baseAddress!, t: t.baseAddress!, lp: lp.baseAddress!,
                                   prior: prior.baseAddress!, m: m, cells: cells, mass: mass.baseAddress!, z: z.baseAddress!,
                                   next: next.baseAddress!, extra: extra.baseAddress, totals: totals.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: parts) { part in
                    kernel.run(part: part, items: (n * part / parts)..<(n * (part + 1) / parts))
                }
            }
            }
            }
            }
            }
            }
            }
            }
            }
            }
            // Sum the parts in order.
            var entropy = 0.0, logLikelihood = 0.0, maxChange = 0.0
            for q in 0..<m { classMass[q] = .zero }
            for part in 0..<parts {
                entropy += partTotals[3 * part]
                logLikelihood += partTotals[3 * part + 1]
                maxChange = Swift.max(maxChange, partTotals[3 * part + 2])
                for q in 0..<m { classMass[q] += partMass[part * m + q] }
                if part > 0 {
                    let base = (part - 1) * cells * m
                    for r in 0..<(cells * m) { nextCounts[r] += partCounts[base + r] }
                }
            }
            swap(&counts, &nextCounts)
            self.entropy = entropy
            self.logLikelihood = logLikelihood
            mStep()
            return maxChange
        }

        /// The E-step over one range of items, reading the parameters and writing its
        /// items' posterior rows (disjoint across parts), its own count table and mass,
        /// and (entropy, log-likelihood, largest change) into `totals`.
        struct EStep: @unchecked Sendable {
            // Raw pointers into the EM state, valid for the duration of one `iterate()`.
            let start: UnsafePointer<Int32>, row: UnsafePointer<Int32>, t: UnsafeMutablePointer<Block>
            let lp: UnsafePointer<Block>, prior: UnsafePointer<Block>, m: Int, cells: Int
            let mass: UnsafeMutablePointer<Block>, z: UnsafeMutablePointer<Block>
            let next: UnsafeMutablePointer<Block>, extra: UnsafeMutablePointer<Block>?, totals: UnsafeMutablePointer<Double>

            /// Part `part`'s share: its own mass, scratch, count table and totals.
            func run(part: Int, items: Range<Int>) {
                let mass = self.mass + part * m, z = self.z + part * 2 * m, totals = self.totals + 3 * part
                let next = part == 0 ? self.next : extra! + (part - 1) * cells * m
                var maxChange = Block.zero
                var entropy = 0.0, logLikelihood = 0.0
                for q in 0..<m { mass[q] = .zero }
                for i in items {
                    let lo = Int(start[i]), hi = Int(start[i + 1])
                    let ti = t + i * m
                    // Logits; H(T[i]) = log Σ e − Σ_c p_c (z_c − top) needs one log per item.
                    var top = -Double.infinity
                    for q in 0..<m {
                        var zq = prior[q]
                        for j in lo..<hi { zq += lp[Int(row[j]) &+ q] }
                        top = Swift.max(top, EM.maxLane(zq))
                        z[q] = zq
                    }
                    var sum = Block.zero
                    for q in 0..<m {
                        let shifted = EM.max(z[q] - top, Block(repeating: -708))
                        z[q] = shifted
                        let e = EM.exp(shifted)
                        z[m &+ q] = e
                        sum += e
                    }
                    let total = sum.sum()
                    let inv = 1 / total
                    var weighted = Block.zero
                    for q in 0..<m {
                        let p = z[m &+ q] * inv
                        weighted += p * z[q]
                        let d = p - ti[q]
                        maxChange = EM.max(maxChange, EM.abs(d))
                        ti[q] = p
                        mass[q] += p
                        for j in lo..<hi { next[Int(row[j]) &+ q] += p }
                    }
                    let logTotal = log(total)
                    entropy += logTotal - weighted.sum()
                    logLikelihood += top + logTotal
                }
                totals[0] = entropy
                totals[1] = logLikelihood
                totals[2] = EM.maxLane(maxChange)
            }
        }

        /// SQUAREM's extrapolation (Varadhan & Roland 2008, scheme S3) in the space of
        /// log-parameters: from θ0 and the two EM steps θ1 = F(θ0), θ2 = F(θ1) held now,
        /// r = θ1 − θ0, v = θ2 − θ1 − r, α = −‖r‖/‖v‖ clamped to [−maxStep, −1], and
        /// θ' = θ0 − 2αr + α²v, renormalised so every confusion row and the prior sum to 1.
        /// Returns false (and leaves θ2) when the step would be a plain EM step (α ≥ −1).
        ///
        /// - Complexity: O(annotators · k²).
        mutating func extrapolate(from start: (logPi: [Block], logPrior: [Block]),
                                  step1: (logPi: [Block], logPrior: [Block]), maxStep: Double) -> Bool {
            let k = self.k
            var rr = 0.0, vv = 0.0
            func accumulate(_ a: [Block], _ b: [Block], _ c: [Block], lanes: (Int) -> Bool) {
                for i in a.indices {
                    for lane in 0..<4 where lanes(i * 4 + lane) {
                        let r = b[i][lane] - a[i][lane]
                        let v = c[i][lane] - b[i][lane] - r
                        rr += r * r
                        vv += v * v
                    }
                }
            }
            let m = self.m
            let laneIsClass = { (flat: Int) in (flat % (m * 4)) < k }
            accumulate(start.logPi, step1.logPi, logPi, lanes: laneIsClass)
            accumulate(start.logPrior, step1.logPrior, logPrior, lanes: { $0 < k })
            guard vv > 0, rr > 0 else { return false }
            let alpha = Swift.max(-(rr / vv).squareRoot(), -maxStep)
            guard alpha < -1 else { return false }
            func move(_ a: [Block], _ b: [Block], _ c: inout [Block], lanes: (Int) -> Bool) {
                for i in c.indices {
                    for lane in 0..<4 where lanes(i * 4 + lane) {
                        let r = b[i][lane] - a[i][lane]
                        let v = c[i][lane] - b[i][lane] - r
                        c[i][lane] = a[i][lane] - 2 * alpha * r + alpha * alpha * v
                    }
                }
            }
            move(start.logPi, step1.logPi, &logPi, lanes: laneIsClass)
            move(start.logPrior, step1.logPrior, &logPrior, lanes: { $0 < k })
            // Renormalise: for each annotator and true class c, Σ_l π[c][l] = 1; Σ_c p_c = 1.
            for ann in 0..<(cells / k) {
                let base = ann * k * m
                for c in 0..<k {
                    var top = -Double.infinity
                    for l in 0..<k { top = Swift.max(top, logPi[base + l * m + c / 4][c % 4]) }
                    var total = 0.0
                    for l in 0..<k { total += Foundation.exp(logPi[base + l * m + c / 4][c % 4] - top) }
                    let shift = top + Foundation.log(total)
                    for l in 0..<k { logPi[base + l * m + c / 4][c % 4] -= shift }
                }
            }
            var top = -Double.infinity
            for c in 0..<k { top = Swift.max(top, logPrior[c / 4][c % 4]) }
            var total = 0.0
            for c in 0..<k { total += Foundation.exp(logPrior[c / 4][c % 4] - top) }
            for c in 0..<k { logPrior[c / 4][c % 4] -= top + Foundation.log(total) }
            return true
        }

        // Branch-free lane-wise max and |x| (the standard library's `pointwiseMax` is
        // NaN-aware lane by lane, and was a third of the E-step's time).
        @inline(__always)
        static func max(_ a: Block, _ b: Block) -> Block { a.replacing(with: b, where: a .< b) }

        @inline(__always)
        static func abs(_ a: Block) -> Block {
            unsafeBitCast(unsafeBitCast(a, to: SIMD4<UInt64>.self) & 0x7FFF_FFFF_FFFF_FFFF, to: Block.self)
        }

        @inline(__always)
        static func maxLane(_ x: Block) -> Double {
            Swift.max(Swift.max(x[0], x[1]), Swift.max(x[2], x[3]))
        }

        /// e^x per lane for −708 ≤ x ≤ 0 (the caller clamps; e^−708 ≈ 3e-308).
        ///
        /// x = n·ln 2 + r with n = round(x / ln 2) (the 1.5·2⁵² rounding trick) and
        /// |r| ≤ ln 2 / 2 (Cody–Waite two-part ln 2); e^r by its Taylor series to r¹¹
        /// (truncation error below 7e-15 relative); 2ⁿ built in the exponent bits.
        /// Relative error about 1e-15, far below anything EM can see.
        @inline(__always)
        static func exp(_ x: Block) -> Block {
            let magic = Block(repeating: 0x1.8p52)
            let t = x * 1.4426950408889634 + magic
            let nf = t - magic
            let r = (x - nf * 0.693147180369123816490) - nf * 1.90821492927058770002e-10
            var p = Block(repeating: 1.0 / 39_916_800)
            p = p * r + 1.0 / 3_628_800
            p = p * r + 1.0 / 362_880
            p = p * r + 1.0 / 40_320
            p = p * r + 1.0 / 5_040
            p = p * r + 1.0 / 720
            p = p * r + 1.0 / 120
            p = p * r + 1.0 / 24
            p = p * r + 1.0 / 6
            p = p * r + 0.5
            p = p * r + 1
            p = p * r + 1
            let scale = (unsafeBitCast(t, to: SIMD4<UInt64>.self) &+ 1023) &<< 52
            return p * unsafeBitCast(scale, to: Block.self)
        }

        /// The counts of the last M-step, compact: index (a·k + l)·k + c.
        func countTable() -> [Double] {
            var out = [Double](repeating: 0, count: cells * k)
            for r in 0..<cells {
                for c in 0..<k { out[r * k + c] = counts[r * m + c / 4][c % 4] }
            }
            return out
        }

        /// Σ_i T[i][c] for the current posteriors.
        func classTotals() -> [Double] { (0..<k).map { classMass[$0 / 4][$0 % 4] } }

        /// The posteriors, compact row-major n × k.
        func posteriors() -> [Double] {
            var out = [Double](repeating: 0, count: n * k)
            for i in 0..<n {
                for c in 0..<k { out[i * k + c] = posterior[i * m + c / 4][c % 4] }
            }
            return out
        }
    }
}
