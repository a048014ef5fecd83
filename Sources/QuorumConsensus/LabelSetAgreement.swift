/// Agreement on multi-label answers, where each answer is a set of labels
/// (possibly empty): Krippendorff's α with the MASI distance.
extension Agreement {
    /// MASI (Passonneau 2006), the distance NLTK's `masi_distance` computes:
    /// 1 − J · M, with J = |A ∩ B| / |A ∪ B| (Jaccard) and M = 1 when the sets
    /// are equal, 2/3 when one contains the other, 1/3 when they overlap
    /// otherwise, 0 when they are disjoint. Two empty sets are equal (distance 0).
    ///
    /// - Complexity: O(|A| + |B|).
    public static func masiDistance(_ a: Set<Int>, _ b: Set<Int>) -> Double {
        if a == b { return 0 }
        let common = a.intersection(b).count
        let union = a.count + b.count - common
        let monotonicity: Double = common == min(a.count, b.count) ? 2.0 / 3 : common > 0 ? 1.0 / 3 : 0
        return 1 - Double(common) / Double(union) * monotonicity
    }

    /// Krippendorff's α over label sets with the MASI distance: each distinct
    /// set is one value.
    ///
    /// - Parameter units: per unit (item), the label sets its annotators gave.
    /// - Complexity: O(Σ_units m_u² + distinct sets² × labels).
    public static func krippendorffAlphaMASI(units: [[Set<Int>]]) -> Double? {
        var index: [Set<Int>: Int] = [:]
        var values: [Set<Int>] = []
        let coded = units.map { unit in
            unit.map { set -> Int in
                if let i = index[set] { return i }
                index[set] = values.count
                values.append(set)
                return values.count - 1
            }
        }
        var cache = [Double?](repeating: nil, count: values.count * values.count)
        return krippendorffAlpha(units: coded, values: values.count) { c, k, _ in
            if let d = cache[c * values.count + k] { return d }
            let d = masiDistance(values[c], values[k])
            cache[c * values.count + k] = d
            return d
        }
    }
}
