import ArgumentParser
import Foundation
import QuorumCore
import QuorumPipeline
import QuorumReporting
import QuorumSampling

struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay active learning offline on a labelled file, against uniform random sampling.",
        discussion: """
            Every run is a temporary project driven through the same code as a lead's rounds: round start, \
            the file's labels answering (or --annotators simulated annotators who are each wrong with probability \
            --noise), round close (consensus, retrain with model selection, evaluate). The blend and the random \
            baseline start from the same --initial labels and are scored on the same test split (the file's "split" \
            field, else a stable 20% by id) for every seed.
            """)
    /// Accepted like every command's; a simulation needs no project.
    @OptionGroup var project: ProjectOptions
    @Option(help: "A labelled .jsonl or .csv file.") var data: String
    @Option(help: "Rounds per run.") var rounds: Int
    @Option(help: "Labels added per round.") var batch: Int
    @Option(help: "Labels to start from (seeded random).") var initial = 20
    @Option(help: ArgumentHelp("Strategy weights (default \(Blend.standard.spec)), or auto.", valueName: "spec")) var blend: String?
    @Option(help: "How uncertainty is scored.") var uncertainty: UncertaintyMeasure = SamplerOptions.defaultUncertainty
    @Option(help: "How a batch is kept diverse.") var diversity: Diversity.Method = SamplerOptions.defaultDiversity
    @Option(help: "Simulated annotators per item.") var annotators = 1
    @Option(help: "Probability that a simulated annotator is wrong.") var noise = 0.0
    @Option(help: "Runs, with seeds 1…S.") var seeds = 1
    @Option(help: "Ensemble members per model (as `quorum train`).") var members = 5
    @Option(help: ArgumentHelp("A fixed C; default: chosen by cross-validation each round, as `quorum train`.", valueName: "C"))
    var c: Double?
    @Flag(inversion: .prefixedNo, help: "Also run the uniform random baseline on the same splits and seeds.") var baseline = true
    @Option(help: "Where to write the JSON result.") var out: String
    @Flag(help: "Replace --out if it exists.") var force = false
    @OptionGroup var output: FormatOptions

    func validate() throws {
        guard rounds >= 1, batch >= 1, initial >= 2, seeds >= 1, annotators >= 1, members >= 1 else {
            throw ValidationError("--rounds, --batch, --seeds, --annotators and --members must be at least 1, --initial at least 2.")
        }
        guard (0..<1).contains(noise) else { throw ValidationError("--noise must be in [0, 1).") }
        if let c { guard c > 0, c.isFinite else { throw ValidationError("--c must be a positive number.") } }
        if let blend, blend != "auto" { do { _ = try Blend(parsing: blend) } catch { throw ValidationError("--blend: \(error.description).") } }
    }

    func run() throws {
        let project = ProcessInfo.processInfo.environment["QUORUM_PROJECT"] ?? "."
        try OutputFile.check(out, force: force, project: project)
        let options = SimulationService.Options(
            rounds: rounds, batch: batch, initial: initial, seeds: seeds,
            blend: try blend.flatMap { $0 == "auto" ? nil : try Blend(parsing: $0) } ?? .standard, adaptive: blend == "auto",
            uncertainty: uncertainty, diversity: diversity,
            train: TrainService.Options(c: c, members: members), annotators: annotators, noise: noise, baseline: baseline)
        let result = try SimulationService.run(path: data, options: options) { printError($0) }
        try OutputFile.write(result.json.serialized(pretty: true) + "\n", to: out, what: "result", force: force, project: project)
        output.emit(result.json) {
            var lines = ["\(result.dataset): full-pool \(result.metric == "micro_f1" ? "micro F1" : "accuracy") \(Report.percent(result.fullAccuracy)) (\(result.poolItems) pool, \(result.testIDs.count) test, \(result.seeds) seeds, \(Int(result.seconds)) s)",
                         "labels   blend    random"]
            for (i, b) in result.blended.curve.enumerated() {
                lines.append(String(b.labels).padding(6, left: true) + "  " + Report.percent(b.accuracy).padding(6, left: true)
                             + "   " + (result.random.map { Report.percent($0.curve[i].accuracy) } ?? "-").padding(6, left: true))
            }
            func reach(_ n: Int?) -> String { n.map(String.init) ?? "not reached" }
            let random = result.random.map { (reach($0.labelsTo99), reach($0.labelsTo95)) } ?? ("not run", "not run")
            lines.append("labels to 99% of full accuracy: blend \(reach(result.blended.labelsTo99)), random \(random.0)")
            lines.append("labels to 95%: blend \(reach(result.blended.labelsTo95)), random \(random.1)")
            return lines.joined(separator: "\n")
        }
    }
}
