// The sgemm rate through Quorum's BLAS path, with whatever core type this
// process ended up with (Quorum's automatic choice, or the caller's
// OPENBLAS_CORETYPE, which prepareEnvironment respects).
import QuorumNumerics

enum GEMMBench {
    static func run(_ options: BenchOptions) throws -> JSONOut {
        let n = try options.int("n", default: 2048)
        let repeats = try options.int("repeats", default: 5)
        let load = loadAverage()
        let t0 = now()
        let gflops = BLASRuntime.measureGEMM(n: n, repeats: repeats)
        let wall = now() - t0
        return .object([
            ("benchmark", .string("gemm")), ("path", .string("BLASRuntime.measureGEMM (sgemm, best of repeats after 1 warm-up)")),
            ("n", .int(n)), ("repeats", .int(repeats)), ("gflops", .double(gflops)),
            ("seconds_total", .double(wall)), ("load_average_1m", .double(load)),
        ] + blasFields())
    }
}
