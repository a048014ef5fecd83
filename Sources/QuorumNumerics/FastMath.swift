/// Fast, vectorisable elementary functions for the scoring kernels.
///
/// Quorum is compiled for baseline x86-64 (SSE2), where `Glibc.logf` is a
/// scalar call. Scoring an ensemble needs a logarithm per probability, so this
/// file provides a branch-free natural log that stays in SIMD registers.
///
/// Method: write x = 2^e · m with m in [√½, √2) using integer arithmetic on the
/// bit pattern (musl's `logf` reduction: adding 0x3F800000 − 0x3F3504F3 moves
/// the exponent boundary to √½, so no compare or select is needed); then
/// log m = 2·atanh(s) with s = (m − 1)/(m + 1), |s| ≤ 0.1716, and
/// 2·atanh(s) ≈ s · P(s²) with P a degree-2 polynomial fitted (near-minimax on
/// Chebyshev nodes, float32 coefficients) for relative error 1.2e-7 on that
/// interval; log x = e · ln 2 + s · P(s²). With float rounding, the maximum
/// relative error against `Glibc.log`, measured over every 3rd bit pattern of
/// the positive normal floats, is 3.4e-7; the test suite checks a sweep at 1e-6.
///
/// Domain: positive normal floats. Every input gives a finite result, never
/// NaN: log(0) = −127 · ln 2 ≈ −88.03, so `p · log p` is exactly 0 for p = 0;
/// subnormal inputs give values between −88.03 and −87.34 (inaccurate, but
/// `p · log p` is then below 1e-36 in magnitude); negative, infinite and NaN
/// inputs give unspecified finite values.
public enum FastMath {
    /// The natural logarithm of each lane (see the type's documentation).
    ///
    /// - Complexity: O(1): about 14 SSE instructions and one division.
    @inlinable @inline(__always)
    public static func log(_ x: SIMD4<Float>) -> SIMD4<Float> {
        let p0: Float = 2.000000238418579
        let p1: Float = 0.6665222644805908
        let p2: Float = 0.41296371817588806
        let ln2: Float = 0.693147180559945
        let bits = unsafeBitCast(x, to: SIMD4<UInt32>.self) &+ 0x004A_FB0D
        // The shifted exponent field as a float without an int→float
        // conversion: 2^23 + field is exact; subtract 2^23 + 127.
        let e = unsafeBitCast((bits &>> 23) | 0x4B00_0000, to: SIMD4<Float>.self) - (8_388_608 + 127)
        let m = unsafeBitCast((bits & 0x007F_FFFF) &+ 0x3F35_04F3, to: SIMD4<Float>.self)   // [√½, √2)
        let s = (m - 1) / (m + 1)
        let z = s * s
        let poly = (p2 * z + p1) * z + p0
        return e * ln2 + s * poly
    }

    /// The natural logarithm of each lane: two 4-lane halves.
    ///
    /// - Complexity: O(1).
    @inlinable @inline(__always)
    public static func log(_ x: SIMD8<Float>) -> SIMD8<Float> {
        SIMD8(lowHalf: log(x.lowHalf), highHalf: log(x.highHalf))
    }

    /// The natural logarithm of each lane: two 8-lane halves.
    ///
    /// - Complexity: O(1).
    @inlinable @inline(__always)
    public static func log(_ x: SIMD16<Float>) -> SIMD16<Float> {
        SIMD16(lowHalf: log(x.lowHalf), highHalf: log(x.highHalf))
    }

    /// The natural logarithm of one value, with the same formula and domain as
    /// the SIMD versions (they agree bit for bit).
    ///
    /// - Complexity: O(1).
    @inlinable @inline(__always)
    public static func log(_ x: Float) -> Float {
        let p0: Float = 2.000000238418579
        let p1: Float = 0.6665222644805908
        let p2: Float = 0.41296371817588806
        let ln2: Float = 0.693147180559945
        let bits = x.bitPattern &+ 0x004A_FB0D
        let e = Float(bitPattern: (bits >> 23) | 0x4B00_0000) - (8_388_608 + 127)
        let m = Float(bitPattern: (bits & 0x007F_FFFF) &+ 0x3F35_04F3)
        let s = (m - 1) / (m + 1)
        let z = s * s
        let poly = (p2 * z + p1) * z + p0
        return e * ln2 + s * poly
    }

    /// e^x for each lane, for the softmax in model training and scoring.
    ///
    /// Method (Cephes `expf`): n = round(x / ln 2), r = x − n·ln 2 in two
    /// parts (Cody–Waite), e^r by a degree-7 polynomial, and 2^n built in
    /// the exponent bits. Relative error about 2e-7 for x in [−87, 88];
    /// inputs below −87 are treated as −87 (e^−87 ≈ 1.6e-38, which a softmax
    /// row sum absorbs), inputs above 88 as 88.
    ///
    /// - Complexity: O(1): about 20 SSE instructions, no division.
    @inlinable @inline(__always)
    public static func exp(_ v: SIMD4<Float>) -> SIMD4<Float> {
        var x = v.replacing(with: -87, where: v .< -87)
        x = x.replacing(with: 88, where: x .> 88)
        let magic: Float = 12_582_912  // 1.5 · 2^23: adding it rounds to an integer, kept in the low bits
        let shifted = x * 1.442_695_04 + magic
        let n = shifted - magic
        let r = x - n * 0.693_359_375 - n * -2.121_944_4e-4
        var p = 1.987_569_15e-4 * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 0.166_666_655
        p = p * r + 0.500_000_012
        p = p * (r * r) + r + 1
        // n as an integer straight from the bits of `shifted` (0x4B40_0000 + n), no conversion.
        let bits = (unsafeBitCast(shifted, to: SIMD4<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        return p * unsafeBitCast(bits, to: SIMD4<Float>.self)
    }

    /// e^x for each lane: two 4-lane halves.
    @inlinable @inline(__always)
    public static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        SIMD8(lowHalf: exp(x.lowHalf), highHalf: exp(x.highHalf))
    }

    /// e^x of one value, with the same formula as the SIMD versions.
    @inlinable @inline(__always)
    public static func exp(_ x: Float) -> Float {
        exp(SIMD4<Float>(repeating: x))[0]
    }

    /// Replaces every value of `buffer` with its exponential.
    ///
    /// - Complexity: O(n), 8 lanes at a time.
    public static func expInPlace(_ buffer: UnsafeMutableBufferPointer<Float>) {
        guard let base = buffer.baseAddress else { return }
        let n = buffer.count
        var i = 0
        while i + 8 <= n {
            let raw = UnsafeMutableRawPointer(base + i)
            raw.storeBytes(of: exp(raw.loadUnaligned(as: SIMD8<Float>.self)), as: SIMD8<Float>.self)
            i += 8
        }
        while i < n {
            base[i] = exp(base[i])
            i += 1
        }
    }
}
