import ArgumentParser
import Glibc
import Foundation
import QuorumCore
import QuorumModels
import QuorumPipeline

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the pre-labelling model on seed and consensus labels, and score the pool.")
    @OptionGroup var project: ProjectOptions
    @Option(help: ArgumentHelp("Inverse regularisation strength (as scikit-learn's C); default: chosen by 5-fold cross-validation over 0.01, 0.1, 1, 10, 100, 1000.",
                               valueName: "C"))
    var c: Double?
    @Option(help: ArgumentHelp("Text features: words or words+pairs at min df 2 (rare words dropped), or words+pairs-all at min df 1; default: chosen by cross-validation among the three (min df 1 below 100 texts).",
                               valueName: "kind"))
    var features: TextFeatures?
    @Option(help: "Ensemble members, each trained on a bootstrap resample.") var members = 5
    @Option(help: "Seed for every random choice.") var seed: UInt64 = 1
    @Flag(help: "Score with the new model without changing the routing (see `quorum report`; `quorum models promote` makes it live).") var shadow = false
    @Flag(help: "With --shadow: retire the model now in shadow.") var replaceShadow = false
    @Option(help: ArgumentHelp("cv: a temperature fitted on the cross-validation's out-of-fold predictions, kept where it lowers their ECE; none.",
                               valueName: "scheme"))
    var calibration: Classifier.CalibrationScheme = .cv
    @Option(help: ArgumentHelp("How members resample the labels: bayesian (Exp(1) weights, drops no item) or classic.",
                               valueName: "kind"))
    var bootstrap: Resampling = .bayesian
    @OptionGroup var output: FormatOptions

    func validate() throws {
        if let c { guard c > 0, c.isFinite else { throw ValidationError("--c must be a positive number.") } }
        guard (1...50).contains(members) else { throw ValidationError("--members must be between 1 and 50.") }
    }

    func run() throws {
        let s = try TrainService.run(store: try project.open(), options: .init(
            c: c, features: features?.settings, members: members, seed: seed, shadow: shadow, calibration: calibration, resampling: bootstrap, replaceShadow: replaceShadow))
        let chosen = s.training.folds > 0 && (c == nil || features == nil)
            ? "chosen by \(s.training.folds)-fold cross-validation (\(s.training.scores.count) settings tried)" : "fixed"
        output.emit(s.json) {
            """
            Model \(s.modelVersion)\(s.shadow ? " (shadow)" : ""): \(s.members) members trained on \(s.trainedOn) labelled items in \(fmt(s.seconds, 2)) s (up to \(s.iterations) L-BFGS iterations); scored \(s.scored) items.
            C = \(JSONValue.format(s.training.c)), features: \(s.featuresName); \(chosen).\(s.calibration.map { "\ncalibration (\($0.scheme)): temperature \(fmt(Double($0.fitted), 2)) \($0.applied ? "applied" : "not applied (no lower ECE)"), out-of-fold ECE \(fmt($0.eceBefore)) → \(fmt($0.eceAfter))" } ?? "")
            test accuracy \(fmt(s.testAccuracy.map { $0 * 100 }, 1))% · macro F1 \(fmt(s.macroF1.map { $0 * 100 }, 1))% · ECE \(fmt(s.ece)) (\(s.testItems) test items)
            """
        }
    }
}

