import QuorumCore

/// A snapshot's datasheet: what is in it, where its labels came from, who
/// labelled it and how far they agreed. It is computed from the snapshot's
/// immutable rows (each row carries its answers), so the same snapshot always
/// gives the same datasheet.
public struct Datasheet: Sendable, Equatable {
    /// A name and how many rows have it.
    public struct Count: Sendable, Equatable {
        public var name: String
        public var count: Int
        public init(_ name: String, _ count: Int) { self.name = name; self.count = count }
    }

    /// One split's rows per label.
    public struct SplitCounts: Sendable, Equatable {
        public var split: Split
        public var labels: [Count]
    }

    public var snapshot: SnapshotInfo
    /// Rows per label: the project's labels in their order (zeros included), then any other label, sorted.
    public var labels: [Count]
    /// Rows per source, in `LabelSource.allCases` order (zeros included).
    public var sources: [Count]
    /// Rows per split, in `Split.allCases` order (zeros included).
    public var splits: [Count]
    /// Per split (in `Split.allCases` order), rows per label in the order of `labels`.
    public var labelsBySplit: [SplitCounts]
    /// The distinct annotators whose answers the rows carry, sorted.
    public var annotators: [String]
    /// Answers carried by the rows.
    public var answers: Int
    /// Rows with at least one answer.
    public var answeredItems: Int
    /// Agreement over the rows' answers, each row one unit.
    public var agreement: AgreementFigures
    /// Whether the project's labels are ordered (so ordinal and interval α apply).
    public var ordered: Bool
    /// Whether the rows still hash to the recorded content hash; nil when not checked.
    public var hashVerified: Bool?

    /// Computes the datasheet of `rows`, the rows of `snapshot`.
    ///
    /// - Parameters:
    ///   - labels: the project's labels, in their order.
    ///   - ordered: whether those labels are a scale (see `AgreementFigures.measure`).
    /// - Complexity: O(rows × annotators² + a log a + pairs × labels²) for a answers.
    public init(snapshot: SnapshotInfo, rows: [SnapshotRow], labels: [String], ordered: Bool, hashVerified: Bool? = nil) {
        var byLabel: [String: Int] = [:], bySource: [LabelSource: Int] = [:], bySplit: [Split: Int] = [:]
        var bySplitLabel: [Split: [String: Int]] = [:]
        var given: [(unit: String, annotator: String, label: String)] = []
        for row in rows {
            byLabel[row.label, default: 0] += 1
            bySource[row.source, default: 0] += 1
            bySplit[row.split, default: 0] += 1
            bySplitLabel[row.split, default: [:]][row.label, default: 0] += 1
            given += row.answers.map { (unit: row.id, annotator: $0.annotator, label: $0.label) }
        }
        let names = labels + Set(byLabel.keys).subtracting(labels).sorted()
        self.snapshot = snapshot
        self.labels = names.map { Count($0, byLabel[$0] ?? 0) }
        self.sources = LabelSource.allCases.map { Count($0.rawValue, bySource[$0] ?? 0) }
        self.splits = Split.allCases.map { Count($0.rawValue, bySplit[$0] ?? 0) }
        self.labelsBySplit = Split.allCases.map { split in SplitCounts(split: split, labels: names.map { Count($0, bySplitLabel[split]?[$0] ?? 0) }) }
        let ratings = Ratings(given, labels: labels)
        self.annotators = ratings.annotators
        self.answers = given.count
        self.answeredItems = rows.count { !$0.answers.isEmpty }
        self.agreement = AgreementFigures.measure(ratings, ordered: ordered)
        self.ordered = ordered
        self.hashVerified = hashVerified
    }

    /// The datasheet as `snapshot show --format json` prints it: the snapshot's
    /// header fields (`snapshot`, `hash`, `items`, `parent`, `rounds`, …), then
    /// `labels`, `sources`, `splits` (name → rows), `labels_by_split`,
    /// `annotators` (how many), `annotator_names`, `answers`, `answered_items`,
    /// `ordered_labels`, `hash_verified` and the `agreement` object.
    public func json(header: JSONValue) -> JSONValue {
        guard case .object(let fields) = header else { return header }
        func counts(_ c: [Count]) -> JSONValue { .object(c.map { ($0.name, .int($0.count)) }) }
        return .object(fields + [
            ("labels", counts(labels)), ("sources", counts(sources)), ("splits", counts(splits)),
            ("labels_by_split", .object(labelsBySplit.map { ($0.split.rawValue, counts($0.labels)) })),
            ("annotators", .int(annotators.count)), ("annotator_names", .array(annotators.map { .string($0) })),
            ("answers", .int(answers)), ("answered_items", .int(answeredItems)),
            ("ordered_labels", .bool(ordered)), ("hash_verified", hashVerified.map { .bool($0) } ?? .null),
            ("agreement", agreement.json),
        ])
    }

