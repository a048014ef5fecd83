import Foundation
import QuorumCore

/// Where a PostgreSQL project lives: `postgresql://user@host:port/dbname`.
///
/// The URL never carries a password: it is written into the project's
/// `quorum.json`, and a password belongs in `PGPASSWORD` or `~/.pgpass`
/// (`PGPASSFILE`), never in a file in the project. TLS follows `?sslmode=`:
/// `disable`, `prefer` (encrypt when the server offers it, without checking
/// its certificate, as libpq does), `require` (the same, but refuse an
/// unencrypted connection) or `verify-full` (check the certificate and host
/// name). Without it, a loopback host (127.0.0.1, ::1, localhost) is `disable`
/// (traffic never leaves the machine) and any other host is `prefer`.
public struct PostgresURL: Sendable, Equatable, CustomStringConvertible {
    public enum TLSMode: String, Sendable { case disable, prefer, require, verifyFull = "verify-full" }

    public var user: String
    public var host: String
    public var port: Int
    public var database: String
    public var tls: TLSMode

    /// Parses `postgresql://` (or `postgres://`) URLs. The user defaults to
    /// `PGUSER`, then the login name; the port to 5432.
    public init(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        // Never echo a password, even from a URL that does not parse.
        let shown = TerminalText.visible(text.replacingOccurrences(of: "://([^:/@]*):[^@]*@", with: "://$1:…@", options: .regularExpression))
        func bad(_ problem: String) -> QuorumError {
            QuorumError(.badInput, "\(shown): \(problem)", hint: "write the database as postgresql://user@host:port/dbname")
        }
        guard let components = URLComponents(string: text), let scheme = components.scheme,
              scheme == "postgresql" || scheme == "postgres" else {
            throw bad("not a postgresql:// URL")
        }
        if components.password != nil {
            throw QuorumError(.badInput, "\(shown): the URL holds a password, and the URL is written into the project",
                              hint: "drop the password from the URL and set PGPASSWORD or put it in ~/.pgpass")
        }
        guard let host = components.host, !host.isEmpty else { throw bad("the URL names no host") }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard !database.isEmpty, !database.contains("/") else { throw bad("the URL names no database (…/dbname)") }
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        self.port = components.port ?? 5432
        self.database = database.removingPercentEncoding ?? database
        let login = environment["PGUSER"] ?? environment["USER"] ?? environment["LOGNAME"] ?? "postgres"
        self.user = (components.user?.removingPercentEncoding).flatMap { $0.isEmpty ? nil : $0 } ?? login
        var tls: TLSMode = ["127.0.0.1", "::1", "localhost"].contains(self.host) ? .disable : .prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value, let mode = TLSMode(rawValue: value) else {
                    throw bad("sslmode must be disable, prefer, require or verify-full")
                }
                tls = mode
            default:
                throw bad("unknown parameter \"\(TerminalText.visible(item.name))\" (only sslmode is understood)")
            }
        }
        self.tls = tls
    }

    /// The same server and user, another database.
    public func with(database: String) -> PostgresURL {
        var copy = self
        copy.database = database
        return copy
    }

    /// The URL as written back (never with a password).
    public var description: String {
        let user = self.user.addingPercentEncoding(withAllowedCharacters: .urlUserAllowed) ?? self.user
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        let database = self.database.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? self.database
        let mode = self.tls == (["127.0.0.1", "::1", "localhost"].contains(self.host) ? .disable : .prefer) ? "" : "?sslmode=\(tls.rawValue)"
        return "postgresql://\(user)@\(host):\(port)/\(database)\(mode)"
    }

    /// The password for this URL: `PGPASSWORD`, else the first matching line of
    /// the password file (`PGPASSFILE` or `~/.pgpass`; like libpq, a file that
    /// others may read is ignored), else nil.
    public func password(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let password = environment["PGPASSWORD"], !password.isEmpty { return password }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let path = environment["PGPASSFILE"] ?? (home as NSString).appendingPathComponent(".pgpass")
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let mode = attributes[.posixPermissions] as? Int, mode & 0o077 == 0,
              let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return Self.password(inPassFile: text, host: host, port: port, database: database, user: user)
    }

    /// The password of the first `host:port:database:user:password` line that
    /// matches (`*` matches anything; `\:` and `\\` are escapes).
    static func password(inPassFile text: String, host: String, port: Int, database: String, user: String) -> String? {
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            var fields: [String] = [""]
            var escaped = false
            for c in line {
                if escaped { fields[fields.count - 1].append(c); escaped = false }
                else if c == "\\" { escaped = true }
                else if c == ":" && fields.count < 5 { fields.append("") }
                else { fields[fields.count - 1].append(c) }
            }
            guard fields.count == 5 else { continue }
            let wanted = [host, String(port), database, user]
            let hostMatches = fields[0] == "*" || fields[0] == host || (fields[0] == "localhost" && host == "127.0.0.1")
            if hostMatches && zip(fields[1...3], wanted[1...3]).allSatisfy({ $0 == "*" || $0 == $1 }) { return fields[4] }
        }
        return nil
    }
}
