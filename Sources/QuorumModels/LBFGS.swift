import QuorumNumerics

/// Limited-memory BFGS with a backtracking (Armijo) line search, on `Float`
/// parameters with BLAS level-1 updates, for several independent problems
/// advanced in lockstep: each has its own history, step and stopping test,
/// but their objectives are evaluated together in one call (see
/// `BatchedSoftmaxObjective`), which is what makes batching pay.
///
/// Small and dependency-free on purpose: the expensive part of every
/// iteration is the objective (GEMMs), not these O(m·p) vector updates.
enum LBFGS {
    struct Result {
        var solution: [Float]
        var value: Double
        var iterations: Int
        var converged: Bool
    }

    /// One problem's state.
    private struct State {
        var x: [Float]
        var g: [Float]
        var f: Double
        var s: [[Float]] = []
        var y: [[Float]] = []
        var rho: [Float] = []
        var direction: [Float]
        var slope = 0.0
        var step: Float = 1
        var iterations = 0
        /// Its stopping threshold on the gradient's max-norm.
        var tolerance: Float
        var converged = false
        var stalled = false
        var active: Bool { !converged && !stalled }
    }

    /// Minimises every problem from its start. `f(xs, &gs)` returns each
    /// problem's value at `xs[m]` and writes its gradient into `gs[m]`.
    ///
    /// A problem stops when its gradient's max-norm is at most `tolerance`, or,
    /// with `reduction` r, at most `max(min(tolerance, r·‖g₀‖∞), floor)`
    /// where g₀ is its gradient at its start. The relative test is for warm
    /// starts: a start that is already nearly optimal (the previous C's
    /// solution on a C path, whose gradient under the new C is only
    /// (1/C₁ − 1/C₂)·w/n) must still shrink its own gradient r-fold instead
    /// of passing the absolute test without a single step.
    ///
    /// - Complexity: O(iterations × (cost of f + problems × memory × p)); memory O(problems × memory × p).
    static func minimize(starts: [[Float]], memory: Int = 10, maxIterations: Int, tolerance: Float,
                         reduction: Float? = nil, floor: Float = 0,
                         _ f: (_ xs: [[Float]], _ gradients: inout [[Float]]) -> [Double]) -> [Result] {
        let count = starts.count
        var gradients = starts.map { [Float](repeating: 0, count: $0.count) }
        let values = f(starts, &gradients)
        var states = (0..<count).map { m in
            let start = maxNorm(gradients[m])
            let threshold = reduction.map { max(min(tolerance, $0 * start), floor) } ?? tolerance
            return State(x: starts[m], g: gradients[m], f: values[m], direction: [Float](repeating: 0, count: starts[m].count),
                         tolerance: threshold, converged: start <= threshold)
        }
        var trial = starts
        var alpha = [Float](repeating: 0, count: memory)
        var round = 0
        while round < maxIterations && states.contains(where: \.active) {
            round += 1
            for m in 0..<count where states[m].active {
                states[m].iterations += 1
                direction(&states[m], alpha: &alpha)
                states[m].step = 1
            }
            // Backtracking line search, all problems at once: evaluate every
            // active problem's trial point; those failing Armijo halve their step.
            var pending = Set((0..<count).filter { states[$0].active })
            var trialValues = [Double](repeating: 0, count: count)
            for _ in 0..<40 where !pending.isEmpty {
                for m in 0..<count {
                    if pending.contains(m) {
                        let step = states[m].step
                        states[m].x.withUnsafeBufferPointer { x in
                            states[m].direction.withUnsafeBufferPointer { d in
                                trial[m].withUnsafeMutableBufferPointer { t in
                                    for i in 0..<t.count { t[i] = x[i] + step * d[i] }
                                }
                            }
                        }
                    } else if !states[m].active {
                        trial[m].withUnsafeMutableBufferPointer { t in
                            states[m].x.withUnsafeBufferPointer { x in t.baseAddress!.update(from: x.baseAddress!, count: x.count) }
                        }
                    }
                }
                let results = f(trial, &gradients)
                for m in pending {
                    trialValues[m] = results[m]
                    if results[m] <= states[m].f + 1e-4 * Double(states[m].step) * states[m].slope {
                        pending.remove(m)
                        accept(&states[m], x: &trial[m], g: &gradients[m], f: results[m], memory: memory)
                    } else {
                        states[m].step *= 0.5
                    }
                }
            }
            for m in pending { states[m].stalled = true }  // no acceptable step: stop where it is
        }
        return states.map { Result(solution: $0.x, value: $0.f, iterations: $0.iterations, converged: $0.converged) }
    }

