import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import QuorumCore

/// A few PostgreSQL connections used from blocking code.
///
/// The store's protocol is synchronous: the command line's main thread and
/// `quorum serve`'s dispatch threads call it and wait. The pool owns one event
/// loop thread, on which postgres-nio runs every connection; a caller blocks on
/// each query's future (never on the event loop thread itself). At most
/// `limit` connections exist; each is opened when first needed and kept for
/// the next caller. A transaction holds its connection until it ends.
final class BlockingPool: @unchecked Sendable {
    let url: PostgresURL
    let limit: Int
    private let group: MultiThreadedEventLoopGroup
    private let configuration: PostgresConnection.Configuration
    private let logger = Logger(label: "quorum.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
    private let lock = NIOLock()
    /// Guarded by `lock`.
    private var idle: [PooledConnection] = []
    private var open = 0
    private var nextID = 1
    private var closed = false
    private let slots: DispatchSemaphore

    /// - Parameters:
    ///   - lockTimeout: how long a statement waits for a lock before failing (`lock_timeout`).
    ///   - readOnly: every transaction is read-only (`default_transaction_read_only`).
    init(url: PostgresURL, limit: Int = 4, lockTimeout: Double, readOnly: Bool) throws {
        self.url = url
        self.limit = limit
        self.slots = DispatchSemaphore(value: limit)
        let tls: PostgresConnection.Configuration.TLS
        switch url.tls {
        case .disable:
            tls = .disable
        case .prefer, .require, .verifyFull:
            var settings = TLSConfiguration.makeClientConfiguration()
            if url.tls != .verifyFull { settings.certificateVerification = .none }
            let context: NIOSSLContext
            do { context = try NIOSSLContext(configuration: settings) } catch {
                throw QuorumError(.environment, "\(url): cannot set up TLS (\(error))", hint: "add ?sslmode=disable to the URL for a server without TLS")
            }
            tls = url.tls == .prefer ? .prefer(context) : .require(context)
        }
        var configuration = PostgresConnection.Configuration(host: url.host, port: url.port, username: url.user,
                                                             password: url.password(), database: url.database, tls: tls)
        configuration.options.additionalStartupParameters = [
            ("application_name", "quorum"),
            ("lock_timeout", String(max(1, Int(lockTimeout * 1000)))),
            ("default_transaction_read_only", readOnly ? "on" : "off"),
            ("client_min_messages", "warning"),
        ]
        self.configuration = configuration
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    deinit { close() }

    /// How many connections are open now (idle or lent out).
    var openConnections: Int { lock.withLock { open } }

    /// Closes every connection and stops the event loop thread (once; later
    /// calls do nothing). Call it when no transaction is running.
    func close() {
        let connections: [PooledConnection]? = lock.withLock {
            guard !closed else { return nil }
            closed = true
            defer { idle = [] }
            return idle
        }
        guard let connections else { return }
        for pooled in connections { try? pooled.connection.close().wait() }
        try? group.syncShutdownGracefully()
    }

    /// Runs `body` on a connection of the pool, waiting for one to be free.
    /// A connection whose `body` reports it broken (or that the server closed)
    /// is closed instead of kept.
    ///
    /// A kept connection can have died meanwhile (the server restarted, or
    /// closed it while idle): when the very first statement finds it broken,
    /// nothing has run yet, and `body` runs once more on a new connection.
    func withConnection<T>(_ body: (Link) throws -> T) throws -> T {
        slots.wait()
        defer { slots.signal() }
        var attempt = 0
        while true {
            attempt += 1
            let link = Link(pooled: try take(), logger: logger, url: url)
            do {
                defer { giveBack(link.pooled, healthy: link.healthy) }
                return try body(link)
            } catch where attempt == 1 && !link.healthy && link.completed == 0 {
                continue
            }
        }
    }

    private func take() throws -> PooledConnection {
        let reused: PooledConnection? = try lock.withLock {
            guard !closed else { throw QuorumError(.state, "\(url): the store is closed") }
            while let pooled = idle.popLast() {
                if !pooled.connection.isClosed { return pooled }
                open -= 1
            }
            open += 1
            return nil
        }
        if let reused { return reused }
        let id = lock.withLock { defer { nextID += 1 }; return nextID }
        do {
            return PooledConnection(try PostgresConnection.connect(on: group.next(), configuration: configuration, id: id, logger: logger).wait())
        } catch {
            lock.withLock { open -= 1 }
            throw Link.describe(error, url: url, connecting: true)
        }
    }

    private func giveBack(_ pooled: PooledConnection, healthy: Bool) {
        let keep = lock.withLock {
            if healthy && !closed && !pooled.connection.isClosed { idle.append(pooled); return true }
            open -= 1
            return false
        }
        if !keep { try? pooled.connection.close().wait() }
    }
}

/// A connection of the pool, and the statements prepared on it so far (see
/// `Link.query(_:_:prepared:)`). Used by one caller at a time.
final class PooledConnection {
    let connection: PostgresConnection
    /// Named server-side prepared statements, by their SQL text.
    var statements: [String: PreparedQuery] = [:]

    init(_ connection: PostgresConnection) { self.connection = connection }
}

/// One connection lent to one caller: runs statements and waits for their results.
final class Link {
    let pooled: PooledConnection
    var connection: PostgresConnection { pooled.connection }
    let logger: Logger
    let url: PostgresURL
    /// False once the connection failed in a way that leaves it unusable.
    var healthy = true
    /// How many statements have completed on this link.
    var completed = 0
    /// The SQLSTATE of the last statement the server refused (e.g. `55P03`, a lock wait that timed out).
    var failedSQLState: String?

    init(pooled: PooledConnection, logger: Logger, url: PostgresURL) {
        self.pooled = pooled
        self.logger = logger
        self.url = url
    }

    /// Runs one statement with `$1`, `$2`, … bound to `arguments`, and returns its rows.
    @discardableResult
    func query(_ sql: String, _ arguments: [any SQLBindable] = []) throws -> SQLResult {
        var binds = PostgresBindings(capacity: arguments.count)
        for argument in arguments { argument.bind(into: &binds) }
        return try run(PostgresQuery(unsafeSQL: sql, binds: binds))
    }

    /// The most statements a connection keeps prepared (the hot ones are a few dozen).
    static let preparedLimit = 64

    /// Runs one statement as `query(_:_:)` does, but as a named prepared
    /// statement of this connection: the server parses and plans it once per
    /// connection (PostgreSQL keeps the plan, re-planning when the schema or
    /// statistics change), instead of on every call. For the hot statements
    /// of the labelling loop, whose planning cost more server time than their
    /// execution. The statement's parameter types are inferred by the server
    /// from the SQL, so every `$n` must be typed by its context (a column, a
    /// cast). `affected` is the number of rows returned (not the command tag's count).
    @discardableResult
    func query(_ sql: String, _ arguments: [any SQLBindable], prepared: Bool) throws -> SQLResult {
        guard prepared, pooled.statements[sql] != nil || pooled.statements.count < Self.preparedLimit else {
            return try query(sql, arguments)
        }
        do {
            let statement: PreparedQuery
            if let known = pooled.statements[sql] {
                statement = known
            } else {
                statement = try connection.prepare(query: sql).wait()
                pooled.statements[sql] = statement
            }
            let rows = try statement.execute(arguments.map(\.postgresData)).wait()
            completed += 1
            return SQLResult(rows: rows, affected: rows.count)
        } catch let error as PostgresError {
            // This (older) path of postgres-nio reports a PostgresError, not a PSQLError.
            guard case .server(let info) = error else {
                healthy = false
                throw QuorumError(.environment, "\(url): cannot reach the PostgreSQL server (\(error))",
                                  hint: "check that the server runs and accepts connections from this machine")
            }
            let state = info.fields[.sqlState] ?? "?"
            failedSQLState = state
            throw Self.serverError(url: url, message: info.fields[.message] ?? "\(info)", detail: info.fields[.detail], state: state)
        } catch {
            let psql = error as? PSQLError
            failedSQLState = psql?.serverInfo?[.sqlState]
            if psql?.code != .server { healthy = false }
            throw Self.describe(error, url: url, connecting: false)
        }
    }

    func run(_ query: PostgresQuery) throws -> SQLResult {
        do {
            let result = try connection.query(query, logger: logger).wait()
            completed += 1
            return SQLResult(rows: result.rows, affected: result.metadata.rows ?? 0)
        } catch {
            let psql = error as? PSQLError
            failedSQLState = psql?.serverInfo?[.sqlState]
            if psql?.code != .server { healthy = false }
            throw Self.describe(error, url: url, connecting: false)
        }
    }

    /// A statement the server refused, as a person reads it.
    static func serverError(url: PostgresURL, message: String, detail: String?, state: String) -> QuorumError {
        var text = message
        if let detail { text += " (\(detail))" }
        let hint: String? = switch state {
        case "28P01", "28000": "set PGPASSWORD or add the password to ~/.pgpass"
        case "3D000": "create the database first (createdb), then try again"
        default: nil
        }
        return QuorumError(.state, "\(url): \(text) [SQLSTATE \(state)]", hint: hint)
    }

    /// A failure as a person reads it: the server's message, or why the server could not be reached.
    static func describe(_ error: any Error, url: PostgresURL, connecting: Bool) -> any Error {
        if error is QuorumError { return error }
        guard let psql = error as? PSQLError else {
            return QuorumError(.environment, "\(url): \(error)")
        }
        if let info = psql.serverInfo, let message = info[.message] {
            return serverError(url: url, message: message, detail: info[.detail], state: info[.sqlState] ?? "?")
        }
        switch psql.code {
        case .connectionError, .serverClosedConnection, .uncleanShutdown:
            let cause = psql.underlying.map { " (\($0))" } ?? ""
            return QuorumError(.environment, "\(url): cannot \(connecting ? "connect to" : "reach") the PostgreSQL server\(cause)",
                               hint: "check that the server runs and accepts connections from this machine")
        case .authMechanismRequiresPassword:
            return QuorumError(.environment, "\(url): the server wants a password", hint: "set PGPASSWORD or add the password to ~/.pgpass")
        case .sslUnsupported:
            return QuorumError(.environment, "\(url): the server does not offer TLS", hint: "add ?sslmode=disable or ?sslmode=prefer to the URL")
        default:
            return QuorumError(.environment, "\(url): \(psql.code)")
        }
    }
}

/// The rows of one statement, and how many rows it changed.
struct SQLResult {
    var rows: [PostgresRow]
    var affected: Int

    var first: SQLRow? { rows.first.map { SQLRow($0, columns: SQLColumns($0)) } }
    var all: [SQLRow] {
        guard let head = rows.first else { return [] }
        let columns = SQLColumns(head)
        return rows.map { SQLRow($0, columns: columns) }
    }
}

/// A result's column names and types, found once for all its rows.
final class SQLColumns {
    let index: [String: Int]
    let types: [PostgresDataType]

    init(_ row: PostgresRow) {
        var index: [String: Int] = [:]
        var types: [PostgresDataType] = []
        for (i, cell) in row.enumerated() {
            if index[cell.columnName] == nil { index[cell.columnName] = i }
            types.append(cell.dataType)
        }
        self.index = index
        self.types = types
    }
}

/// One row, read by column name or position. Values are decoded from
/// PostgreSQL's binary format by `SQLDecodable`, for the few types the schema uses.
struct SQLRow {
    let cells: [ByteBuffer?]
    let columns: SQLColumns

    init(_ row: PostgresRow, columns: SQLColumns) {
        self.cells = row.map(\.bytes)
        self.columns = columns
    }

    subscript<T: SQLDecodable>(_ column: String, as type: T.Type = T.self) -> T {
        get throws {
            guard let i = columns.index[column] else { throw SQLDecodingError(column: column, problem: "no such column") }
            return try self[i, as: T.self]
        }
    }

    subscript<T: SQLDecodable>(_ index: Int, as type: T.Type = T.self) -> T {
        get throws {
            do { return try T.decode(cells[index], type: columns.types[index]) } catch let problem as SQLDecodingError.Problem {
                throw SQLDecodingError(column: "\(index)", problem: "\(problem.text) (type \(columns.types[index]))")
            }
        }
    }
}

struct SQLDecodingError: Error, CustomStringConvertible {
    struct Problem: Error { let text: String }
    let column: String
    let problem: String
    var description: String { "PostgreSQL result column \(column): \(problem)" }
}

/// A Swift value read from one binary-format cell.
protocol SQLDecodable {
    static func decode(_ bytes: ByteBuffer?, type: PostgresDataType) throws -> Self
}

extension SQLDecodable {
    static func present(_ bytes: ByteBuffer?) throws -> ByteBuffer {
        guard let bytes else { throw SQLDecodingError.Problem(text: "NULL where a value is required") }
        return bytes
    }
}

extension Int64: SQLDecodable {
    static func decode(_ bytes: ByteBuffer?, type: PostgresDataType) throws -> Int64 {
        let buffer = try present(bytes)
        switch (type, buffer.readableBytes) {
        case (.int8, 8): return buffer.getInteger(at: buffer.readerIndex, as: Int64.self)!
        case (.int4, 4): return Int64(buffer.getInteger(at: buffer.readerIndex, as: Int32.self)!)
        case (.int2, 2): return Int64(buffer.getInteger(at: buffer.readerIndex, as: Int16.self)!)
        default: throw SQLDecodingError.Problem(text: "not an integer")
        }
    }
}

extension Int: SQLDecodable {
    static func decode(_ bytes: ByteBuffer?, type: PostgresDataType) throws -> Int { Int(try Int64.decode(bytes, type: type)) }
}

extension Double: SQLDecodable {
    static func decode(_ bytes: ByteBuffer?, type: PostgresDataType) throws -> Double {
        let buffer = try present(bytes)
        switch (type, buffer.readableBytes) {
        case (.float8, 8): return Double(bitPattern: buffer.getInteger(at: buffer.readerIndex, as: UInt64.self)!)
        case (.float4, 4): return Double(Float(bitPattern: buffer.getInteger(at: buffer.readerIndex, as: UInt32.self)!))
        default: return Double(try Int64.decode(bytes, type: type))
        }
    }
}

extension Bool: SQLDecodable {
    static func decode(_ bytes: ByteBuffer?, type: PostgresDataType) throws -> Bool {
        let buffer = try present(bytes)
        guard type == .bool, buffer.readableBytes == 1 else { throw SQLDecodingError.Problem(text: "not a boolean") }
        return buffer.getInteger(at: buffer.readerIndex, as: UInt8.self)! != 0
    }
}

extension String: SQLDecodable {
    static func decode(_ bytes: ByteBuffer?, type: PostgresDataType) throws -> String {
        let buffer = try present(bytes)
        guard type == .text || type == .varchar || type == .name || type == .bpchar else {
            throw SQLDecodingError.Problem(text: "not text")
        }
        return buffer.getString(at: buffer.readerIndex, length: buffer.readableBytes) ?? ""
    }
}

extension Data: SQLDecodable {
    static func decode(_ bytes: ByteBuffer?, type: PostgresDataType) throws -> Data {
        let buffer = try present(bytes)
        guard type == .bytea else { throw SQLDecodingError.Problem(text: "not bytes") }
        return Data(buffer.readableBytesView)
    }
}

extension Optional: SQLDecodable where Wrapped: SQLDecodable {
    static func decode(_ bytes: ByteBuffer?, type: PostgresDataType) throws -> Wrapped? {
        guard bytes != nil else { return nil }
        return try Wrapped.decode(bytes, type: type)
    }
}

/// A value bound to a statement's `$n`.
protocol SQLBindable {
    func bind(into binds: inout PostgresBindings)
    /// The same value for a prepared statement (see `Link.query(_:_:prepared:)`), in the same binary format.
    var postgresData: PostgresData { get }
}

extension Int64: SQLBindable {
    func bind(into binds: inout PostgresBindings) { binds.append(self) }
    var postgresData: PostgresData { PostgresData(int64: self) }
}
extension Int: SQLBindable {
    func bind(into binds: inout PostgresBindings) { binds.append(Int64(self)) }
    var postgresData: PostgresData { PostgresData(int64: Int64(self)) }
}
extension Double: SQLBindable {
    func bind(into binds: inout PostgresBindings) { binds.append(self) }
    var postgresData: PostgresData { PostgresData(double: self) }
}
extension Float: SQLBindable {
    func bind(into binds: inout PostgresBindings) { binds.append(Double(self)) }
    var postgresData: PostgresData { PostgresData(double: Double(self)) }
}
extension Bool: SQLBindable {
    func bind(into binds: inout PostgresBindings) { binds.append(self) }
    var postgresData: PostgresData { PostgresData(bool: self) }
}
extension String: SQLBindable {
    func bind(into binds: inout PostgresBindings) { binds.append(self) }
    var postgresData: PostgresData { PostgresData(string: self) }
}
extension Data: SQLBindable {
    func bind(into binds: inout PostgresBindings) { binds.append(ByteBuffer(bytes: self)) }
    var postgresData: PostgresData { PostgresData(bytes: self) }
}
extension Array: SQLBindable where Element: PostgresArrayEncodable & PostgresNonThrowingEncodable & SQLBindable {
    func bind(into binds: inout PostgresBindings) { binds.append(self) }
    var postgresData: PostgresData {
        var buffer = ByteBuffer()
        self.encode(into: &buffer, context: .default)
        return PostgresData(type: Self.psqlType, formatCode: .binary, value: buffer)
    }
}
extension Optional: SQLBindable where Wrapped: SQLBindable {
    func bind(into binds: inout PostgresBindings) {
        if let value = self { value.bind(into: &binds) } else { binds.appendNull() }
    }
    var postgresData: PostgresData { self?.postgresData ?? .null }
}
