/// Limited-memory BFGS with a backtracking (Armijo) line search.
///
/// Small and dependency-free on purpose: the expensive part of every
/// iteration is the objective (GEMMs), not these O(m·p) vector updates.
enum LBFGS {
    struct Result {
        var solution: [Double]
        var value: Double
        var iterations: Int
        var converged: Bool
    }

    /// Minimises `f` from `start`. `f(x, &g)` returns f(x) and writes ∇f(x) into g.
    ///
    /// - Complexity: O(iterations × (cost of f + memory × p)).
    static func minimize(start: [Double], memory: Int = 10, maxIterations: Int, tolerance: Double,
                         _ f: (_ x: [Double], _ gradient: inout [Double]) -> Double) -> Result {
        let p = start.count
        var x = start
        var g = [Double](repeating: 0, count: p)
        var fx = f(x, &g)
        var s: [[Double]] = []
        var y: [[Double]] = []
        var rho: [Double] = []
        var alpha = [Double](repeating: 0, count: memory)
        var direction = [Double](repeating: 0, count: p)
        var xNew = [Double](repeating: 0, count: p)
        var gNew = [Double](repeating: 0, count: p)
        var iterations = 0
        var converged = maxNorm(g) <= tolerance
        while !converged && iterations < maxIterations {
            iterations += 1
            // Two-loop recursion: direction = −H·g
            for i in 0..<p { direction[i] = -g[i] }
            for k in stride(from: s.count - 1, through: 0, by: -1) {
                alpha[k] = rho[k] * dot(s[k], direction)
                axpy(-alpha[k], y[k], &direction)
            }
            if let lastS = s.last, let lastY = y.last {
                let gamma = dot(lastS, lastY) / max(dot(lastY, lastY), 1e-300)
                for i in 0..<p { direction[i] *= gamma }
            } else {
                let scale = 1 / max(maxNorm(g) * Double(p).squareRoot(), 1)
                for i in 0..<p { direction[i] *= scale }
            }
            for k in 0..<s.count {
                let beta = rho[k] * dot(y[k], direction)
                axpy(alpha[k] - beta, s[k], &direction)
            }
            var slope = dot(g, direction)
            if slope >= 0 { // not a descent direction: restart from steepest descent
                s.removeAll(); y.removeAll(); rho.removeAll()
                for i in 0..<p { direction[i] = -g[i] }
                slope = dot(g, direction)
            }
            // Backtracking line search with the Armijo condition.
            var step = 1.0
            var fNew = 0.0
            var accepted = false
            for _ in 0..<40 {
                for i in 0..<p { xNew[i] = x[i] + step * direction[i] }
                fNew = f(xNew, &gNew)
                if fNew <= fx + 1e-4 * step * slope { accepted = true; break }
                step *= 0.5
            }
            if !accepted { break }
            var sk = [Double](repeating: 0, count: p)
            var yk = [Double](repeating: 0, count: p)
            for i in 0..<p {
                sk[i] = xNew[i] - x[i]
                yk[i] = gNew[i] - g[i]
            }
            let sy = dot(sk, yk)
            if sy > 1e-12 {
                if s.count == memory { s.removeFirst(); y.removeFirst(); rho.removeFirst() }
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

    static func dot(_ a: [Double], _ b: [Double]) -> Double {
        var sum = 0.0
        for i in 0..<a.count { sum += a[i] * b[i] }
        return sum
    }

    static func axpy(_ alpha: Double, _ x: [Double], _ y: inout [Double]) {
        for i in 0..<x.count { y[i] += alpha * x[i] }
    }

    static func maxNorm(_ v: [Double]) -> Double {
        var m = 0.0
        for e in v { m = max(m, e.magnitude) }
        return m
    }
}
