import Foundation
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO
import QuorumCore
import QuorumStore

/// Rows for `COPY table FROM STDIN` in PostgreSQL's text format: tab between
/// columns, a line feed after each row, `\N` for NULL, and backslash escapes
/// for the backslash, tab, line feed and carriage return inside values.
///
/// Bulk loads (imports, `quorum migrate`) send rows this way: the server
/// parses them as a stream, with none of the per-row work of INSERT.
struct CopyRows {
    private(set) var buffer: ByteBuffer
    private(set) var rows = 0
    private var fieldsInRow = 0

    init(capacity: Int = 1 << 20) { buffer = ByteBufferAllocator().buffer(capacity: capacity) }

    var byteCount: Int { buffer.readableBytes }

    mutating func null() { separate(); buffer.writeStaticString("\\N") }

    mutating func integer(_ value: Int64) { separate(); buffer.writeString(String(value)) }

    mutating func real(_ value: Double) {
        separate()
        if value.isNaN { buffer.writeStaticString("NaN") }
        else if value.isInfinite { buffer.writeStaticString(value > 0 ? "Infinity" : "-Infinity") }
        else { buffer.writeString("\(value)") }
    }

    mutating func boolean(_ value: Bool) { separate(); buffer.writeStaticString(value ? "t" : "f") }

    mutating func text(_ value: String) {
        separate()
        var value = value
        value.withUTF8 { bytes in
            var start = 0
            for (i, byte) in bytes.enumerated() {
                let escape: UInt8? = switch byte {
                case UInt8(ascii: "\\"): UInt8(ascii: "\\")
                case UInt8(ascii: "\t"): UInt8(ascii: "t")
                case UInt8(ascii: "\n"): UInt8(ascii: "n")
                case UInt8(ascii: "\r"): UInt8(ascii: "r")
                default: nil
                }
                guard let escape else { continue }
                buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start..<i]))
                buffer.writeBytes([UInt8(ascii: "\\"), escape])
                start = i + 1
            }
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start...]))
        }
    }

    /// A bytea value: `\x` and hex digits (the backslash itself escaped).
    mutating func bytes<C: Collection>(_ value: C) where C.Element == UInt8 {
        separate()
        buffer.writeStaticString("\\\\x")
        let digits = Array("0123456789abcdef".utf8)
        buffer.reserveCapacity(minimumWritableBytes: value.count * 2)
        for byte in value {
            buffer.writeInteger(digits[Int(byte >> 4)])
            buffer.writeInteger(digits[Int(byte & 15)])
        }
    }

    /// A project table's cell (see `TableValue`); `boolean` columns take
    /// SQLite's 0/1 as false/true.
    mutating func value(_ value: TableValue, boolean: Bool) {
        switch value {
        case .null: null()
        case .integer(let n): boolean ? self.boolean(n != 0) : integer(n)
        case .real(let d): real(d)
        case .text(let s): text(s)
        case .blob(let b): bytes(b)
        }
    }

    mutating func endRow() {
        buffer.writeInteger(UInt8(ascii: "\n"))
        rows += 1
        fieldsInRow = 0
    }

    /// Takes the rows so far, leaving this empty.
    mutating func take() -> ByteBuffer {
        defer { buffer = ByteBufferAllocator().buffer(capacity: buffer.capacity); rows = 0; fieldsInRow = 0 }
        return buffer
    }

    private mutating func separate() {
        if fieldsInRow > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
        fieldsInRow += 1
    }
}

extension Link {
    /// Sends `data` (rows from `CopyRows`) with one `COPY table(columns) FROM STDIN`.
    /// `table` and `columns` are Quorum's own names, never user input.
    func copy(into table: String, columns: [String], _ data: ByteBuffer) throws {
        let connection = self.connection
        let logger = self.logger
        let outcome = NIOLockedValueBox<(any Error)?>(nil)
        let done = DispatchSemaphore(value: 0)
        // postgres-nio's COPY is async. The caller blocks until it ends, and may
        // itself be a thread of Swift's cooperative pool (a test, an async
        // caller): the task runs on a dispatch queue of its own, never waiting
        // for a pool thread the callers hold.
        Task(executorPreference: CopyExecutor.shared) {
            do {
                try await connection.copyFrom(table: table, columns: columns, logger: logger) { writer in
                    try await writer.write(data)
                }
            } catch {
                outcome.withLockedValue { $0 = error }
            }
            done.signal()
        }
        done.wait()
        if let error = outcome.withLockedValue({ $0 }) {
            let psql = error as? PSQLError
            failedSQLState = psql?.serverInfo?[.sqlState]
            if psql?.code != .server { healthy = false }
            throw Self.describe(error, url: url, connecting: false)
        }
        completed += 1
    }
}

/// A task executor on a serial dispatch queue of its own, outside Swift's
/// cooperative thread pool (see `Link.copy`).
final class CopyExecutor: TaskExecutor {
    static let shared = CopyExecutor()
    private let queue = DispatchQueue(label: "quorum.postgres.copy")

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
