/// Agreement between two raters (or two models) over the same items.
public enum Agreement {
    /// Cohen's κ from a square contingency table (`table[i][j]`: items rater A
    /// put in category i and rater B in j): (p_o − p_e) / (1 − p_e).
    /// When both raters always use one and the same category, κ is 1.
    ///
    /// - Complexity: O(k²) for k categories.
    public static func cohenKappa(table: [[Double]]) -> Double? {
        let k = table.count
        guard k > 0, table.allSatisfy({ $0.count == k }) else { return nil }
        let n = table.flatMap { $0 }.reduce(0, +)
        guard n > 0 else { return nil }
        var observed = 0.0, expected = 0.0
        for i in 0..<k {
            observed += table[i][i]
            let row = table[i].reduce(0, +)
            let column = (0..<k).map { table[$0][i] }.reduce(0, +)
            expected += row * column
        }
        observed /= n
        expected /= n * n
        if expected >= 1 { return observed >= 1 ? 1 : nil }
        return (observed - expected) / (1 - expected)
    }

    /// Cohen's κ from paired labels (class indices in `0..<classes`).
    ///
    /// - Complexity: O(n + classes²).
    public static func cohenKappa(_ a: [Int], _ b: [Int], classes: Int) -> Double? {
        precondition(a.count == b.count, "cohenKappa: \(a.count) and \(b.count) labels")
        var table = [[Double]](repeating: [Double](repeating: 0, count: classes), count: classes)
        for (x, y) in zip(a, b) { table[x][y] += 1 }
        return cohenKappa(table: table)
    }
}
