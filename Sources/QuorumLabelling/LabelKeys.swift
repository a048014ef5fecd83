import QuorumCore

/// Which key picks which label in the loop.
///
/// - When every label is a single character that is not one of the loop's own
///   keys (s u f n d q ? / b, space), each label is picked by its own key: with
///   labels 0–9, `6` records "6".
/// - Otherwise keys go by position: 1–9 pick the first nine labels, 0 the
///   tenth, and the screen shows each key next to its label (`[1] yes`).
/// - Any label, including those past the tenth, can be found by typing part of
///   its name after `/` (`matches`).
public struct LabelKeys: Sendable, Equatable {
    /// The keys the loop keeps for itself.
    public static let commandKeys: Set<Character> = ["s", "u", "f", "n", "d", "q", "?", "/", "b", " "]

    /// Whether each label is picked by its own key.
    public let ownKeys: Bool
    private let keys: [Character]

    public init(labels: [String]) {
        let singles = labels.compactMap { $0.count == 1 ? $0.first : nil }
        let own = singles.count == labels.count && Set(singles).count == labels.count
            && !singles.contains { Self.commandKeys.contains($0) || $0.unicodeScalars.contains(where: TerminalText.isUnsafe) }
        ownKeys = own
        keys = own ? singles : Array("1234567890".prefix(labels.count))
    }

    /// The label (by index) that `key` picks, if any.
    public func label(forKey key: Character) -> Int? {
        keys.firstIndex(of: key)
    }

    /// The key that picks label `index`; nil past the tenth label (find it with `/`).
    public func key(forLabel index: Int) -> Character? {
        index < keys.count ? keys[index] : nil
    }

    /// The labels as the screen shows them: `[key] name`, or the bare name when
    /// only `/` reaches it.
    public func shown(_ labels: [String]) -> [String] {
        labels.enumerated().map { i, name in key(forLabel: i).map { "[\($0)] \(name)" } ?? name }
    }

    /// The labels whose names contain `typed` (ignoring case): those that start
    /// with it first, each group in the project's order.
    public func matches(_ typed: String, in labels: [String]) -> [Int] {
        let needle = typed.lowercased()
        guard !needle.isEmpty else { return Array(labels.indices) }
        var starts: [Int] = [], contains: [Int] = []
        for (i, name) in labels.enumerated() {
            let lower = name.lowercased()
            if lower.hasPrefix(needle) { starts.append(i) } else if lower.contains(needle) { contains.append(i) }
        }
        return starts + contains
    }
}
