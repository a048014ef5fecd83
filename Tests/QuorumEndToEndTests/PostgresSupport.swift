import Foundation
import QuorumPostgres
import Testing

/// The PostgreSQL server the end-to-end tests may use: `QUORUM_TEST_POSTGRES_URL`
/// (scripts/test.sh starts a throw-away cluster and sets it). Without it the
/// PostgreSQL tests are skipped, and QuorumStoreConformanceTests says so loudly.
enum TestPostgres {
    static let server: String? = {
        guard let url = ProcessInfo.processInfo.environment["QUORUM_TEST_POSTGRES_URL"], !url.isEmpty else { return nil }
        return url
    }()

    static let skipReason: Comment = "needs QUORUM_TEST_POSTGRES_URL (scripts/test.sh starts a PostgreSQL cluster when PostgreSQL is installed)"

    /// A new, empty database on the server, dropped by `drop()`.
    struct Database {
        let name: String
        let url: String
        func drop() {
            if let server = TestPostgres.server {
                try? PostgresStore.executeForTesting(url: server, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            }
        }
    }

    static func freshDatabase() throws -> Database {
        let server = try #require(server)
        let name = "quorum_e2e_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16))"
        try PostgresStore.executeForTesting(url: server, "CREATE DATABASE \(name)")
        return Database(name: name, url: try PostgresURL(server).with(database: name).description)
    }
}
