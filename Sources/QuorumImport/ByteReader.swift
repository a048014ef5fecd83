// Low-level byte plumbing: a chunked file reader, a growable byte buffer and
// a UTF-8 validator. Everything here works on raw pointers; the owners free
// the memory explicitly (see `ItemFileReader.deinit`).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a file in large chunks into one growable buffer and hands out
/// contiguous byte ranges (lines, or larger spans for CSV records).
struct ByteReader {
    private(set) var fd: Int32
    private(set) var buf: UnsafeMutablePointer<UInt8>
    private(set) var capacity: Int
    /// First unconsumed byte in `buf`.
    var start = 0
    /// One past the last valid byte in `buf`.
    private(set) var end = 0
    private(set) var eof = false
    /// Bytes already discarded from the front of the buffer (file offset of `buf[0]`).
    private(set) var discarded = 0

    static let chunkSize = 4 << 20

    /// Opens `path` read-only; returns nil with `errno` set on failure.
    init?(path: String) {
        let fd = open(path, O_RDONLY)
        if fd < 0 { return nil }
        self.fd = fd
        capacity = ByteReader.chunkSize
        buf = .allocate(capacity: capacity)
    }

    /// File offset of the first unconsumed byte.
    var consumed: Int { discarded + start }

    func release() {
        if fd >= 0 { _ = close(fd) }
        buf.deallocate()
    }

    /// Moves unconsumed bytes to the front, grows the buffer if it is full and
    /// reads more. Returns false when no more bytes could be added (end of file).
    /// Offsets into the buffer are invalidated; offsets relative to `start` are kept.
    mutating func refill() -> Bool {
        if eof { return false }
        if start > 0 {
            let live = end - start
            if live > 0 { memmove(buf, buf + start, live) }
            discarded += start
            start = 0
            end = live
        }
        if end == capacity {
            let bigger = capacity * 2
            let nb = UnsafeMutablePointer<UInt8>.allocate(capacity: bigger)
            nb.update(from: buf, count: end)
            buf.deallocate()
            buf = nb
            capacity = bigger
        }
        while true {
            let n = read(fd, buf + end, capacity - end)
            if n > 0 { end += n; return true }
            if n == 0 { eof = true; return false }
            if errno == EINTR { continue }
            eof = true   // treat read errors as end of data
            return false
        }
    }

    /// Skips a UTF-8 byte-order mark at the very start of the file.
    mutating func skipBOM() {
        while end - start < 3 && refill() {}
        if end - start >= 3 && buf[start] == 0xEF && buf[start + 1] == 0xBB && buf[start + 2] == 0xBF {
            start += 3
        }
    }

    /// The next line without its `\n` (a trailing `\r` is kept), or nil at end of file.
    /// The pointer is valid until the next call that reads.
    mutating func nextLine() -> UnsafeBufferPointer<UInt8>? {
        var searched = 0
        while true {
            let avail = end - start - searched
            if avail > 0, let hit = memchr(buf + start + searched, 0x0A, avail) {
                let nl = hit.assumingMemoryBound(to: UInt8.self) - buf
                let line = UnsafeBufferPointer(start: buf + start, count: nl - start)
                start = nl + 1
                return line
            }
            searched = end - start
            if !refill() {
                if start < end {
                    let line = UnsafeBufferPointer(start: buf + start, count: end - start)
                    start = end
                    return line
                }
                return nil
            }
        }
    }
}

/// A growable byte buffer with manual memory management (call `free()`).
struct ByteBuffer {
    var ptr: UnsafeMutablePointer<UInt8>
    var count = 0
    var capacity: Int

    init(capacity: Int = 256) {
        self.capacity = capacity
        ptr = .allocate(capacity: capacity)
    }

    func free() { ptr.deallocate() }

    @inline(__always) mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(count + extra) }
    }

    mutating func grow(_ needed: Int) {
        var c = capacity * 2
        while c < needed { c *= 2 }
        let np = UnsafeMutablePointer<UInt8>.allocate(capacity: c)
        np.update(from: ptr, count: count)
        ptr.deallocate()
        ptr = np
        capacity = c
    }

    @inline(__always) mutating func append(_ b: UInt8) {
        if count == capacity { grow(count + 1) }
        ptr[count] = b
        count += 1
    }

    @inline(__always) mutating func append(_ p: UnsafePointer<UInt8>, _ n: Int) {
        reserve(n)
        (ptr + count).update(from: p, count: n)
        count += n
    }

    mutating func append(_ s: StaticString) {
        append(s.utf8Start, s.utf8CodeUnitCount)
    }

    /// Appends a Unicode scalar value as UTF-8.
    mutating func appendScalar(_ v: UInt32) {
        reserve(4)
        if v < 0x80 {
            ptr[count] = UInt8(v); count += 1
        } else if v < 0x800 {
            ptr[count] = UInt8(0xC0 | (v >> 6)); ptr[count + 1] = UInt8(0x80 | (v & 0x3F)); count += 2
        } else if v < 0x10000 {
            ptr[count] = UInt8(0xE0 | (v >> 12)); ptr[count + 1] = UInt8(0x80 | ((v >> 6) & 0x3F))
            ptr[count + 2] = UInt8(0x80 | (v & 0x3F)); count += 3
        } else {
            ptr[count] = UInt8(0xF0 | (v >> 18)); ptr[count + 1] = UInt8(0x80 | ((v >> 12) & 0x3F))
            ptr[count + 2] = UInt8(0x80 | ((v >> 6) & 0x3F)); ptr[count + 3] = UInt8(0x80 | (v & 0x3F)); count += 4
        }
    }

    func string(from offset: Int = 0) -> String {
        String(decoding: UnsafeBufferPointer(start: ptr + offset, count: count - offset), as: UTF8.self)
    }
}

/// Validates UTF-8 (rejecting overlong forms, surrogates and values above U+10FFFF).
/// - Returns: the offset of the first byte of the first invalid sequence, or nil when valid.
/// - Complexity: O(n), eight ASCII bytes per step on the fast path.
func firstInvalidUTF8(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int? {
    var i = 0
    let raw = UnsafeRawPointer(p)
    while i < n {
        while i + 8 <= n {
            let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            if w & 0x8080_8080_8080_8080 != 0 { break }
            i += 8
        }
        if i >= n { break }
        let b = p[i]
        if b < 0x80 { i += 1; continue }
        let need: Int
        var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
        switch b {
        case 0xC2...0xDF: need = 1
        case 0xE0: need = 2; lo = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: need = 2
        case 0xED: need = 2; hi = 0x9F
        case 0xF0: need = 3; lo = 0x90
        case 0xF1...0xF3: need = 3
        case 0xF4: need = 3; hi = 0x8F
        default: return i
        }
        if i + need >= n { return i }
        let c1 = p[i + 1]
        if c1 < lo || c1 > hi { return i }
        var k = 2
        while k <= need {
            if p[i + k] & 0xC0 != 0x80 { return i }
            k += 1
        }
        i += need + 1
    }
    return nil
}
