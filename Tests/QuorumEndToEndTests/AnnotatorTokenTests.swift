import Crypto
import Foundation
import Testing

/// Issue 12 (contract v2, tokens): `annotators add` prints an API token once,
/// the project stores only its SHA-256, and `annotators token --rotate`
/// replaces it.
@Suite struct AnnotatorTokenTests {
    func databaseBytes(_ cli: CLI) throws -> Data {
        // The WAL may hold the latest writes: read the database and its log.
        let db = (cli.project as NSString).appendingPathComponent("quorum.sqlite")
        var data = try Data(contentsOf: URL(fileURLWithPath: db))
        if let wal = try? Data(contentsOf: URL(fileURLWithPath: db + "-wal")) { data.append(wal) }
        return data
    }

    func sha256(_ s: String) -> String {
        SHA256.hash(data: Array(s.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    @Test func aTokenIsShownOnceAndStoredOnlyAsItsHash() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try cli.ok(["init", "--labels", "yes,no"])
        let added = try cli.json(["annotators", "add", "ann"])
        #expect(added["annotator"] as? String == "ann" && added["role"] as? String == "annotator")
        let token = try #require(added["token"] as? String)
        #expect(token.hasPrefix("qrm_") && token.count == 68)
        let lead = try cli.json(["annotators", "add", "lee", "--role", "lead"])
        #expect(lead["role"] as? String == "lead")
        let other = try #require(lead["token"] as? String)
        #expect(other != token)
        let text = try cli.ok(["annotators", "add", "bo"])
        #expect(text.contains("API token for `quorum serve`: qrm_") && text.contains("shown once"))
        // Only the hash is in the project.
        let bytes = try databaseBytes(cli)
        #expect(bytes.range(of: Data(token.utf8)) == nil, "the token itself is never stored")
        #expect(bytes.range(of: Data(sha256(token).utf8)) != nil, "its SHA-256 is")
        // A role change keeps the token (none is printed); nothing lists tokens.
        let changed = try cli.json(["annotators", "add", "ann", "--role", "adjudicator"])
        #expect(changed["token"] is NSNull)
        #expect(!(try cli.ok(["annotators", "list", "--format", "json"])).contains("qrm_"))
        // Rotation: a new token, the old hash gone.
        let rotated = try #require(try cli.json(["annotators", "token", "ann", "--rotate"])["token"] as? String)
        #expect(rotated != token)
        try cli.ok(["status"])   // a read that lets the log settle
        let after = try databaseBytes(cli)
        #expect(after.range(of: Data(sha256(rotated).utf8)) != nil)
        #expect(try cli.run(["annotators", "token", "ann"]).status == 2, "without --rotate: a usage error")
        let stranger = try cli.run(["annotators", "token", "nobody", "--rotate"])
        #expect(stranger.status == 1 && stranger.stderr.contains("nobody is not registered"))
    }
}
