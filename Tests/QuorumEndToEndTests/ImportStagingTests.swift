import Foundation
import Testing

/// Issue 11, item 10: an import stages its items in short transactions and
/// publishes them at once, so it stays all or nothing without holding the
/// write lock while it reads the file.
@Suite struct ImportStagingTests {
    func items(_ n: Int, badAt: Int? = nil) -> String {
        var out = ""
        out.reserveCapacity(n * 60)
        for i in 0..<n {
            out += i == badAt ? "{\"id\":\"i\(i)\",\"text\":\"broken\"\n" : "{\"id\":\"i\(i)\",\"text\":\"short text number \(i)\"}\n"
        }
        return out
    }

    /// Counts a table's rows with Python's sqlite3 module (read-only).
    func rows(_ cli: CLI, _ table: String) throws -> Int {
        let p = Process(), out = Pipe()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT COUNT(*) FROM ' + sys.argv[2]).fetchone()[0])",
                       (cli.project as NSString).appendingPathComponent("quorum.sqlite"), table]
        p.standardOutput = out
        try p.run()
        p.waitUntilExit()
        return Int(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    @Test func aBadLineInALaterChunkLeavesNothingBehind() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try cli.ok(["init", "--labels", "a,b"])
        let before = try cli.ok(["status", "--format", "json"])
        let path = try cli.write("big.jsonl", items(45_000, badAt: 44_000))   // the third chunk of 20,000
        let r = try cli.run(["import", path])
        #expect(r.status == 1 && r.stderr.contains("\(path):44001: json:"), "\(r.stderr)")
        #expect(try cli.ok(["status", "--format", "json"]) == before, "nothing imported")
        #expect(try rows(cli, "staged_items") == 0, "the staged chunks were dropped")
        #expect(try rows(cli, "items") == 0)
    }

    @Test func aLongImportLetsOtherWritersIn() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try cli.ok(["init", "--labels", "a,b"])
        let path = try cli.write("big.jsonl", items(150_000))
        let importer = Process()
        importer.executableURL = URL(fileURLWithPath: CLI.binary)
        importer.arguments = ["import", path, "--project", cli.project]
        importer.standardOutput = FileHandle.nullDevice
        importer.standardError = FileHandle.nullDevice
        try importer.run()
        Thread.sleep(forTimeInterval: 0.8)
        #expect(importer.isRunning, "the import takes longer than this test's busy wait")
        // Another writer, waiting at most 1 s for the lock, gets in while the import reads its file.
        let p = Process(), err = Pipe()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = ["annotators", "add", "ann", "--project", cli.project]
        p.environment = ProcessInfo.processInfo.environment.merging(["QUORUM_BUSY_TIMEOUT": "1"]) { $1 }
        p.standardOutput = FileHandle.nullDevice
        p.standardError = err
        try p.run()
        p.waitUntilExit()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 0, "the writer got the lock: \(message)")
        #expect(importer.isRunning, "…before the import finished")
        importer.waitUntilExit()
        #expect(importer.terminationStatus == 0)
        #expect(try cli.json(["status"])["items"].flatMap { ($0 as? [String: Any])?["pool"] as? Int } == 150_000)
        #expect(try rows(cli, "staged_items") == 0)
    }
}
