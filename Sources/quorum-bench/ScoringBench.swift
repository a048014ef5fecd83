// Ensemble scoring: Ensemble.measures over M × n × k member probabilities,
// with every measure (whole buffer and streamed in chunks) and with the
// `parts` subsets that match numpy's single measures, 1 and 2 threads, against
// the numpy peer experiments/scoring/numpy_peer.py, which writes the input
// file, numpy's timings and numpy's float64 results for the first items.
// Results and figures: experiments/scoring/README.md.
//
//   quorum-bench scoring [--data experiments/data/scoring] [--members 5] [--items 1000000]
//                        [--classes 20] [--repeats 3] [--chunk 16384]
import Foundation
import Glibc
import QuorumNumerics


struct ScoringBenchError: Error, CustomStringConvertible {
    let description: String
}

enum ScoringBench {
    static func run(_ options: BenchOptions) throws -> JSONOut {
        let dir = options.string("data") ?? "experiments/data/scoring"
        let M = try options.int("members", default: 5)
        let n = try options.int("items", default: 1_000_000)
        let k = try options.int("classes", default: 20)
        let repeats = try options.int("repeats", default: 3)
        let chunk = try options.int("chunk", default: 16_384)
        let tag = "M\(M)_n\(n)_k\(k)"
        let probsPath = "\(dir)/probs_\(tag).f32"
        let referencePath = "\(dir)/reference_\(tag).f64"
        let load = loadAverage()

        let probs: [Float] = try readRaw(probsPath, count: M * n * k)
        let columns = 7 + k
        let reference: [Double] = try readRawDoubles(referencePath)
        let sample = reference.count / columns
        guard sample * columns == reference.count, sample <= n else {
            throw ScoringBenchError(description: "\(referencePath): \(reference.count) values is not a multiple of \(columns)")
        }

        var mean = Matrix(rows: n, cols: k)
        var out = EnsembleMeasures(count: n)
        // Swift configurations: every measure (whole buffer, and streamed in
        // chunks through fixed-size outputs), and the subsets that match the
        // numpy measures one by one.
        let configurations: [(name: String, parts: Ensemble.Parts, chunked: Bool)] = [
            ("all", .all, false), ("all_chunked", .all, true),
            ("mean_only", .meanOnly, false), ("votes", .votes, false), ("disagreement", .disagreement, false),
        ]
        var best: [String: Double] = [:]
        probs.withUnsafeBufferPointer { p in
            var chunkMean = Matrix(rows: chunk, cols: k)
            var chunkOut = EnsembleMeasures(count: chunk)
            for threads in [1, 2] {
                for configuration in configurations {
                    let seconds = bestOf(repeats) {
                        if configuration.chunked {
                            var lo = 0
                            while lo < n {
                                let hi = min(n, lo + chunk)
                                Ensemble.measures(members: p, memberCount: M, items: n, classes: k, range: lo..<hi,
                                                  mean: &chunkMean, into: &chunkOut, parts: configuration.parts,
                                                  threads: threads)
                                lo = hi
                            }
                        } else {
                            Ensemble.measures(members: p, memberCount: M, items: n, classes: k,
                                              mean: &mean, into: &out, parts: configuration.parts, threads: threads)
                        }
                    }
                    best["\(configuration.name)_\(threads)t"] = seconds
                }
            }
            // The results checked below come from a final full run.
            Ensemble.measures(members: p, memberCount: M, items: n, classes: k, mean: &mean, into: &out)
        }
        let timings: [(String, JSONOut)] = configurations.flatMap { c in
            [1, 2].map { t in ("\(c.name)_\(t)t", JSONOut.double(best["\(c.name)_\(t)t"]!)) }
        }

        // The check: Swift's results against numpy's float64 results.
        let check = compare(out: out, mean: mean, reference: reference, sample: sample, classes: k)

        // numpy's figures, if the peer has run, and numpy time / Swift time for
        // the Swift configuration that computes (at least) the same measure.
        let swiftFor = ["mean": "mean_only", "predicted+confidence": "mean_only", "margin": "mean_only",
                        "entropy": "mean_only", "vote_entropy": "votes", "mean_kl": "disagreement",
                        "mutual_information": "disagreement", "all_shared": "all"]
        var numpyFields: [(String, JSONOut)] = []
        var ratios: [(String, JSONOut)] = []
        if let data = FileManager.default.contents(atPath: "\(dir)/numpy_times.json"),
           let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
           let times = object["best_seconds"] as? [String: Double] {
            for (name, seconds) in times.sorted(by: { $0.key < $1.key }) {
                numpyFields.append((name, .double(seconds)))
                guard let swiftName = swiftFor[name] else { continue }
                ratios.append((name, .object([("swift_configuration", .string(swiftName)),
                                              ("numpy_over_swift_1_thread", .double(seconds / best["\(swiftName)_1t"]!)),
                                              ("numpy_over_swift_2_threads", .double(seconds / best["\(swiftName)_2t"]!))])))
            }
        }
        return .object([
            ("benchmark", .string("scoring")),
            ("path", .string("Ensemble.measures (one pass; parts: all = mean, predicted, confidence, margin, entropy, vote entropy, mean KL, BALD; mean_only; votes; disagreement), best of repeats after 1 warm-up")),
            ("members", .int(M)), ("items", .int(n)), ("classes", .int(k)), ("repeats", .int(repeats)), ("chunk", .int(chunk)),
            ("swift_best_seconds", .object(timings)),
            ("numpy_best_seconds", .object(numpyFields)),
            ("ratios", .object(ratios)),
            ("check", check),
            ("load_average_1m", .double(load)),
        ])
    }

