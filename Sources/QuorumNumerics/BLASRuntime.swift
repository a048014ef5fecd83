import Foundation
import Glibc

/// The CPU's vector features, as the kernel reports them in /proc/cpuinfo.
public struct CPUFeatures: Sendable, Equatable {
    public var flags: Set<String>
    public var modelName: String

    public init(flags: Set<String>, modelName: String = "") {
        self.flags = flags
        self.modelName = modelName
    }

    /// Reads the first processor's flags from `/proc/cpuinfo` (Linux).
    public static func current(cpuinfoPath: String = "/proc/cpuinfo") -> CPUFeatures {
        guard let text = readSmallFile(cpuinfoPath) else { return CPUFeatures(flags: []) }
        var flags: Set<String> = []
        var model = ""
        for line in text.split(separator: "\n") {
            if flags.isEmpty, line.hasPrefix("flags") || line.hasPrefix("Features"),
               let colon = line.firstIndex(of: ":") {
                flags = Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
            } else if model.isEmpty, line.hasPrefix("model name"), let colon = line.firstIndex(of: ":") {
                model = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            }
            if !flags.isEmpty && !model.isEmpty { break }
        }
        return CPUFeatures(flags: flags, modelName: model)
    }
}

/// Chooses the OpenBLAS kernel family ("core type") for this CPU.
///
/// Debian's OpenBLAS 0.3.21 does not recognise recent CPUs and falls back to
/// its SSE3 "Prescott" kernels, 4–5× slower than it could be. OpenBLAS reads
/// `OPENBLAS_CORETYPE` once, when it loads, so the `quorum` executable sets it
/// and re-executes itself before any BLAS call (see `BLASRuntime.prepareEnvironment`).
public enum OpenBLASCoreType {
    /// The fastest core type whose every instruction the CPU supports, or nil
    /// when nothing better than OpenBLAS's own choice is known.
    ///
    /// Each rung requires the full instruction set its kernels use, so a
    /// kernel the CPU cannot run is never picked.
    public static func best(for cpu: CPUFeatures) -> String? {
        let f = cpu.flags
        let skylakeX: Set<String> = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl", "avx2", "fma"]
        if skylakeX.isSubset(of: f) {
            return f.contains("avx512_bf16") ? "Cooperlake" : "SkylakeX"
        }
        if ["avx2", "fma", "avx"].allSatisfy(f.contains) { return "Haswell" }
        if f.contains("avx") { return "Sandybridge" }
        return nil
    }
}

/// What the loaded BLAS library says about itself.
public struct BLASRuntimeInfo: Sendable {
    /// e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64", or "reference BLAS".
    public var library: String
    /// The kernel family in use, e.g. "SkylakeX" or "Prescott"; nil when unknown.
    public var kernel: String?
    /// Threads BLAS will use; nil when the library does not say.
    public var threads: Int?
    /// The value of `OPENBLAS_CORETYPE` this process runs with, if any.
    public var coreTypeOverride: String?
    /// Who chose the core type: "user", "quorum" or nil when nobody set it.
    public var coreTypeChosenBy: String?
}

/// The environment variable Quorum sets to remember that it chose the core type.
public let quorumCoreTypeMarker = "QUORUM_BLAS_CORETYPE_AUTO"

public enum BLASRuntime {
    /// Decides whether this process must set `OPENBLAS_CORETYPE` and re-execute
    /// itself. Returns the core type to set, or nil when the environment is
    /// already right: the user set the variable (their value is respected), or
    /// Quorum already set it, or no better kernel is known for this CPU.
    public static func coreTypeToSet(environment: [String: String], cpu: CPUFeatures) -> String? {
        if environment["OPENBLAS_CORETYPE"] != nil { return nil }
        if environment[quorumCoreTypeMarker] != nil { return nil }
        return OpenBLASCoreType.best(for: cpu)
    }

