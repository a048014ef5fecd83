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

extension Agreement {
    /// How distances between two values are measured in Krippendorff's α.
    public enum Metric: String, Sendable, CaseIterable {
        /// Any two different values disagree equally.
        case nominal
        /// Ranks: the distance grows with how many values lie between them.
        case ordinal
        /// Numbers: the squared difference.
        case interval
    }

    /// Fleiss' κ for any number of raters per unit, with missing ratings
    /// (Gwet's form, as irrCAC's `fleiss.kappa.raw`): units with no rating are
    /// dropped; p_a averages agreement over units with at least two ratings;
    /// p_e = Σ_k π_k², π_k the mean over units of the share of ratings in k.
    ///
    /// - Parameter ratings: units × raters, category index or nil when missing.
    /// - Complexity: O(units × (raters + categories)).
    public static func fleissKappa(_ ratings: [[Int?]]) -> Double? {
        fleissKappa(units: ratings.map { $0.compactMap { $0 } })
    }

    /// Fleiss' κ from each unit's ratings alone (who gave them does not
    /// matter), so memory grows with the ratings, not units × raters.
    ///
    /// - Parameter units: per unit, the category indices it was given.
    /// - Complexity: O(ratings + units × categories).
    public static func fleissKappa(units ratings: [[Int]]) -> Double? {
        let categories = (ratings.lazy.compactMap { $0.max() }.max() ?? -1) + 1
        guard categories > 0 else { return nil }
        var agreement = 0.0, agreementUnits = 0
        var pi = [Double](repeating: 0, count: categories)
        var units = 0
        var counts = [Double](repeating: 0, count: categories)
        for unit in ratings {
            for c in counts.indices { counts[c] = 0 }
            var r = 0.0
            for c in unit { counts[c] += 1; r += 1 }
            guard r > 0 else { continue }
            units += 1
            for c in 0..<categories { pi[c] += counts[c] / r }
            if r >= 2 {
                agreementUnits += 1
                agreement += counts.map { $0 * ($0 - 1) }.reduce(0, +) / (r * (r - 1))
            }
        }
        guard agreementUnits > 0 else { return nil }
        let pa = agreement / Double(agreementUnits)
        let pe = pi.map { ($0 / Double(units)) * ($0 / Double(units)) }.reduce(0, +)
        return pe >= 1 ? nil : (pa - pe) / (1 - pe)
    }

    /// Krippendorff's α with missing values, from the coincidence matrix:
    /// α = 1 − (n − 1) · Σ o_ck δ²_ck / Σ n_c n_k δ²_ck, over units with two or more values.
    ///
    /// - Parameter ratings: units × coders, the value or nil when missing.
    /// - Complexity: O(units × coders² + values²).
    public static func krippendorffAlpha(_ ratings: [[Double?]], metric: Metric) -> Double? {
        krippendorffAlpha(units: ratings.map { $0.compactMap { $0 } }, metric: metric)
    }

    /// Krippendorff's α from each unit's values alone (who gave them does not
    /// matter), so memory grows with the values, not units × coders.
    ///
    /// - Parameter units: per unit, the values it was given.
    /// - Complexity: O(Σ_units m_u² + values³) for m_u values in unit u (values³ only for ordinal).
    public static func krippendorffAlpha(units ratings: [[Double]], metric: Metric) -> Double? {
        let values = Array(Set(ratings.joined())).sorted()
        let index = Dictionary(uniqueKeysWithValues: values.enumerated().map { ($1, $0) })
        return krippendorffAlpha(units: ratings.map { $0.map { index[$0]! } }, values: values.count) { c, k, marginals in
            switch metric {
            case .nominal: return c == k ? 0 : 1
            case .interval: return (values[c] - values[k]) * (values[c] - values[k])
            case .ordinal:
                let (lo, hi) = (min(c, k), max(c, k))
                let between = (lo...hi).map { marginals[$0] }.reduce(0, +) - (marginals[c] + marginals[k]) / 2
                return between * between
            }
        }
    }

    /// Krippendorff's α over any kind of value, from the coincidence matrix:
    /// α = 1 − (n − 1) · Σ o_ck δ_ck / Σ n_c n_k δ_ck over units with two or
    /// more values (as NLTK's `AnnotationTask.alpha`, whose distance is δ).
    ///
    /// - Parameters:
    ///   - units: per unit, the indices (in `0..<values`) of the values it was given.
    ///   - distance: δ between values c and k, given the values' marginal counts n_c
    ///     (the ordinal metric needs them); δ(c, c) is never asked for.
    /// - Complexity: O(Σ_units m_u² + values² × cost of δ).
    public static func krippendorffAlpha(units ratings: [[Int]], values v: Int,
                                         distance: (_ c: Int, _ k: Int, _ marginals: [Double]) -> Double) -> Double? {
        guard v > 0 else { return nil }
        var o = [Double](repeating: 0, count: v * v)
        for unit in ratings {
            let m = Double(unit.count)
            guard m >= 2 else { continue }
            for (i, a) in unit.enumerated() {
                for (j, b) in unit.enumerated() where i != j { o[a * v + b] += 1 / (m - 1) }
            }
        }
        let marginals = (0..<v).map { c in (0..<v).map { o[c * v + $0] }.reduce(0, +) }
        let n = marginals.reduce(0, +)
        guard n > 1 else { return nil }
        var observed = 0.0, expected = 0.0
        for c in 0..<v {
            for k in 0..<v where c != k {
                let d = distance(c, k, marginals)
                observed += o[c * v + k] * d
                expected += marginals[c] * marginals[k] * d
            }
        }
        return expected == 0 ? nil : 1 - (n - 1) * observed / expected
    }
}

