// Decimal text → Float conversion: an exact fast path for short plain
// decimals and a strtof fallback for everything else.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@inline(__always)
func powerOfTenFloat(_ k: Int) -> Float {
    switch k {
    case 0: return 1
    case 1: return 1e1
    case 2: return 1e2
    case 3: return 1e3
    case 4: return 1e4
    case 5: return 1e5
    case 6: return 1e6
    case 7: return 1e7
    case 8: return 1e8
    case 9: return 1e9
    default: return 1e10
    }
}

@inline(__always)
func powerOfTenDouble(_ k: Int) -> Double {
    switch k {
    case 0: return 1
    case 1: return 1e1
    case 2: return 1e2
    case 3: return 1e3
    case 4: return 1e4
    case 5: return 1e5
    case 6: return 1e6
    case 7: return 1e7
    case 8: return 1e8
    case 9: return 1e9
    case 10: return 1e10
    case 11: return 1e11
    case 12: return 1e12
    case 13: return 1e13
    case 14: return 1e14
    case 15: return 1e15
    case 16: return 1e16
    case 17: return 1e17
    case 18: return 1e18
    case 19: return 1e19
    case 20: return 1e20
    case 21: return 1e21
    default: return 1e22
    }
}

/// Converts `±mantissa / 10^fractionDigits` when that can be done quickly and
/// (almost always) exactly; nil means "use `strtofToken`".
@inline(__always)
func fastFloat(mantissa m: UInt64, fractionDigits f: Int, negative: Bool) -> Float? {
    var v: Float
    if m <= 1 << 24 && f <= 10 {
        // Both operands exact in Float, so the quotient is correctly rounded.
        v = f == 0 ? Float(m) : Float(m) / powerOfTenFloat(f)
    } else if m <= 1 << 53 && f <= 22 {
        v = Float(f == 0 ? Double(m) : Double(m) / powerOfTenDouble(f))
    } else {
        return nil
    }
    if negative { v = -v }
    return v
}

/// Runs strtof over exactly `n` bytes at `p`. Returns nil unless the whole token was consumed.
/// The result may be infinite when the value overflows Float.
func strtofToken(_ p: UnsafePointer<UInt8>, _ n: Int) -> Float? {
    if n == 0 { return nil }
    return withUnsafeTemporaryAllocation(of: CChar.self, capacity: n + 1) { tmp -> Float? in
        let base = tmp.baseAddress!
        UnsafeMutableRawPointer(base).copyMemory(from: p, byteCount: n)
        base[n] = 0
        var endPtr: UnsafeMutablePointer<CChar>? = nil
        let v = strtof(base, &endPtr)
        guard let e = endPtr, e - base == n else { return nil }
        return v
    }
}

/// What a lenient (CSV) numeric cell turned out to be.
enum CellNumber {
    case value(Float)
    case nan
    case infinite
    case overflow
    case invalid
}

@inline(__always) func isSpaceOrTab(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }

/// Parses one numeric cell: surrounding blanks allowed, `+`/`-` sign, `.5`, `5.`,
/// exponents; recognises nan/inf/infinity in any case.
func parseLenientFloat(_ p: UnsafePointer<UInt8>, _ count: Int) -> CellNumber {
    var s = 0, e = count
    while s < e && isSpaceOrTab(p[s]) { s += 1 }
    while e > s && isSpaceOrTab(p[e - 1]) { e -= 1 }
    if s == e { return .invalid }
    // Fast path: [sign] digits [. digits]
    var i = s
    var negative = false
    if p[i] == 0x2D || p[i] == 0x2B { negative = p[i] == 0x2D; i += 1 }
    var m: UInt64 = 0
    var digits = 0, frac = 0
    var sawDot = false
    var simple = true
    while i < e {
        let b = p[i]
        if b >= 0x30 && b <= 0x39 {
            if digits < 19 { m = m &* 10 &+ UInt64(b &- 0x30); digits += 1; if sawDot { frac += 1 } }
            else { simple = false; break }
        } else if b == 0x2E && !sawDot {
            sawDot = true
        } else {
            simple = false; break
        }
        i += 1
    }
    if simple && digits > 0, let v = fastFloat(mantissa: m, fractionDigits: frac, negative: negative) {
        return .value(v)
    }
    // Named non-finite values.
    var w = s
    if p[w] == 0x2D || p[w] == 0x2B { w += 1 }
    var word: [UInt8] = []
    var k = w
    while k < e && k - w < 9 { word.append(p[k] | 0x20); k += 1 }
    if k == e {
        if word == Array("nan".utf8) { return .nan }
        if word == Array("inf".utf8) || word == Array("infinity".utf8) { return .infinite }
    }
    // Reject anything strtof would accept beyond plain decimal notation (hex, nan(...)).
    for j in s..<e {
        let b = p[j] | 0x20
        if b == 0x78 || b == 0x6E || b == 0x69 { return .invalid }   // x, n, i
    }
    guard let v = strtofToken(p + s, e - s) else { return .invalid }
    return v.isFinite ? .value(v) : .overflow
}