    /// A few lines for the terminal.
    public var text: String {
        let s = snapshot
        func list(_ c: [Count]) -> String { c.map { "\($0.name) \($0.count)" }.joined(separator: ", ") }
        return """
            \(s.name): \(s.items) items · hash \(s.hash)\(hashVerified.map { $0 ? " (verified)" : " (DOES NOT MATCH the rows)" } ?? "")
            parent \(s.parent.map { "v\($0)" } ?? "none") · model \(s.modelVersion ?? "none") · consensus \(s.consensusMethod) · rounds \(roundList)
            created \(s.createdAt) by \(s.createdBy)\(s.message.isEmpty ? "" : ": \(s.message)")
            labels:  \(list(labels))
            sources: \(list(sources))
            splits:  \(list(splits))
            annotators: \(annotators.count) · \(answers) answers on \(answeredItems) items
            agreement: \(agreement.text)
            """
    }

    var roundList: String { snapshot.rounds.isEmpty ? "none" : snapshot.rounds.map(String.init).joined(separator: ", ") }

    /// The datasheet as a Markdown document.
    public var markdown: String {
        let s = snapshot
        var out = "# Datasheet: snapshot \(s.name)\n\n"
        out += table(["", ""], [
            ["items", String(s.items)],
            ["content hash (SHA-256)", "`\(s.hash)`" + (hashVerified.map { $0 ? " (verified)" : " (does not match the rows)" } ?? "")],
            ["parent", s.parent.map { "v\($0)" } ?? "none"], ["created", "\(s.createdAt) by \(s.createdBy)"],
            ["message", s.message.isEmpty ? "-" : s.message], ["model version", s.modelVersion ?? "none"],
            ["consensus method", s.consensusMethod], ["rounds covered", roundList],
            ["labels", ordered ? "ordered (a scale, in this order)" : "unordered"],
        ])
        out += "\n## Labels\n\n"
        out += table(["label", "items", "share"] + Split.allCases.map(\.rawValue),
                     labels.enumerated().map { i, c in
                         [c.name, String(c.count), share(c.count)] + labelsBySplit.map { String($0.labels[i].count) }
                     } + [["**total**", String(s.items), share(s.items)] + splits.map { String($0.count) }])
        out += "\n## Sources\n\n" + table(["source", "items", "share"], sources.map { [$0.name, String($0.count), share($0.count)] })
        out += "\n## Annotation\n\n"
        out += "\(annotators.count) distinct annotator\(annotators.count == 1 ? "" : "s") gave \(answers) answers on \(answeredItems) items"
        out += annotators.isEmpty ? ".\n" : ": " + annotators.joined(separator: ", ") + ".\n"
        out += "\n## Agreement\n\nOver the answers the rows carry, each row one unit. Disputed items are not in a snapshot, "
            + "so these figures can be higher than the rounds' own (see `quorum report`).\n\n"
        var measures = [["Krippendorff's α (nominal)", Report.fixed(agreement.krippendorffAlpha)],
                        ["Fleiss' κ", Report.fixed(agreement.fleissKappa)],
                        ["percent agreement", Report.percent(agreement.percentAgreement)]]
        if ordered {
            measures += [["Krippendorff's α (ordinal)", Report.fixed(agreement.krippendorffAlphaOrdinal)],
                         ["Krippendorff's α (interval)", Report.fixed(agreement.krippendorffAlphaInterval)]]
        }
        out += table(["measure", "value"], measures)
        if !agreement.pairs.isEmpty {
            out += "\n### Annotator pairs\n\n"
            out += table(["annotator", "annotator", "items", "Cohen's κ", "agreement"], agreement.pairs.map {
                [$0.a, $0.b, String($0.items), Report.fixed($0.cohenKappa), Report.percent($0.percentAgreement)]
            })
        }
        return out
    }

    func share(_ n: Int) -> String { Report.percent(snapshot.items == 0 ? nil : Double(n) / Double(snapshot.items)) }

    /// A Markdown table; `|` in cells is escaped.
    func table(_ header: [String], _ rows: [[String]]) -> String {
        func line(_ cells: [String]) -> String {
            "| " + cells.map { $0.split(separator: "|", omittingEmptySubsequences: false).joined(separator: "\\|") }.joined(separator: " | ") + " |\n"
        }
        return line(header) + line(header.map { _ in "---" }) + rows.map(line).joined()
    }
}