extension Agreement {
    /// Two raters' agreement over the units both of them rated.
    public struct Pair: Sendable, Equatable {
        /// The raters' column indices in the ratings, `a < b`.
        public var a: Int
        public var b: Int
        /// Units both raters rated.
        public var units: Int
        /// Cohen's κ over those units (see `cohenKappa(table:)`); nil when undefined.
        public var cohenKappa: Double?
        /// The share of those units on which they gave the same category.
        public var percentAgreement: Double

        public init(a: Int, b: Int, units: Int, cohenKappa: Double?, percentAgreement: Double) {
            self.a = a; self.b = b; self.units = units; self.cohenKappa = cohenKappa; self.percentAgreement = percentAgreement
        }
    }

    /// Cohen's κ and percent agreement for every pair of raters who rated at
    /// least one unit in common. Missing ratings are handled pairwise: each
    /// pair is measured only over the units both rated (as scikit-learn's
    /// `cohen_kappa_score` on the pair's complete cases).
    ///
    /// - Parameters:
    ///   - ratings: units × raters, category index in `0..<categories` or nil when missing.
    ///   - categories: how many categories there are.
    /// - Returns: the pairs sorted by `(a, b)`.
    /// - Complexity: O(Σ_units r_u² + pairs × categories²), r_u the ratings of unit u;
    ///   memory O(pairs × categories²) for the pairs that share a unit.
    public static func pairwise(_ ratings: [[Int?]], categories: Int) -> [Pair] {
        let units = ratings.map { $0.enumerated().compactMap { rater, c in c.map { (rater: rater, category: $0) } } }
        return pairwise(units: units, raters: ratings.first?.count ?? 0, categories: categories)
    }

    /// `pairwise` from each unit's (rater, category) ratings, so memory grows
    /// with the ratings, not units × raters.
    ///
    /// - Parameters:
    ///   - units: per unit, the ratings it was given; each rater in `0..<raters` at most once a unit.
    ///   - raters: how many raters there are.
    ///   - categories: how many categories there are.
    /// - Complexity: O(Σ_units r_u² + pairs × categories²), r_u the ratings of unit u.
    public static func pairwise(units: [[(rater: Int, category: Int)]], raters: Int, categories: Int) -> [Pair] {
        var tables: [Int: [Double]] = [:]
        for unit in units where unit.count >= 2 {
            for i in 0..<unit.count {
                for j in (i + 1)..<unit.count {
                    let (x, y) = unit[i].rater < unit[j].rater ? (unit[i], unit[j]) : (unit[j], unit[i])
                    tables[x.rater * raters + y.rater, default: [Double](repeating: 0, count: categories * categories)][x.category * categories + y.category] += 1
                }
            }
        }
        return tables.keys.sorted().map { key in
            let flat = tables[key]!
            let table = (0..<categories).map { Array(flat[($0 * categories)..<(($0 + 1) * categories)]) }
            let n = flat.reduce(0, +)
            let same = (0..<categories).map { table[$0][$0] }.reduce(0, +)
            return Pair(a: key / raters, b: key % raters, units: Int(n), cohenKappa: cohenKappa(table: table),
                        percentAgreement: same / n)
        }
    }

    /// Pairwise percent agreement: over units with two or more ratings, the
    /// share of all pairs of ratings on the same unit that are equal (pairs are
    /// pooled across units, so a unit with more raters weighs more).
    ///
    /// - Parameter ratings: units × raters, category index or nil when missing.
    /// - Returns: nil when no unit has two ratings.
    /// - Complexity: O(units × raters).
    public static func percentAgreement(_ ratings: [[Int?]]) -> Double? {
        percentAgreement(units: ratings.map { $0.compactMap { $0 } })
    }

    /// `percentAgreement` from each unit's categories alone.
    ///
    /// - Parameter units: per unit, the category indices it was given.
    /// - Complexity: O(ratings).
    public static func percentAgreement(units ratings: [[Int]]) -> Double? {
        var agreeing = 0, pairs = 0
        var counts: [Int: Int] = [:]
        for unit in ratings {
            counts.removeAll(keepingCapacity: true)
            for c in unit { counts[c, default: 0] += 1 }
            let n = counts.values.reduce(0, +)
            guard n >= 2 else { continue }
            pairs += n * (n - 1) / 2
            agreeing += counts.values.map { $0 * ($0 - 1) / 2 }.reduce(0, +)
        }
        return pairs == 0 ? nil : Double(agreeing) / Double(pairs)
    }
}
