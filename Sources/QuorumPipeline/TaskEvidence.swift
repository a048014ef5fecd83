import QuorumCore
import QuorumLabelling
import QuorumModels
import QuorumStore

/// The evidence behind a task, for the loop's `d` key: the labelled items
/// nearest to it in the live model's feature space, and the features that
/// pull it towards the suggested label. Loaded on first use, then reused.
final class TaskEvidence {
    private let store: any ProjectStore
    private var loaded = false
    private var classifier: Classifier?
    private var labelled: [(id: String, label: String, text: String)] = []
    private var index: NearestExamples?
    private var labels: LabelSet?

    init(store: any ProjectStore) {
        self.store = store
    }

    /// Featurises the labelled items (seed, and pool items with a settled consensus) once.
    private func load() throws {
        guard !loaded else { return }
        loaded = true
        try store.read { r in
            labels = try r.project().labels
            guard let model = try r.liveModel(), let c = Classifier(encoded: model.state) else { return }
            classifier = c
            let consensus = try r.consensus()
            var texts: [String?] = [], vectors: [[Float]?] = []
            // Seeds, and pool items with a settled consensus: read by key, not the whole pool.
            let settled = consensus.compactMap { $0.value.label == nil ? nil : $0.key }
            let pool = try r.items(keys: settled).filter { $0.kind == .pool }
            for item in (try r.items(kinds: [.seed]) + pool).sorted(by: { $0.key < $1.key }) {
                guard let label = item.kind == .seed ? item.label : consensus[item.key]?.label else { continue }
                labelled.append((item.id, label, item.text ?? item.metaJSON ?? ""))
                texts.append(item.text)
                vectors.append(item.vector)
            }
            index = NearestExamples(classifier: c, texts: texts, vectors: vectors)
        }
    }

    /// - Parameter blind: a blind task shows no evidence at all: the nearest
    ///   examples come with their labels and the features point at the model's
    ///   pick, and either would give the hidden suggestion away.
    func details(for task: OpenTask, blind: Bool) throws -> TaskDetails {
        if blind {
            return TaskDetails(sections: [("Details", ["Evidence hidden for this item (blind): answer from the item alone."])])
        }
        try load()
        guard let classifier, let index, let labels else {
            return TaskDetails(sections: [("Details", ["No trained model yet: run `quorum train` to see the evidence."])])
        }
        var sections: [(title: String, lines: [String])] = []
        let near = index.nearest(text: task.item.text, vector: task.item.vector, count: 3)
        sections.append(("Nearest labelled examples", near.isEmpty ? ["(none)"] : near.map { n in
            let e = labelled[n.index]
            // A snippet: the screen shows one line of it.
            let snippet = e.text.prefix(400).split(whereSeparator: \.isNewline).joined(separator: " ")
            return "\(JSONValue.format((Double(n.similarity) * 100).rounded() / 100))  \(e.label)  \(e.id): \(snippet)"
        }))
        if let p = task.probabilities, p.count == labels.count {
            let best = p.indices.max { p[$0] < p[$1] }!
            let features = classifier.strongestFeatures(text: task.item.text, vector: task.item.vector, label: best, count: 6)
            sections.append(("Features behind \"\(labels.names[best])\"", features.isEmpty ? ["(none)"] : [
                features.map { "\($0.contribution >= 0 ? "+" : "−")\(JSONValue.format((Double(abs($0.contribution)) * 100).rounded() / 100)) \($0.name)" }
                    .joined(separator: "  "),
            ]))
        }
        return TaskDetails(sections: sections)
    }
}
