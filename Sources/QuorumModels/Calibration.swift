import Glibc
import QuorumNumerics

/// Temperature scaling: one scalar T > 0 dividing every member's logits,
/// chosen to minimise the negative log-likelihood of held-out labels.
public enum TemperatureScaling {
    /// Fits T on held-out logits (member-major, `members × n × k`).
    ///
    /// Golden-section search over ln T in [ln 0.05, ln 20]; the NLL of a
    /// softmax in 1/T is smooth and unimodal in practice.
    ///
    /// - Complexity: O(60 × members × n × k).
    public static func fit(logits: [Float], members: Int, labels: [Int], classes k: Int) -> Float {
        let n = labels.count
        guard n > 0 else { return 1 }
        var scratch = [Float](repeating: 0, count: n * k)
        func nll(_ t: Float) -> Double {
            for i in scratch.indices { scratch[i] = 0 }
            var row = [Float](repeating: 0, count: k)
            for m in 0..<members {
                for i in 0..<n {
                    let base = m * n * k + i * k
                    var top = -Float.infinity
                    for j in 0..<k { row[j] = logits[base + j] / t; top = max(top, row[j]) }
                    var sum: Float = 0
                    for j in 0..<k { row[j] = expf(row[j] - top); sum += row[j] }
                    for j in 0..<k { scratch[i * k + j] += row[j] / sum / Float(members) }
                }
            }
            var total = 0.0
            for i in 0..<n { total -= log(Double(max(scratch[i * k + labels[i]], 1e-12))) }
            return total / Double(n)
        }
        var lo = log(0.05), hi = log(20.0)
        let ratio = (5.0.squareRoot() - 1) / 2
        var a = hi - ratio * (hi - lo), b = lo + ratio * (hi - lo)
        var fa = nll(Float(exp(a))), fb = nll(Float(exp(b)))
        for _ in 0..<60 {
            if fa < fb {
                hi = b; b = a; fb = fa
                a = hi - ratio * (hi - lo); fa = nll(Float(exp(a)))
            } else {
                lo = a; a = b; fa = fb
                b = lo + ratio * (hi - lo); fb = nll(Float(exp(b)))
            }
            if hi - lo < 1e-4 { break }
        }
        return Float(exp((lo + hi) / 2))
    }
}
