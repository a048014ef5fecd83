import Testing
@testable import QuorumNumerics

/// Reference values in this file were computed with numpy 2.4 (float64) and
/// are compared with single-precision results at 1e-5 relative tolerance.
@Suite struct BLASTests {
    func close(_ a: [Float], _ b: [Float], tolerance: Float = 1e-5) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
    }

    @Test func gemmMatchesNumpy() {
        // numpy: np.array([[1,2,3],[4,5,6]]) @ np.array([[7,8],[9,10],[11,12]]) = [[58,64],[139,154]]
        let a = Matrix(rows: 2, cols: 3, storage: [1, 2, 3, 4, 5, 6])
        let b = Matrix(rows: 3, cols: 2, storage: [7, 8, 9, 10, 11, 12])
        var c = Matrix(rows: 2, cols: 2)
        BLAS.gemm(a, b, into: &c)
        #expect(c.storage == [58, 64, 139, 154])
    }

    @Test func gemmWithTransposesAndBeta() {
        // numpy: A.T @ A for A = [[1,2,3],[4,5,6]] is [[17,22,27],[22,29,36],[27,36,45]]; plus 1·C with C = I.
        let a = Matrix(rows: 2, cols: 3, storage: [1, 2, 3, 4, 5, 6])
        var c = Matrix(rows: 3, cols: 3, storage: [1, 0, 0, 0, 1, 0, 0, 0, 1])
        BLAS.gemm(a, transposeA: true, a, into: &c, beta: 1)
        #expect(c.storage == [18, 22, 27, 22, 30, 36, 27, 36, 46])
        // A @ A.T = [[14,32],[32,77]]
        var d = Matrix(rows: 2, cols: 2)
        BLAS.gemm(a, a, transposeB: true, into: &d)
        #expect(d.storage == [14, 32, 32, 77])
    }

    @Test func level1Routines() {
        #expect(BLAS.dot([1, 2, 3], [4, 5, 6]) == 32)
        var y: [Float] = [1, 1, 1]
        BLAS.axpy(2, [1, 2, 3], &y)
        #expect(y == [3, 5, 7])
        BLAS.scale(&y, by: 0.5)
        #expect(y == [1.5, 2.5, 3.5])
        #expect(abs(BLAS.norm([3, 4]) - 5) < 1e-6)
    }

    @Test func choleskySolveMatchesNumpy() throws {
        // numpy.linalg.solve([[4,1],[1,3]], [1,2]) = [0.09090909, 0.63636364]
        let a = Matrix(rows: 2, cols: 2, storage: [4, 1, 1, 3])
        let b = Matrix(rows: 2, cols: 1, storage: [1, 2])
        let x = try LAPACK.solveSymmetricPositiveDefinite(a, b)
        #expect(close(x.storage, [0.09090909, 0.63636364]))
    }

    @Test func choleskyRejectsIndefiniteMatrix() {
        let a = Matrix(rows: 2, cols: 2, storage: [1, 2, 2, 1])
        #expect(throws: LAPACK.Failure.notPositiveDefinite(leadingMinor: 2)) {
            try LAPACK.solveSymmetricPositiveDefinite(a, Matrix(rows: 2, cols: 1, storage: [1, 1]))
        }
    }

    @Test func softmaxMatchesNumpy() {
        // numpy: np.exp([1,2,3]) / np.exp([1,2,3]).sum() = [0.09003057, 0.24472847, 0.66524096]
        var m = Matrix(rows: 2, cols: 3, storage: [1, 2, 3, 1001, 1002, 1003])
        Softmax.applyRows(&m)
        #expect(close(Array(m.storage[0..<3]), [0.09003057, 0.24472847, 0.66524096]))
        #expect(close(Array(m.storage[3..<6]), [0.09003057, 0.24472847, 0.66524096]), "stable for large logits")
    }

    @Test func matrixRowsAndArgmax() {
        let m = Matrix(rows: 3, cols: 2, storage: [1, 2, 5, 3, 0, 0])
        #expect(m.rows(at: [2, 0]).storage == [0, 0, 1, 2])
        #expect(m.argmax(row: 0) == 1)
        #expect(m.argmax(row: 1) == 0)
        #expect(m.argmax(row: 2) == 0, "ties go to the first class")
    }

    @Test func gemmRateIsMeasured() {
        #expect(BLASRuntime.measureGEMM(n: 64, repeats: 1) > 0)
    }
}

