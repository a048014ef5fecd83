import ArgumentParser
import QuorumCore
import QuorumPipeline

struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Model versions: trained and imported models.",
                                                    subcommands: [List.self, Promote.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "When each model was made, on what, its settings and validation metrics, and which is live or in shadow.")
        @OptionGroup var project: ProjectOptions
        @OptionGroup var output: FormatOptions

        func run() throws {
            let entries = try ModelService.list(store: try project.openForReading())
            try output.emit(.object([("models", .array(try entries.map { try $0.json }))])) {
                guard !entries.isEmpty else { return "No models yet. Train one with `quorum train`." }
                var lines = ["model  status   kind                     trained on  members  test acc    ECE  created"]
                for e in entries {
                    let m = try e.metrics, s = try e.settings
                    let status = e.model.isLive ? "live" : (e.model.isShadow ? "shadow" : "-")
                    lines.append([
                        e.model.id.padding(6), status.padding(8), String(e.model.kind.prefix(24)).padding(24),
                        String(e.model.trainedOn).padding(11, left: true), String((s["members"] as? Int) ?? 1).padding(8, left: true),
                        ((m["test_accuracy"] as? Double).map { fmt($0 * 100, 1) + "%" } ?? "-").padding(9, left: true),
                        fmt(m["ece"] as? Double).padding(6, left: true), e.model.createdAt,
                    ].joined(separator: " "))
                }
                return lines.joined(separator: "\n")
            }
        }
    }
}

extension Models {
    struct Promote: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a shadow or an earlier model live; routing and sampling use it from the next round.")
        @OptionGroup var project: ProjectOptions
        @Argument(help: "The model version, e.g. m3.") var id: String

        func run() throws {
            let (model, previous) = try ModelService.promote(store: try project.open(), id: id)
            print("Model \(model.id) is live\(previous.map { "; \($0) is retired (promote it to go back)" } ?? "").")
        }
    }
}

struct Predictions: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Bring in your own model's predictions.",
                                                    subcommands: [ImportPredictions.self])

    struct ImportPredictions: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Import per-item probabilities as a model version the router and sampler can use.",
            discussion: "FILE is JSONL with one {\"id\": …, \"probs\": {\"LABEL\": p, …}} per line. It is all or nothing: probabilities must sum to 1 (±0.001), and labels and items must be known.")
        @OptionGroup var project: ProjectOptions
        @Argument(help: "A .jsonl file of predictions.") var file: String
        @Option(help: "The model's name, e.g. bert-v3.") var model: String
        @Flag(help: "Record it as the shadow model instead of the live one.") var shadow = false
        @Flag(help: "With --shadow: retire the model now in shadow.") var replaceShadow = false
        @OptionGroup var output: FormatOptions

        func run() throws {
            let s = try ModelService.importPredictions(store: try project.open(), path: file, name: model, shadow: shadow,
                                                          replaceShadow: replaceShadow)
            output.emit(s.json) {
                "Imported \(s.items) predictions of \(s.name) as model \(s.modelVersion)\(s.shadow ? " (shadow)" : " (live)")."
                    + (s.testAccuracy.map { " Test accuracy \(fmt($0 * 100, 1))% on \(s.testItems) test items, ECE \(fmt(s.ece))." } ?? "")
            }
        }
    }
}

extension String {
    func padding(_ width: Int, left: Bool = false) -> String {
        let pad = String(repeating: " ", count: max(0, width - count))
        return left ? pad + self : self + pad
    }
}
