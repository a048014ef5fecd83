// Dawid–Skene: DawidSkene.aggregate on 100,000 items × 5 answers from 50 simulated
// annotators (k = 5), against crowd-kit's DawidSkene on the same data
// (experiments/consensus/gen_data.py writes it, crowdkit_peer.py times crowd-kit).
//
//   quorum-bench dawid-skene [--data experiments/data/consensus] [--repeats 3]
import QuorumConsensus

enum DawidSkeneBench {
    static func run(_ options: BenchOptions) throws(BenchUsageError) -> JSONOut {
        let dir = options.string("data") ?? "experiments/data/consensus"
        let repeats = try options.int("repeats", default: 3)
        let hint = "run experiments/consensus/gen_data.py"
        let task = try readRaw("\(dir)/task.i32", as: Int32.self, hint: hint)
        let worker = try readRaw("\(dir)/worker.i32", as: Int32.self, hint: hint)
        let given = try readRaw("\(dir)/label.i32", as: Int32.self, hint: hint)
        let truth = try readRaw("\(dir)/truth.i32", as: Int32.self, hint: hint)
        guard !task.isEmpty, task.count == worker.count, task.count == given.count else {
            throw BenchUsageError(message: "\(dir): task/worker/label files differ in length; \(hint)")
        }
        let k = Int(given.max()!) + 1
        let labels = (0..<k).map { String($0) }
        let names = (0...Int(worker.max()!)).map { "w\($0)" }
        // The votes as the application holds them (outside the timing, like crowd-kit's DataFrame).
        let votes = (0..<task.count).map {
            Vote(item: Int64(task[$0]), annotator: names[Int(worker[$0])], label: labels[Int(given[$0])])
        }

        // crowd-kit's figures, when crowdkit_peer.py has run: [best s, accuracy, iterations, median s].
        let ckStats = (try? readRaw("\(dir)/crowdkit_stats.f64", as: Double.self, hint: "")) ?? []
        let ckLabels = (try? readRaw("\(dir)/crowdkit_labels.i32", as: Int32.self, hint: "")) ?? []

        let load = loadAverage()
        func classes(_ r: DawidSkene.Result) -> [Int32] {
            var out = [Int32](repeating: -1, count: truth.count)
            for v in r.verdicts { out[Int(v.item)] = Int32(labels.firstIndex(of: v.label!)!) }
            return out
        }
        func accuracy(_ c: [Int32]) -> Double {
            Double(zip(c, truth).filter { $0 == $1 }.count) / Double(truth.count)
        }

        // End to end from [Vote] (encoding + EM + verdicts), the default stopping rule
        // (max |ΔT| < 1e-5, at most 100 iterations).
        var times: [Double] = []
        var result: DawidSkene.Result? = nil
        for _ in 0..<repeats {
            let t0 = now()
            let r: DawidSkene.Result
            do { r = try DawidSkene.aggregate(votes, labels: labels) } catch {
                throw BenchUsageError(message: error.description)
            }
            times.append(now() - t0)
            result = r
        }
        let r = result!

        // The two stages apart: encoding, and EM on the encoded answers.
        var encodeTimes: [Double] = []
        var answers: DawidSkene.Answers? = nil
        for _ in 0..<repeats {
            let t0 = now()
            do { answers = try DawidSkene.Answers(votes, labels: labels) } catch {
                throw BenchUsageError(message: error.description)
            }
            encodeTimes.append(now() - t0)
        }
        var fitTimes: [Double] = []
        for _ in 0..<repeats {
            let t0 = now()
            _ = DawidSkene.aggregate(answers!)
            fitTimes.append(now() - t0)
        }

        // crowd-kit's stopping rule (ELBO gain per answer < 1e-5), end to end from [Vote].
        var sameRuleTimes: [Double] = []
        var sameRule: DawidSkene.Result? = nil
        for _ in 0..<repeats {
            let t0 = now()
            do { sameRule = try DawidSkene.aggregate(votes, labels: labels, convergence: .evidenceGain) } catch {
                throw BenchUsageError(message: error.description)
            }
            sameRuleTimes.append(now() - t0)
        }
        let sameClasses = classes(sameRule!)
        var sameWork: [(String, JSONOut)] = [
            ("elbo_rule_seconds_best", .double(sameRuleTimes.min()!)),
            ("elbo_rule_seconds_all", .array(sameRuleTimes.map { .double($0) })),
            ("elbo_rule_iterations", .int(sameRule!.iterations)),
            ("elbo_rule_accuracy", .double(accuracy(sameClasses))),
        ]
        if ckStats.count >= 3 {
            sameWork.append(("elbo_rule_ratio_crowdkit_over_quorum", .double(ckStats[0] / sameRuleTimes.min()!)))
        }
        if ckLabels.count == truth.count {
            let agree = zip(sameClasses, ckLabels).filter { $0 == $1 }.count
            sameWork.append(("elbo_rule_agreement_with_crowdkit", .double(Double(agree) / Double(truth.count))))
        }

        let ours = classes(r)
        var peer: [(String, JSONOut)] = [("crowdkit_seconds_best", .null)]
        if ckStats.count >= 3 {
            peer = [("crowdkit_seconds_best", .double(ckStats[0])), ("crowdkit_accuracy", .double(ckStats[1])),
                    ("crowdkit_iterations", .int(Int(ckStats[2]))),
                    ("ratio_crowdkit_over_quorum", .double(ckStats[0] / times.min()!))]
        }
        if ckLabels.count == truth.count {
            let agree = zip(ours, ckLabels).filter { $0 == $1 }.count
            peer.append(("agreement_with_crowdkit", .double(Double(agree) / Double(truth.count))))
        }
        return .object([
            ("benchmark", .string("dawid-skene")), ("side", .string("quorum")),
            ("items", .int(truth.count)), ("answers", .int(votes.count)), ("annotators", .int(names.count)),
            ("classes", .int(k)),
            ("seconds_best", .double(times.min()!)), ("seconds_all", .array(times.map { .double($0) })),
            ("encode_seconds_best", .double(encodeTimes.min()!)),
            ("em_seconds_best", .double(fitTimes.min()!)),
            ("iterations", .int(r.iterations)), ("converged", .bool(r.converged)),
            ("last_max_change", .double(r.lastChange)),
            ("accuracy", .double(accuracy(ours))),
        ] + peer + sameWork + [("load_average_1m", .double(load))])
    }
}