    /// Sets `OPENBLAS_CORETYPE` to the best kernel for this CPU and replaces
    /// the process with a fresh copy of itself, so OpenBLAS loads with it.
    /// Returns normally (doing nothing) when no change is needed or exec fails.
    public static func prepareEnvironment() {
        let env = currentEnvironment()
        guard let core = coreTypeToSet(environment: env, cpu: .current()) else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv(quorumCoreTypeMarker, core, 1)
        let args = CommandLine.arguments
        var cArgs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) }
        cArgs.append(nil)
        execv("/proc/self/exe", &cArgs)
        // exec failed: carry on with the default kernel rather than fail.
        for p in cArgs { free(p) }
    }

    /// Asks the loaded library what it is, through symbols OpenBLAS exports.
    public static func info() -> BLASRuntimeInfo {
        let env = currentEnvironment()
        let handle = dlopen(nil, RTLD_NOW)
        defer { if let handle { dlclose(handle) } }
        typealias StringFn = @convention(c) () -> UnsafePointer<CChar>?
        typealias IntFn = @convention(c) () -> Int32
        var library = "reference BLAS (no OpenBLAS symbols found)"
        var kernel: String?
        var threads: Int?
        if let sym = dlsym(handle, "openblas_get_config") {
            let fn = unsafeBitCast(sym, to: StringFn.self)
            if let s = fn() { library = String(cString: s) }
        }
        if let sym = dlsym(handle, "openblas_get_corename") {
            let fn = unsafeBitCast(sym, to: StringFn.self)
            if let s = fn() { kernel = String(cString: s) }
        }
        if let sym = dlsym(handle, "openblas_get_num_threads") {
            threads = Int(unsafeBitCast(sym, to: IntFn.self)())
        }
        let override = env["OPENBLAS_CORETYPE"]
        let chosenBy: String? = override == nil ? nil : (env[quorumCoreTypeMarker] == override ? "quorum" : "user")
        return BLASRuntimeInfo(library: library, kernel: kernel, threads: threads,
                               coreTypeOverride: override, coreTypeChosenBy: chosenBy)
    }

    /// Measures the sgemm rate on `n × n` matrices, in GFLOP/s (best of `repeats`).
    ///
    /// - Complexity: `repeats` × 2n³ floating-point operations.
    public static func measureGEMM(n: Int = 1024, repeats: Int = 5) -> Double {
        var a = Matrix(rows: n, cols: n)
        var b = Matrix(rows: n, cols: n)
        var rng: UInt32 = 12345
        for i in 0..<(n * n) {
            rng = rng &* 1_664_525 &+ 1_013_904_223
            a.storage[i] = Float(rng >> 8) / Float(1 << 24) - 0.5
            b.storage[i] = Float(rng >> 9) / Float(1 << 23) - 0.5
        }
        var c = Matrix(rows: n, cols: n)
        BLAS.gemm(a, b, into: &c) // warm-up: threads start, pages fault in
        var best = Double.infinity
        for _ in 0..<repeats {
            let t0 = monotonicSeconds()
            BLAS.gemm(a, b, into: &c)
            best = min(best, monotonicSeconds() - t0)
        }
        return 2 * Double(n) * Double(n) * Double(n) / best / 1e9
    }
}

/// Seconds on the monotonic clock.
func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func currentEnvironment() -> [String: String] {
    var env: [String: String] = [:]
    var p = environ
    while let entry = p.pointee {
        let s = String(cString: entry)
        if let eq = s.firstIndex(of: "=") {
            env[String(s[..<eq])] = String(s[s.index(after: eq)...])
        }
        p += 1
    }
    return env
}

func readSmallFile(_ path: String) -> String? {
    guard let f = fopen(path, "r") else { return nil }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&buffer, 1, buffer.count, f)
        if n <= 0 { break }
        bytes.append(contentsOf: buffer[0..<n])
    }
    return String(decoding: bytes, as: UTF8.self)
}