@Suite struct CoreTypeTests {
    let skylake: Set<String> = ["sse3", "avx", "avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]

    @Test func picksTheBestKernelTheCPUSupports() {
        #expect(OpenBLASCoreType.best(for: CPUFeatures(flags: skylake)) == "SkylakeX")
        #expect(OpenBLASCoreType.best(for: CPUFeatures(flags: skylake.union(["avx512_bf16"]))) == "Cooperlake")
        #expect(OpenBLASCoreType.best(for: CPUFeatures(flags: ["avx", "avx2", "fma"])) == "Haswell")
        #expect(OpenBLASCoreType.best(for: CPUFeatures(flags: ["avx"])) == "Sandybridge")
        #expect(OpenBLASCoreType.best(for: CPUFeatures(flags: ["sse3"])) == nil)
    }

    @Test func neverPicksAKernelWithAMissingInstruction() {
        // AVX-512F alone (no BW/DQ/VL, as on Knights Landing) must not get SkylakeX kernels.
        let partial: Set<String> = ["avx", "avx2", "fma", "avx512f", "avx512cd"]
        #expect(OpenBLASCoreType.best(for: CPUFeatures(flags: partial)) == "Haswell")
        // bf16 without the SkylakeX base must not get Cooperlake.
        #expect(OpenBLASCoreType.best(for: CPUFeatures(flags: ["avx", "avx512_bf16"])) == "Sandybridge")
    }

    @Test func respectsTheUsersChoiceAndDoesNotLoop() {
        let cpu = CPUFeatures(flags: skylake)
        #expect(BLASRuntime.coreTypeToSet(environment: [:], cpu: cpu) == "SkylakeX")
        #expect(BLASRuntime.coreTypeToSet(environment: ["OPENBLAS_CORETYPE": "Prescott"], cpu: cpu) == nil)
        #expect(BLASRuntime.coreTypeToSet(environment: [quorumCoreTypeMarker: "SkylakeX"], cpu: cpu) == nil)
    }

    @Test func readsCPUInfo() throws {
        let path = "/tmp/quorum-cpuinfo-\(UInt32.random(in: 0...UInt32.max))"
        let text = "processor\t: 0\nmodel name\t: Test CPU\nflags\t\t: fpu avx avx2 fma\n"
        #expect(FileManagerLite.write(text, to: path))
        let cpu = CPUFeatures.current(cpuinfoPath: path)
        #expect(cpu.modelName == "Test CPU")
        #expect(cpu.flags == ["fpu", "avx", "avx2", "fma"])
    }

    @Test func seededGeneratorIsRepeatable() {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42), c = SeededGenerator(seed: 43)
        let xs = (0..<5).map { _ in a.next() }
        #expect(xs == (0..<5).map { _ in b.next() })
        #expect(xs != (0..<5).map { _ in c.next() })
    }
}

import Glibc
enum FileManagerLite {
    static func write(_ text: String, to path: String) -> Bool {
        guard let f = fopen(path, "w") else { return false }
        defer { fclose(f) }
        return fputs(text, f) >= 0
    }
}

@Suite struct FastExpTests {
    @Test func expMatchesTheCLibrary() {
        // Relative error against Glibc.exp (double precision) over [-87, 88].
        var worst = 0.0
        var x: Float = -87
        while x <= 88 {
            let got = Double(FastMath.exp(x))
            let want = Glibc.exp(Double(x))
            worst = max(worst, abs(got - want) / want)
            x += 0.0137
        }
        #expect(worst < 5e-7, "worst relative error \(worst)")
        #expect(FastMath.exp(-1000) > 0, "large negative inputs stay finite and positive")
        #expect(FastMath.exp(0) == 1)
    }

    @Test func expInPlaceCoversTheTail() {
        var values: [Float] = (0..<19).map { Float($0) / 4 - 2 }
        values.withUnsafeMutableBufferPointer { FastMath.expInPlace($0) }
        for (i, v) in values.enumerated() {
            let want = Glibc.exp(Double(i) / 4 - 2)
            #expect(abs(Double(v) - want) / want < 5e-7)
        }
    }
}
