import Foundation
import QuorumCore
import QuorumPostgres
import QuorumStore
import Testing

/// What a store refuses to open, and how it upgrades an older project, on every backend.
@Suite struct SchemaConformanceTests {
    typealias F = Fixture

    @Test(arguments: Backend.available)
    func aProjectFromANewerQuorumIsRefused(backend: Backend) throws {
        try backend.withPlace { place in
            let store = try place.create()
            try store.write { w in _ = try w.insert(F.item("1", "kept")) }
            try place.addUnknownSchemaStep()
            for readOnly in [false, true] {
                let error = F.quorumError { _ = try place.open(readOnly: readOnly) }
                #expect(error?.kind == .state)
                #expect(error?.message.contains("was written by a newer Quorum (schema steps") == true, "\(String(describing: error))")
                #expect(error?.message.contains("-from-the-future are unknown to this version)") == true)
                #expect(error?.hint?.contains("this one will not write to the project") == true)
            }
        }
    }

    @Test(arguments: Backend.available)
    func anOlderProjectIsUpgradedOnlyByAWritableOpen(backend: Backend) throws {
        try backend.withPlace { place in
            let store = try place.create()
            try store.write { w in try w.appendEvent(EventRecord(kind: "before")) }
            try place.undoLastSchemaStep()
            let error = F.quorumError { _ = try place.open(readOnly: true) }
            #expect(error?.message.contains("was made by an older Quorum and needs a schema upgrade") == true, "\(String(describing: error))")
            let upgraded = try place.open()
            try upgraded.write { w in try w.appendEvent(EventRecord(kind: "after")) }
            #expect(try upgraded.read { try $0.events(itemID: nil) }.map(\.event.kind) == ["before", "after"])
            _ = try place.open(readOnly: true)
            #expect(throws: (any Error).self) { try place.tamper("DELETE FROM events") }
        }
    }

    @Test(arguments: Backend.available)
    func anEmptyPlaceIsNotAProject(backend: Backend) throws {
        try backend.withPlace { place in
            try place.makeNonProject(foreign: false)
            let error = F.quorumError { _ = try place.open() }
            #expect(error?.kind == .state)
            #expect(error?.message.contains("is not a Quorum project (the") == true && error?.message.contains("is empty)") == true,
                    "\(String(describing: error))")
        }
    }

    @Test(arguments: Backend.available)
    func aForeignDatabaseIsNotAProject(backend: Backend) throws {
        try backend.withPlace { place in
            try place.makeNonProject(foreign: true)
            for readOnly in [false, true] {
                let error = F.quorumError { _ = try place.open(readOnly: readOnly) }
                #expect(error?.message.contains("is not a Quorum project (a ") == true, "\(String(describing: error))")
                #expect(error?.message.contains("database without Quorum's tables)") == true)
            }
        }
    }

    /// PostgreSQL only: `create` wants a database of its own.
    @Test(.enabled(if: Backend.postgresURL != nil))
    func createRefusesADatabaseWithOtherTables() throws {
        try Backend.postgres.withPlace { place in
            try place.makeNonProject(foreign: true)
            let error = F.quorumError { _ = try place.create() }
            #expect(error?.message.contains("the database already has tables (other)") == true, "\(String(describing: error))")
        }
    }

    /// PostgreSQL only: a server that cannot be reached, or a database that does not exist, is a plain error.
    @Test(.enabled(if: Backend.postgresURL != nil))
    func unreachableServersAndMissingDatabasesAreReported() throws {
        let server = try PostgresURL(try #require(Backend.postgresURL))
        let missing = F.quorumError { _ = try PostgresStore.open(url: server.with(database: "quorum_no_such_db").description) }
        #expect(missing?.message.contains("quorum_no_such_db") == true && missing?.message.contains("3D000") == true,
                "\(String(describing: missing))")
        var closed = server
        closed.port = 1
        let refused = F.quorumError { _ = try PostgresStore.open(url: closed.description) }
        #expect(refused?.kind == .environment && refused?.message.contains("cannot connect to the PostgreSQL server") == true,
                "\(String(describing: refused))")
    }
}

/// PostgreSQL only: connections the server dropped are replaced.
@Suite struct PostgresConnectionTests {
    @Test(.enabled(if: Backend.postgresURL != nil))
    func aStoreOutlivesItsConnections() throws {
        try Backend.postgres.withProject { store, place in
            try store.write { w in try w.appendEvent(EventRecord(kind: "before")) }
            // The server ends every other session on the database (a restart, an idle timeout).
            let admin = try place.open()
            try store.read { r in _ = try r.eventHead() }
            try (admin as? PostgresStore)?.executeForTesting(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
            usleep(100_000)
            #expect(try store.read { try $0.eventHead()?.seq } == 1)
            try store.write { w in try w.appendEvent(EventRecord(kind: "after")) }
            #expect(try store.read { try $0.events(itemID: nil) }.map(\.event.kind) == ["before", "after"])
        }
    }
}

/// The PostgreSQL URL and password rules (no server needed).
@Suite struct PostgresURLTests {
    @Test func parsesTheProjectURL() throws {
        let url = try PostgresURL("postgresql://ann@db.example:6543/labels", environment: [:])
        #expect(url.user == "ann" && url.host == "db.example" && url.port == 6543 && url.database == "labels" && url.tls == .prefer)
        #expect(url.description == "postgresql://ann@db.example:6543/labels")
        let local = try PostgresURL("postgres://127.0.0.1/q", environment: ["PGUSER": "pat"])
        #expect(local.user == "pat" && local.port == 5432 && local.tls == .disable)
        #expect(local.description == "postgresql://pat@127.0.0.1:5432/q")
        #expect(try PostgresURL("postgresql://a@127.0.0.1:1/q?sslmode=require", environment: [:]).tls == .require)
        #expect(try PostgresURL("postgresql://a@127.0.0.1:1/q?sslmode=require", environment: [:]).description.hasSuffix("?sslmode=require"))
    }

    @Test func refusesPasswordsAndMalformedURLs() {
        for bad in ["postgresql://ann:secret@host/db", "mysql://host/db", "postgresql://host", "postgresql:///db",
                    "postgresql://host/db?sslmode=maybe", "postgresql://host/db?color=red"] {
            #expect(throws: QuorumError.self, "\(bad)") { try PostgresURL(bad, environment: [:]) }
        }
        let error = Fixture.quorumError { _ = try PostgresURL("postgresql://ann:secret@host/db", environment: [:]) }
        #expect(error?.message.contains("secret") == false, "the password is never echoed")
    }

    @Test func findsThePasswordInTheEnvironmentOrThePasswordFile() throws {
        let url = try PostgresURL("postgresql://ann@127.0.0.1:5433/q", environment: [:])
        #expect(url.password(environment: ["PGPASSWORD": "env"]) == "env")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pgpass-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = (dir as NSString).appendingPathComponent("pgpass")
        try "# comment\nother:5433:q:ann:no\nlocalhost:5433:*:ann:pa\\:ss\n*:*:*:*:fallback\n".write(toFile: file, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        #expect(url.password(environment: ["PGPASSFILE": file]) == "pa:ss")
        #expect(url.with(database: "x").password(environment: ["PGPASSFILE": file]) == "pa:ss")
        #expect(try PostgresURL("postgresql://bo@h:1/q", environment: [:]).password(environment: ["PGPASSFILE": file]) == "fallback")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        #expect(url.password(environment: ["PGPASSFILE": file]) == nil, "a password file others can read is ignored, as libpq does")
    }
}