    /// Best wall time of `repeats` runs after one warm-up run.
    static func bestOf(_ repeats: Int, _ body: () -> Void) -> Double {
        body()
        var best = Double.infinity
        for _ in 0..<repeats {
            let t0 = now()
            body()
            best = min(best, now() - t0)
        }
        return best
    }

    static func compare(out: EnsembleMeasures, mean: Matrix, reference: [Double], sample: Int, classes k: Int) -> JSONOut {
        let columns = 7 + k
        var maxError = [Double](repeating: 0, count: 7)
        var meanError = 0.0
        var labelMismatches = 0
        for i in 0..<sample {
            let row = i * columns
            let swift: [Double] = [Double(out.predicted[i]), Double(out.confidence[i]), Double(out.margin[i]),
                                   Double(out.entropy[i]), Double(out.voteEntropy[i]), Double(out.meanKL[i]),
                                   Double(out.mutualInformation[i])]
            if swift[0] != reference[row] {
                // A label may differ only on a float32 near-tie of the mean.
                labelMismatches += 1
            }
            for j in 1..<7 { maxError[j] = max(maxError[j], abs(swift[j] - reference[row + j])) }
            for c in 0..<k { meanError = max(meanError, abs(Double(mean[i, c]) - reference[row + 7 + c])) }
        }
        let names = ["predicted", "confidence", "margin", "entropy", "vote_entropy", "mean_kl", "mutual_information"]
        let tolerance = 1e-4
        let ok = labelMismatches == 0 && meanError <= 1e-6 && maxError.allSatisfy { $0 <= tolerance }
        var fields: [(String, JSONOut)] = [("items", .int(sample)), ("tolerance", .double(tolerance)),
                                           ("label_mismatches", .int(labelMismatches)), ("mean_max_abs_error", .double(meanError))]
        for j in 1..<7 { fields.append(("\(names[j])_max_abs_error", .double(maxError[j]))) }
        fields.append(("ok", .bool(ok)))
        return .object(fields)
    }

    static func readRaw(_ path: String, count: Int) throws -> [Float] {
        guard let f = fopen(path, "rb") else {
            throw ScoringBenchError(description: "cannot open \(path): run experiments/scoring/numpy_peer.py first")
        }
        defer { fclose(f) }
        var got = 0
        let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            got = fread(buffer.baseAddress, 4, count, f)
            initialized = got
        }
        guard got == count else { throw ScoringBenchError(description: "\(path): read \(got) of \(count) floats") }
        return values
    }

    static func readRawDoubles(_ path: String) throws -> [Double] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ScoringBenchError(description: "cannot read \(path): run experiments/scoring/numpy_peer.py first")
        }
        return data.withUnsafeBytes { raw in
            (0..<(raw.count / 8)).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: Double.self) }
        }
    }
}
