// k-center greedy speed and memory: Diversity.select(.kCenter) picking 1000 of
// 200,000 × 128 float32 rows, against numpy's incremental k-center greedy on the
// same file (experiments/kcenter/numpy_peer.py, which also writes the data).
//
//   quorum-bench kcenter [--data experiments/data/kcenter] [--d 128] [--k 1000] [--repeats 2]
//                        [--kmeans-repeats 1] [--centers M]
import Glibc
import QuorumNumerics
import QuorumSampling

enum KCenterBench {
    /// A field of /proc/self/status ("VmHWM", "VmRSS"), in MB; nil when unreadable.
    static func procStatusMB(_ field: String) -> Double? {
        guard let f = fopen("/proc/self/status", "r") else { return nil }
        defer { fclose(f) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), f) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard text.hasPrefix(field + ":") else { continue }
            // "VmHWM:	  123456 kB"
            let digits = text.dropFirst(field.count + 1).filter { $0.isNumber }
            return Int(digits).map { Double($0) / 1024 }
        }
        return nil
    }

    static func mb(_ value: Double?) -> JSONOut { value.map { .double(($0 * 10).rounded() / 10) } ?? .null }

    static func run(_ options: BenchOptions) throws(BenchUsageError) -> JSONOut {
        let dir = options.string("data") ?? "experiments/data/kcenter"
        let d = try options.int("d", default: 128)
        let k = try options.int("k", default: 1000)
        let repeats = try options.int("repeats", default: 2)
        let kmeansRepeats = try options.int("kmeans-repeats", default: 1)
        let hwmAtStart = procStatusMB("VmHWM")

        let storage = try readRaw("\(dir)/x.f32", as: Float.self, hint: "run experiments/kcenter/numpy_peer.py")
        guard !storage.isEmpty, storage.count % d == 0 else {
            throw BenchUsageError(message: "\(dir)/x.f32 holds \(storage.count) floats, not a multiple of d = \(d); run experiments/kcenter/numpy_peer.py")
        }
        let n = storage.count / d
        let x = Matrix(rows: n, cols: d, storage: storage)
        let hwmAfterLoad = procStatusMB("VmHWM")

        // k-center greedy: with no centers and no priority the first pick is row 0.
        let load = loadAverage()
        var times: [Double] = []
        var picks: [Int] = []
        for _ in 0..<repeats {
            let t0 = now()
            let p = Diversity.select(.kCenter, candidates: x, count: k, centers: nil, priority: nil)
            times.append(now() - t0)
            if !picks.isEmpty && p != picks { printErr("kcenter: picks differ between repeats") }
            picks = p
        }
        let hwmAfterKCenter = procStatusMB("VmHWM")

        // k-means++ seeding, for information (seeded, so repeatable).
        var kmTimes: [Double] = []
        var kmPicks: [Int] = []
        for _ in 0..<kmeansRepeats {
            let t0 = now()
            kmPicks = Diversity.select(.kMeansPlusPlus, candidates: x, count: k, centers: nil, priority: nil, seed: 1)
            kmTimes.append(now() - t0)
        }
        let hwmAfterKMeans = procStatusMB("VmHWM")

        // Optional, last (VmHWM only grows): k-center against M existing centers, the last M rows
        // of the file, which takes the blocked GEMM path as well as the per-pick GEMVs.
        var withCenters: [(String, JSONOut)] = []
        if let text = options.string("centers") {
            guard let m = Int(text), m > 0, m < n else { throw BenchUsageError(message: "--centers must be in 1..<\(n)") }
            let centers = x.rows(at: Array((n - m)..<n))
            let before = procStatusMB("VmHWM")
            let t0 = now()
            let p = Diversity.select(.kCenter, candidates: x, count: k, centers: centers, priority: nil)
            let seconds = now() - t0
            withCenters = [("centers", .int(m)), ("with_centers_seconds", .double(seconds)),
                           ("with_centers_first_picks", .array(p.prefix(20).map { .int($0) })),
                           ("peak_mb_before_with_centers", mb(before)),
                           ("peak_mb_after_with_centers", mb(procStatusMB("VmHWM")))]
        }

        // Agreement with numpy's picks, when the peer has written them.
        var agreement: [(String, JSONOut)] = [("numpy_picks", .null)]
        if let ref = try? readRaw("\(dir)/numpy_picks.i32", as: Int32.self, hint: ""), !ref.isEmpty {
            let theirs = ref.map(Int.init)
            let m = min(theirs.count, picks.count)
            let samePosition = (0..<m).filter { picks[$0] == theirs[$0] }.count
            let prefix = (0..<m).first { picks[$0] != theirs[$0] } ?? m
            let common = Set(picks).intersection(theirs).count
            agreement = [("numpy_picks", .int(theirs.count)),
                         ("agree_same_position", .int(samePosition)),
                         ("agree_common_prefix", .int(prefix)),
                         ("agree_as_sets", .int(common))]
        }

        let inputBytes = n * d * MemoryLayout<Float>.size
        return .object([
            ("benchmark", .string("kcenter")), ("side", .string("quorum")),
            ("rows", .int(n)), ("features", .int(d)), ("k", .int(k)), ("first", .int(picks.first ?? -1)),
            ("seconds_best", .double(times.min() ?? .nan)),
            ("seconds_all", .array(times.map { .double($0) })),
            ("first_picks", .array(picks.prefix(20).map { .int($0) })),
            ("kmeanspp_seconds_best", .double(kmTimes.min() ?? .nan)),
            ("kmeanspp_first_picks", .array(kmPicks.prefix(20).map { .int($0) })),
            ("input_mb", .double(Double(inputBytes) / 1_048_576)),
            // VmHWM is the process's peak resident set; the kernel syncs per-thread RSS counters
            // lazily, so successive readings can differ by a few hundred kB: report the largest.
            ("peak_mb", mb([hwmAfterLoad, hwmAfterKCenter, hwmAfterKMeans].compactMap { $0 }.max())),
            ("peak_mb_at_start", mb(hwmAtStart)),
            ("peak_mb_after_load", mb(hwmAfterLoad)),
            ("peak_mb_after_kcenter", mb(hwmAfterKCenter)),
            ("peak_mb_after_kmeanspp", mb(hwmAfterKMeans)),
        ] + withCenters + agreement + [
            ("load_average_1m", .double(load)),
        ] + blasFields())
    }
}
