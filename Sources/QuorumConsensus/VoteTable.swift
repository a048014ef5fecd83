/// Votes encoded once for every aggregator: dense indices, sorted by item.
///
/// Items are numbered in ascending id order, annotators in ascending name
/// order, classes in the order of `labels`. Answer j (in item order) is
/// (item, `annotator[j]`, `label[j]`) for the item whose range
/// `itemStart[item] ..< itemStart[item + 1]` contains j: a sparse
/// items × (annotators · classes) matrix in CSR form, in contiguous `Int32` arrays.
public struct VoteTable: Sendable {
    /// Class names; index = class.
    public let labels: [String]
    /// Item ids, ascending; index = dense item.
    public let items: [Int64]
    /// Annotator names, ascending; index = dense annotator.
    public let annotators: [String]
    /// items.count + 1 offsets into `annotator` / `label`.
    public let itemStart: [Int32]
    /// Dense annotator of each answer.
    public let annotator: [Int32]
    /// Class index of each answer.
    public let label: [Int32]

    /// Encodes `votes`. An annotator who labels an item twice counts twice,
    /// as in crowd-kit.
    ///
    /// - Complexity: O(votes + items · log items + annotators · log annotators),
    ///   expected (hashing).
    public init(_ votes: [Vote], labels: [String]) throws(AggregationError) {
        guard !labels.isEmpty else { throw .noLabels }
        var labelIndex: [String: Int32] = [:]
        labelIndex.reserveCapacity(labels.count)
        for (c, name) in labels.enumerated() {
            guard labelIndex.updateValue(Int32(c), forKey: name) == nil else { throw .duplicateLabel(name) }
        }

        // First pass: provisional indices in order of first appearance.
        var itemSlot: [Int64: Int32] = [:]
        var annotatorSlot: [String: Int32] = [:]
        var itemIDs: [Int64] = []
        var names: [String] = []
        var rawItem = [Int32](repeating: 0, count: votes.count)
        var rawAnnotator = [Int32](repeating: 0, count: votes.count)
        var rawLabel = [Int32](repeating: 0, count: votes.count)
        var lastName: String? = nil
        var lastSlot: Int32 = 0
        for (j, v) in votes.enumerated() {
            guard let l = labelIndex[v.label] else {
                throw .unknownLabel(v.label, item: v.item, annotator: v.annotator)
            }
            rawLabel[j] = l
            if let slot = itemSlot[v.item] {
                rawItem[j] = slot
            } else {
                let slot = Int32(itemIDs.count)
                itemSlot[v.item] = slot
                itemIDs.append(v.item)
                rawItem[j] = slot
            }
            // Votes often arrive grouped by annotator: skip the hash when the name repeats.
            if v.annotator != lastName {
                if let slot = annotatorSlot[v.annotator] {
                    lastSlot = slot
                } else {
                    lastSlot = Int32(names.count)
                    annotatorSlot[v.annotator] = lastSlot
                    names.append(v.annotator)
                }
                lastName = v.annotator
            }
            rawAnnotator[j] = lastSlot
        }

        // Rank provisional indices: items by id, annotators by name.
        let itemOrder = itemIDs.indices.sorted { itemIDs[$0] < itemIDs[$1] }
        var itemRank = [Int32](repeating: 0, count: itemIDs.count)
        for (rank, slot) in itemOrder.enumerated() { itemRank[slot] = Int32(rank) }
        let nameOrder = names.indices.sorted { names[$0] < names[$1] }
        var nameRank = [Int32](repeating: 0, count: names.count)
        for (rank, slot) in nameOrder.enumerated() { nameRank[slot] = Int32(rank) }

        // Counting sort of the answers by item rank (stable: vote order within an item).
        let n = itemIDs.count
        var start = [Int32](repeating: 0, count: n + 1)
        for slot in rawItem { start[Int(itemRank[Int(slot)]) + 1] += 1 }
        for i in 0..<n { start[i + 1] += start[i] }
        var next = start
        var annotator = [Int32](repeating: 0, count: votes.count)
        var label = [Int32](repeating: 0, count: votes.count)
        for j in 0..<votes.count {
            let i = Int(itemRank[Int(rawItem[j])])
            let at = Int(next[i])
            next[i] += 1
            annotator[at] = nameRank[Int(rawAnnotator[j])]
            label[at] = rawLabel[j]
        }

        self.labels = labels
        self.items = itemOrder.map { itemIDs[$0] }
        self.annotators = nameOrder.map { names[$0] }
        self.itemStart = start
        self.annotator = annotator
        self.label = label
    }

    /// Number of answers.
    public var count: Int { annotator.count }
}

extension VoteTable {
    /// Answers given by each annotator, indexed by dense annotator.
    ///
    /// - Complexity: O(answers).
    public func answersPerAnnotator() -> [Int] {
        var out = [Int](repeating: 0, count: annotators.count)
        for a in annotator { out[Int(a)] += 1 }
        return out
    }
}