struct Snapshot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Versioned, immutable datasets of the labels.",
        subcommands: [Create.self, List.self, Show.self, DatasheetCommand.self, Diff.self, Export.self, Verify.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Freeze the current labels as the next snapshot (v1, v2, …).")
        @OptionGroup var project: ProjectOptions
        @Option(name: .shortAndLong, help: "A message describing the snapshot.") var message = ""
        @Option(help: "Who creates the snapshot (default: $USER, else the login name).") var by: String?
        @OptionGroup var output: FormatOptions

        func run() throws {
            let author = by ?? ProcessInfo.processInfo.environment["USER"] ?? getpwuid(getuid()).map { String(cString: $0.pointee.pw_name) } ?? "unknown"
            let info = try SnapshotService.create(store: try project.open(), message: message, author: author)
            output.emit(info.json) {
                "Snapshot \(info.name): \(info.items) items, hash \(info.hash.prefix(16))…" + (info.parent.map { " (parent v\($0))" } ?? "")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List snapshots.")
        @OptionGroup var project: ProjectOptions
        @OptionGroup var output: FormatOptions

        func run() throws {
            let all = try SnapshotService.list(store: try project.openForReading())
            output.emit(.object([("snapshots", .array(all.map(\.json)))])) {
                if all.isEmpty { return "No snapshots yet. Create one with `quorum snapshot create -m MSG`." }
                return all.map { "\($0.name)  \($0.items) items  \($0.hash.prefix(12))  \($0.createdAt)  \($0.message)" }.joined(separator: "\n")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one snapshot's datasheet: header, counts per label, source and split, annotators, agreement.")
        @OptionGroup var project: ProjectOptions
        @Argument(help: "The snapshot, e.g. v1.") var id: String
        @OptionGroup var output: FormatOptions

        func run() throws {
            let sheet = try SnapshotService.datasheet(store: try project.openForReading(), name: id)
            output.emit(sheet.json(header: sheet.snapshot.json)) { sheet.text }
        }
    }

    struct DatasheetCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "datasheet", abstract: "Write one snapshot's datasheet as Markdown (or JSON with --format json).")
        @OptionGroup var project: ProjectOptions
        @Argument(help: "The snapshot, e.g. v1.") var id: String
        @Option(help: "Write the datasheet to this file instead of standard output.") var out: String?
        @Flag(help: "Replace --out if it exists.") var force = false
        @OptionGroup var output: FormatOptions

        func run() throws {
            let sheet = try SnapshotService.datasheet(store: try project.openForReading(), name: id)
            let text = output.format == .json ? sheet.json(header: sheet.snapshot.json).serialized() + "\n" : sheet.markdown
            guard let out else { return print(output.format == .json ? text : TerminalText.visible(text, keepNewlines: true), terminator: "") }
            try OutputFile.write(text, to: out, what: "datasheet", force: force, project: project.directory)
            print("Wrote the datasheet of \(sheet.snapshot.name) to \(TerminalText.visible(out)).")
        }
    }

    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Items added, removed and relabelled between two snapshots.")
        @OptionGroup var project: ProjectOptions
        @Argument(help: "The older snapshot.") var a: String
        @Argument(help: "The newer snapshot.") var b: String
        @OptionGroup var output: FormatOptions

        func run() throws {
            let d = try SnapshotService.diff(store: try project.openForReading(), from: a, to: b)
            let json = JSONValue.object([
                ("added", .int(d.added.count)), ("removed", .int(d.removed.count)), ("relabelled", .int(d.relabelled.count)),
                ("unchanged", .int(d.unchanged)),
                ("examples", .object([
                    ("added", .array(d.added.prefix(10).map { .string($0) })),
                    ("removed", .array(d.removed.prefix(10).map { .string($0) })),
                    ("relabelled", .array(d.relabelled.prefix(10).map {
                        .object([("id", .string($0.id)), ("from", .string($0.from)), ("to", .string($0.to))])
                    })),
                ])),
            ])
            output.emit(json) {
                var lines = ["\(a) → \(b): \(d.added.count) added, \(d.removed.count) removed, \(d.relabelled.count) relabelled, \(d.unchanged) unchanged"]
                if !d.added.isEmpty { lines.append("  added:      " + d.added.prefix(5).joined(separator: ", ") + (d.added.count > 5 ? ", …" : "")) }
                if !d.removed.isEmpty { lines.append("  removed:    " + d.removed.prefix(5).joined(separator: ", ") + (d.removed.count > 5 ? ", …" : "")) }
                for r in d.relabelled.prefix(5) { lines.append("  relabelled: \(r.id) \(r.from) → \(r.to)") }
                return lines.joined(separator: "\n")
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a snapshot to a file; the same snapshot always gives the same bytes.")
        @OptionGroup var project: ProjectOptions
        @Argument(help: "The snapshot, e.g. v1.") var id: String
        @Option(help: "File format: jsonl, csv, or dpo (preference projects: prompt, chosen, rejected per item settled a or b).") var format: SnapshotService.ExportFormat = .jsonl
        @Option(help: "Where to write (never the project's database; an existing file only with --force).") var out: String
        @Flag(help: "Replace --out if it exists.") var force = false

        func run() throws {
            let n = try SnapshotService.export(store: try project.openForReading(), name: id, format: format, to: out,
                                               force: force, project: project.directory)
            print("Wrote \(n) rows of \(TerminalText.visible(id)) to \(TerminalText.visible(out)).")
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Recompute a snapshot's content hash and compare it with the recorded one.")
        @OptionGroup var project: ProjectOptions
        @Argument(help: "The snapshot, e.g. v1.") var id: String

        func run() throws {
            let info = try SnapshotService.verify(store: try project.openForReading(), name: id)
            print("\(info.name) verified: \(info.items) rows, hash \(info.hash).")
        }
    }
}

extension SnapshotService.ExportFormat: ExpressibleByArgument {}

struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Report the environment: the database (SQLite, or the PostgreSQL server with its version, pool and round-trip time), the BLAS library and kernel, threads, and the GEMM rate.",
        discussion: "Exits 1 when the project's PostgreSQL database cannot be reached (after printing the rest).")
    @OptionGroup var project: ProjectOptions
    @Option(help: "Matrix size for the sgemm measurement.") var gemmSize = 1024
    @OptionGroup var output: FormatOptions

    func run() throws {
        let r = DoctorService.run(projectDirectory: project.directory, gemmSize: gemmSize)
        output.emit(r.json) {
            var database = ""
            if let pg = r.postgres, let rtt = r.roundTrip {
                database = """
                database: PostgreSQL \(pg.serverVersion) at \(pg.url)\(pg.tls ? " (TLS)" : "")
                pool:     \(pg.poolOpen) of at most \(pg.poolLimit) connections open here · server: \(pg.serverConnections) of \(pg.serverMaxConnections) connections
                rtt:      \(fmt(rtt.p50, 3)) ms median, \(fmt(rtt.max, 3)) ms max over \(pg.roundTripMillis.count) round trips (SELECT 1)

                """
            } else if let error = r.databaseError {
                database = "database: unreachable: \(error)\n"
            }
            return database + """
            SQLite:  \(r.sqliteVersion ?? "unknown")
            BLAS:    \(r.blas.library)
            kernel:  \(r.blas.kernel ?? "unknown")\(r.blas.coreTypeOverride.map { " (OPENBLAS_CORETYPE=\($0), set by \(r.blas.coreTypeChosenBy ?? "?"))" } ?? " (chosen by OpenBLAS)")
            CPU:     \(r.cpu) · best kernel it supports: \(r.bestCoreType ?? "OpenBLAS default")
            threads: \(r.blas.threads.map(String.init) ?? "unknown")
            sgemm:   \(fmt(r.gemmGFLOPS, 1)) GFLOP/s at \(r.gemmSize)×\(r.gemmSize)
            """
        }
        if let error = r.databaseError {
            throw QuorumError(.environment, "the project's database: \(error)")
        }
    }
}

extension Classifier.CalibrationScheme: ExpressibleByArgument {}

/// `train --features`.
enum TextFeatures: String, ExpressibleByArgument, CaseIterable {
    case words
    case wordsAndPairs = "words+pairs"
    case wordsAndPairsAll = "words+pairs-all"

    /// The cross-validated candidates of a table with 100 texts or more (`ModelSelection.featureCandidates`).
    var settings: FeaturizerSettings {
        FeaturizerSettings(maxNGram: self == .words ? 1 : 2, sublinearTF: true, minDocumentFrequency: self == .wordsAndPairsAll ? 1 : 2)
    }
}
extension Resampling: ExpressibleByArgument {}
