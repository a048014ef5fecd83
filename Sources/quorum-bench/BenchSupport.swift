// Shared helpers: options, a monotonic clock, statistics and a tiny JSON writer.
import Glibc
import QuorumCore
import QuorumNumerics

struct BenchUsageError: Error {
    let message: String
}

/// `--name value` pairs after the subcommand.
struct BenchOptions {
    private var values: [String: String] = [:]

    init(_ args: [String]) throws(BenchUsageError) {
        var i = 0
        while i < args.count {
            let arg = args[i]
            guard arg.hasPrefix("--"), arg.count > 2 else { throw BenchUsageError(message: "unexpected argument \"\(arg)\"") }
            guard i + 1 < args.count else { throw BenchUsageError(message: "\(arg) needs a value") }
            values[String(arg.dropFirst(2))] = args[i + 1]
            i += 2
        }
    }

    func string(_ name: String) -> String? { values[name] }

    func required(_ name: String) throws(BenchUsageError) -> String {
        guard let v = values[name] else { throw BenchUsageError(message: "--\(name) is required") }
        return v
    }

    func int(_ name: String, default value: Int) throws(BenchUsageError) -> Int {
        guard let text = values[name] else { return value }
        guard let v = Int(text), v > 0 else { throw BenchUsageError(message: "--\(name) must be a positive integer") }
        return v
    }
}

/// Seconds on the monotonic clock.
func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    guard !s.isEmpty else { return .nan }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// The 1-minute load average, recorded with every figure: this machine is shared.
func loadAverage() -> Double {
    var loads = [Double](repeating: 0, count: 3)
    return getloadavg(&loads, 3) >= 1 ? loads[0] : -1
}

/// What BLAS this process runs with, as JSON fields.
func blasFields() -> [(String, JSONOut)] {
    let info = BLASRuntime.info()
    return [("blas_library", .string(info.library)), ("blas_kernel", .optionalString(info.kernel)),
            ("blas_threads", info.threads.map { .int($0) } ?? .null),
            ("openblas_coretype", .optionalString(info.coreTypeOverride)),
            ("coretype_chosen_by", .optionalString(info.coreTypeChosenBy))]
}

/// Writes to standard error (the global `stderr` is not concurrency-safe in Swift 6).
func printErr(_ message: String) {
    var line = message + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

/// Results are written with Quorum's own deterministic JSON writer.
typealias JSONOut = JSONValue

extension JSONValue {
    static func optionalString(_ s: String?) -> JSONValue { .text(s) }
}

/// A raw little-endian file of `T`s, as the Python peers write them.
func readRaw<T>(_ path: String, as: T.Type, hint: String) throws(BenchUsageError) -> [T] {
    guard let f = fopen(path, "rb") else { throw BenchUsageError(message: "cannot open \(path); \(hint)") }
    defer { fclose(f) }
    fseek(f, 0, SEEK_END)
    let count = ftell(f) / MemoryLayout<T>.size
    fseek(f, 0, SEEK_SET)
    return [T](unsafeUninitializedCapacity: count) { buffer, n in
        n = fread(buffer.baseAddress, MemoryLayout<T>.size, count, f)
    }
}
