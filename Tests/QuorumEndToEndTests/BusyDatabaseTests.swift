import Foundation
import Testing

/// Issue 11, item 10: a long write by another process (an import, a
/// training) must not cost an annotator an answer. The busy wait is cut to
/// 1 s (`QUORUM_BUSY_TIMEOUT`) and another process holds the write lock for
/// 4 s while the annotator answers: the answer waits, is committed, and the
/// loop goes on.
@Suite struct BusyDatabaseTests {
    /// Holds SQLite's write lock on the project's database for `seconds`
    /// (Python's sqlite3 module, `BEGIN IMMEDIATE`); returns once it holds it.
    func holdWriteLock(_ cli: CLI, seconds: Double) throws -> Process {
        let db = (cli.project as NSString).appendingPathComponent("quorum.sqlite")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", """
            import sqlite3, sys, time
            c = sqlite3.connect(sys.argv[1], isolation_level=None)
            c.execute("BEGIN IMMEDIATE")
            c.execute("INSERT INTO project(key, value) VALUES ('busy-test', '1')")
            print("locked", flush=True)
            time.sleep(float(sys.argv[2]))
            c.execute("ROLLBACK")
            """, db, String(seconds)]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let line = out.fileHandleForReading.availableData
        guard String(decoding: line, as: UTF8.self).contains("locked") else { throw Failure("the lock holder did not start") }
        return p
    }

    @Test func anAnswerWaitsOutALongWriteInsteadOfBeingLost() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try cli.ok(["init", "--labels", "yes,no"])
        try cli.register(["ann"])
        try cli.ok(["import", try cli.write("pool.jsonl", "{\"id\":\"a\",\"text\":\"first item\"}\n{\"id\":\"b\",\"text\":\"second item\"}\n")])
        try cli.ok(["round", "start", "--size", "2"])
        let s = try PTYSession(cli, args: ["label", "--annotator", "ann"], environment: ["QUORUM_BUSY_TIMEOUT": "1"])
        try s.waitFor("left 2")
        let holder = try holdWriteLock(cli, seconds: 4)
        let pressed = Date()
        try s.press("1", expect: "→ yes")     // drawn only after the commit, once the lock is free
        #expect(Date().timeIntervalSince(pressed) > 2, "the answer waited for the lock (longer than the 1 s busy wait)")
        holder.waitUntilExit()
        try s.press("2", expect: "ann: 2 answered")   // the last item: the loop ends by itself
        #expect(s.finish() == 0)
        #expect(!s.transcript.contains("locked"), "no 'database is locked'")
        #expect(try cli.json(["round", "status"])["answers"] as? Int == 2)
    }

    /// Issue 12: `train` fits its model outside any write transaction, so
    /// others can write (label) while it runs. A probe takes SQLite's write
    /// lock without waiting (`BEGIN IMMEDIATE`, timeout 0) every 20 ms while
    /// `train` runs: a build that trained inside its write transaction fails
    /// every probe taken after training began.
    @Test func trainingHoldsNoWriteLockWhileItFits() throws {
        let cli = CLI()
        defer { cli.cleanUp() }
        try cli.ok(["init", "--labels", (0...9).map(String.init).joined(separator: ",")])
        try cli.ok(["import", try cli.write("seed.jsonl", Digits.rest.joined(separator: "\n") + "\n"), "--as", "seed"])
        try cli.ok(["import", try cli.write("test.jsonl", Digits.test.joined(separator: "\n") + "\n"), "--as", "test"])
        let db = (cli.project as NSString).appendingPathComponent("quorum.sqlite")
        let probe = try cli.python("""
            import sqlite3, subprocess, sys, time
            train = subprocess.Popen([sys.argv[1], "train", "--project", sys.argv[2]], stdout=subprocess.DEVNULL)
            time.sleep(0.3)  # past start-up and the read of the labels
            took = refused = 0
            while train.poll() is None:
                c = sqlite3.connect(sys.argv[3], timeout=0, isolation_level=None)
                try:
                    c.execute("BEGIN IMMEDIATE"); c.execute("ROLLBACK"); took += 1
                except sqlite3.OperationalError:
                    refused += 1
                c.close()
                time.sleep(0.02)
            print(took, refused, train.returncode)
            """, [CLI.binary, cli.project, db])
        let numbers = probe.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        #expect(numbers.count == 3 && numbers[2] == 0, "train failed: \(probe)")
        #expect(numbers.count == 3 && numbers[0] + numbers[1] >= 5, "train ran long enough to probe: \(probe)")
        #expect(numbers.count == 3 && numbers[0] > numbers[1], "the write lock was free most of the time: \(probe)")
    }
}