    /// Two-loop recursion: direction = −H·g, restarting from steepest descent
    /// when that is not a descent direction.
    private static func direction(_ st: inout State, alpha: inout [Float]) {
        st.g.withUnsafeBufferPointer { g in
            st.direction.withUnsafeMutableBufferPointer { d in for i in 0..<g.count { d[i] = -g[i] } }
        }
        for k in stride(from: st.s.count - 1, through: 0, by: -1) {
            alpha[k] = st.rho[k] * BLAS.dot(st.s[k], st.direction)
            BLAS.axpy(-alpha[k], st.y[k], &st.direction)
        }
        if let lastS = st.s.last, let lastY = st.y.last {
            BLAS.scale(&st.direction, by: BLAS.dot(lastS, lastY) / max(BLAS.dot(lastY, lastY), 1e-30))
        } else {
            BLAS.scale(&st.direction, by: 1 / max(BLAS.norm(st.g), 1))
        }
        for k in 0..<st.s.count {
            let beta = st.rho[k] * BLAS.dot(st.y[k], st.direction)
            BLAS.axpy(alpha[k] - beta, st.s[k], &st.direction)
        }
        st.slope = Double(BLAS.dot(st.g, st.direction))
        if st.slope >= 0 {
            st.s.removeAll(); st.y.removeAll(); st.rho.removeAll()
            st.g.withUnsafeBufferPointer { g in
                st.direction.withUnsafeMutableBufferPointer { d in for i in 0..<g.count { d[i] = -g[i] } }
            }
            st.slope = Double(BLAS.dot(st.g, st.direction))
        }
    }

    /// Takes the accepted point: `x` and `g` swap buffers with the state's
    /// (no copy), so they hold the previous point afterwards, to be overwritten.
    private static func accept(_ st: inout State, x: inout [Float], g: inout [Float], f: Double, memory: Int) {
        let p = x.count
        var sk = st.s.count == memory ? st.s.removeFirst() : [Float](repeating: 0, count: p)
        var yk = st.y.count == memory ? st.y.removeFirst() : [Float](repeating: 0, count: p)
        if st.rho.count == memory { st.rho.removeFirst() }
        x.withUnsafeBufferPointer { xn in
            g.withUnsafeBufferPointer { gn in
                st.x.withUnsafeBufferPointer { xo in
                    st.g.withUnsafeBufferPointer { go in
                        sk.withUnsafeMutableBufferPointer { s in
                            yk.withUnsafeMutableBufferPointer { y in
                                for i in 0..<p {
                                    s[i] = xn[i] - xo[i]
                                    y[i] = gn[i] - go[i]
                                }
                            }
                        }
                    }
                }
            }
        }
        let sy = BLAS.dot(sk, yk)
        if sy > 1e-12 {
            st.s.append(sk); st.y.append(yk); st.rho.append(1 / sy)
        }
        let decrease = st.f - f
        swap(&st.x, &x)
        swap(&st.g, &g)
        st.f = f
        st.converged = maxNorm(st.g) <= st.tolerance || decrease.magnitude <= 1e-12 * max(1, f.magnitude)
    }

    static func maxNorm(_ v: [Float]) -> Float {
        v.withUnsafeBufferPointer { p in
            var m: Float = 0
            for e in p { m = max(m, e.magnitude) }
            return m
        }
    }
}
