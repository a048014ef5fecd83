import Foundation
import Glibc

/// Where a project store reads the time: once per transaction (see
/// `StoreReader.now`), so every record one operation writes carries the same
/// instant as the leases it checks. Tests fix it with `fixed`.
public struct Clock: Sendable {
    private let read: @Sendable () -> Double

    /// A clock reading `read()` (seconds since 1970).
    public init(_ read: @escaping @Sendable () -> Double) { self.read = read }

    /// The wall clock (`CLOCK_REALTIME`).
    public static let system = Clock {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// A clock that always reads `seconds` since 1970.
    public static func fixed(_ seconds: Double) -> Clock { Clock { seconds } }

    /// Seconds since 1970.
    public func now() -> Double { read() }
}

/// Timestamps as Quorum records them: UTC, ISO 8601, to the millisecond.
public enum Timestamp {
    /// The current time by the system clock, e.g. `2026-11-22T02:37:25.930Z`.
    public static func now() -> String { format(Clock.system.now()) }

    /// `seconds` since 1970 as a timestamp. Formatted by hand: a Foundation
    /// formatter costs ~0.13 ms per call here, and every answer takes two.
    public static func format(_ seconds: Double) -> String {
        let whole = seconds.rounded(.down)
        var wholeSeconds = time_t(whole)
        let milliseconds = Int32(min(999, ((seconds - whole) * 1000).rounded(.down)))
        var t = tm()
        gmtime_r(&wholeSeconds, &t)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
        }
        return "\(pad(t.tm_year + 1900, 4))-\(pad(t.tm_mon + 1, 2))-\(pad(t.tm_mday, 2))T"
            + "\(pad(t.tm_hour, 2)):\(pad(t.tm_min, 2)):\(pad(t.tm_sec, 2)).\(pad(milliseconds, 3))Z"
    }
}

extension Timestamp {
    /// Seconds since 1970 of a timestamp written by `format` (or any
    /// `YYYY-MM-DDTHH:MM:SS[.fff]Z`); nil for anything else.
    public static func seconds(_ text: String) -> Double? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.last == UInt8(ascii: "Z") else { return nil }
        func number(_ from: Int, _ count: Int) -> Int32? {
            var v: Int32 = 0
            for b in bytes[from..<(from + count)] {
                guard b >= 48, b <= 57 else { return nil }
                v = v * 10 + Int32(b - 48)
            }
            return v
        }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
              let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2) else { return nil }
        var t = tm()
        t.tm_year = year - 1900; t.tm_mon = month - 1; t.tm_mday = day
        t.tm_hour = hour; t.tm_min = minute; t.tm_sec = second
        var fraction = 0.0
        if bytes.count > 21, bytes[19] == UInt8(ascii: "."), let digits = number(20, bytes.count - 21) {
            fraction = Double(digits) / pow(10, Double(bytes.count - 21))
        }
        return Double(timegm(&t)) + fraction
    }
}

/// Seconds on the monotonic clock, for durations and rates.
public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Lower-case hexadecimal for a digest's bytes.
@inlinable
public func hexString<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(64)
    for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
    return String(decoding: out, as: UTF8.self)
}
