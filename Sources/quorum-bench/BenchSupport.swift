// Shared helpers: options, a monotonic clock, statistics and a tiny JSON writer.
import Glibc
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

/// Just enough JSON for one result object per run.
indirect enum JSONOut {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONOut])
    case object([(String, JSONOut)])

    static func optionalString(_ s: String?) -> JSONOut { s.map { .string($0) } ?? .null }

    func serialized() -> String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return d.isFinite ? String(d) : "null"
        case .string(let s): return JSONOut.quote(s)
        case .array(let a): return "[" + a.map { $0.serialized() }.joined(separator: ",") + "]"
        case .object(let o): return "{" + o.map { JSONOut.quote($0.0) + ":" + $0.1.serialized() }.joined(separator: ",") + "}"
        }
    }

    private static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
