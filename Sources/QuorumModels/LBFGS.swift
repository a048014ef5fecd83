import QuorumNumerics

/// Limited-memory BFGS with a backtracking (Armijo) line search, on `Float`
/// parameters with BLAS level-1 updates.
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

    /// Minimises `f` from `start`. `f(x, &g)` returns f(x) and writes ∇f(x) into g.
    ///
    /// - Complexity: O(iterations × (cost of f + memory × p)); memory O(memory × p).
    static func minimize(start: [Float], memory: Int = 10, maxIterations: Int, tolerance: Float,
                         _ f: (_ x: [Float], _ gradient: inout [Float]) -> Double) -> Result {
        let p = start.count
        var x = start
        var g = [Float](repeating: 0, count: p)
        var fx = f(x, &g)
        var s: [[Float]] = []
        var y: [[Float]] = []
        var rho: [Float] = []
        var alpha = [Float](repeating: 0, count: memory)
        var direction = [Float](repeating: 0, count: p)
        var xNew = [Float](repeating: 0, count: p)
        var gNew = [Float](repeating: 0, count: p)
        var iterations = 0
        var converged = maxNorm(g) <= tolerance
        while !converged && iterations < maxIterations {
            iterations += 1
            // Two-loop recursion: direction = −H·g
            for i in 0..<p { direction[i] = -g[i] }
            for k in stride(from: s.count - 1, through: 0, by: -1) {
                alpha[k] = rho[k] * BLAS.dot(s[k], direction)
                BLAS.axpy(-alpha[k], y[k], &direction)
            }
            if let lastS = s.last, let lastY = y.last {
                BLAS.scale(&direction, by: BLAS.dot(lastS, lastY) / max(BLAS.dot(lastY, lastY), 1e-30))
            } else {
                BLAS.scale(&direction, by: 1 / max(BLAS.norm(g), 1))
            }
            for k in 0..<s.count {
                let beta = rho[k] * BLAS.dot(y[k], direction)
                BLAS.axpy(alpha[k] - beta, s[k], &direction)
            }
            var slope = Double(BLAS.dot(g, direction))
            if slope >= 0 { // not a descent direction: restart from steepest descent
                s.removeAll(); y.removeAll(); rho.removeAll()
                for i in 0..<p { direction[i] = -g[i] }
                slope = Double(BLAS.dot(g, direction))
            }
            // Backtracking line search with the Armijo condition.
            var step: Float = 1
            var fNew = 0.0
            var accepted = false
            for _ in 0..<40 {
                for i in 0..<p { xNew[i] = x[i] + step * direction[i] }
                fNew = f(xNew, &gNew)
                if fNew <= fx + 1e-4 * Double(step) * slope { accepted = true; break }
                step *= 0.5
            }
            if !accepted { break }
            var sk = s.count == memory ? s.removeFirst() : [Float](repeating: 0, count: p)
            var yk = y.count == memory ? y.removeFirst() : [Float](repeating: 0, count: p)
            if rho.count == memory { rho.removeFirst() }
            for i in 0..<p {
                sk[i] = xNew[i] - x[i]
                yk[i] = gNew[i] - g[i]
            }
            let sy = BLAS.dot(sk, yk)
            if sy > 1e-12 {
                s.append(sk); y.append(yk); rho.append(1 / sy)
            }
            let decrease = fx - fNew
            swap(&x, &xNew)
            swap(&g, &gNew)
            fx = fNew
            converged = maxNorm(g) <= tolerance || decrease.magnitude <= 1e-12 * max(1, fx.magnitude)
        }
        return Result(solution: x, value: fx, iterations: iterations, converged: converged)
    }

    static func maxNorm(_ v: [Float]) -> Float {
        var m: Float = 0
        for e in v { m = max(m, e.magnitude) }
        return m
    }
}
