import Foundation
import Testing

@Suite struct DoctorTests {
    @Test func reportsSQLiteBLASAndAGEMMRate() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        let r = try cli.json(["doctor", "--gemm-size", "256"])
        #expect((r["sqlite_version"] as? String)?.hasPrefix("3.") == true)
        #expect((r["blas_library"] as? String)?.isEmpty == false)
        #expect((r["sgemm_gflops"] as? Double ?? 0) > 0)
    }
}
