import QuorumCore
import QuorumNumerics
import QuorumPostgres
import QuorumStore

/// `quorum doctor`: what Quorum runs on, and how fast.
public enum DoctorService {
    public struct Report: Sendable {
        public var sqliteVersion: String?
        public var blas: BLASRuntimeInfo
        public var cpu: String
        public var bestCoreType: String?
        public var gemmGFLOPS: Double
        public var gemmSize: Int
        /// The project's PostgreSQL server, when the project lives in one.
        public var postgres: PostgresStore.Diagnosis?
        /// Why the project's database could not be reached or opened, if so.
        public var databaseError: String?

        /// The median and largest round trip to PostgreSQL, in milliseconds.
        public var roundTrip: (p50: Double, max: Double)? {
            guard let times = postgres?.roundTripMillis.sorted(), !times.isEmpty else { return nil }
            return (times[times.count / 2], times[times.count - 1])
        }

        public var json: JSONValue {
            var database: [(String, JSONValue)] = [("backend", .string(postgres == nil && databaseError == nil ? "sqlite" : "postgresql"))]
            if let postgres {
                database += [
                    ("url", .string(postgres.url)), ("server_version", .string(postgres.serverVersion)), ("tls", .bool(postgres.tls)),
                    ("pool_limit", .int(postgres.poolLimit)), ("pool_open", .int(postgres.poolOpen)),
                    ("server_max_connections", .int(postgres.serverMaxConnections)), ("server_connections", .int(postgres.serverConnections)),
                    ("rtt_ms_p50", .double(((roundTrip?.p50 ?? 0) * 1000).rounded() / 1000)),
                    ("rtt_ms_max", .double(((roundTrip?.max ?? 0) * 1000).rounded() / 1000)),
                    ("rtt_samples", .int(postgres.roundTripMillis.count)),
                ]
            }
            if let databaseError { database.append(("error", .string(databaseError))) }
            return .object([
                ("database", .object(database)),
                ("sqlite_version", .text(sqliteVersion)), ("blas_library", .string(blas.library)),
                ("blas_kernel", .text(blas.kernel)), ("blas_threads", .number(blas.threads)),
                ("openblas_coretype", .text(blas.coreTypeOverride)), ("coretype_chosen_by", .text(blas.coreTypeChosenBy)),
                ("cpu", .string(cpu)), ("best_coretype_for_cpu", .text(bestCoreType)),
                ("sgemm_size", .int(gemmSize)), ("sgemm_gflops", .double((gemmGFLOPS * 10).rounded() / 10)),
            ])
        }
    }

    /// - Complexity: one GEMM of `gemmSize`³, and for a PostgreSQL project about 25 round trips.
    public static func run(projectDirectory: String?, gemmSize: Int = 1024) -> Report {
        var sqlite: String? = SQLiteStore.libraryVersion
        var postgres: PostgresStore.Diagnosis?
        var databaseError: String?
        if let projectDirectory {
            do {
                switch try Project.location(projectDirectory) {
                case .sqlite:
                    if let version = try? SQLiteStore.open(project: projectDirectory, readOnly: true).sqliteVersion() { sqlite = version }
                case .postgres(let url):
                    let store = try PostgresStore.open(url: url, readOnly: true)
                    defer { store.close() }
                    postgres = try store.diagnose()
                }
            } catch {
                databaseError = "\(error)"
            }
        }
        let cpu = CPUFeatures.current()
        return Report(sqliteVersion: sqlite, blas: BLASRuntime.info(), cpu: cpu.modelName,
                      bestCoreType: OpenBLASCoreType.best(for: cpu),
                      gemmGFLOPS: BLASRuntime.measureGEMM(n: gemmSize), gemmSize: gemmSize,
                      postgres: postgres, databaseError: databaseError)
    }
}
