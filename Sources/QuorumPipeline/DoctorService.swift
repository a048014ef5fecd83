import QuorumCore
import QuorumNumerics
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

        public var json: JSONValue {
            .object([
                ("sqlite_version", .text(sqliteVersion)), ("blas_library", .string(blas.library)),
                ("blas_kernel", .text(blas.kernel)), ("blas_threads", .number(blas.threads)),
                ("openblas_coretype", .text(blas.coreTypeOverride)), ("coretype_chosen_by", .text(blas.coreTypeChosenBy)),
                ("cpu", .string(cpu)), ("best_coretype_for_cpu", .text(bestCoreType)),
                ("sgemm_size", .int(gemmSize)), ("sgemm_gflops", .double((gemmGFLOPS * 10).rounded() / 10)),
            ])
        }
    }

    public static func run(projectDirectory: String?, gemmSize: Int = 1024) -> Report {
        let sqlite = projectDirectory.flatMap { try? SQLiteStore.open(project: $0, readOnly: true).sqliteVersion() } ?? SQLiteStore.libraryVersion
        let cpu = CPUFeatures.current()
        return Report(sqliteVersion: sqlite, blas: BLASRuntime.info(), cpu: cpu.modelName,
                      bestCoreType: OpenBLASCoreType.best(for: cpu),
                      gemmGFLOPS: BLASRuntime.measureGEMM(n: gemmSize), gemmSize: gemmSize)
    }
}
