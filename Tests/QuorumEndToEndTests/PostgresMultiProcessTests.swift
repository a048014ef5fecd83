import Foundation
import QuorumCore
import QuorumPostgres
import Testing

/// Issue 13: one PostgreSQL project, labelled at once by two `quorum serve`
/// processes (three web annotators each, over HTTP) and two `label --answers`
/// processes, 2,000 tasks × overlap 2; one server is killed with SIGKILL
/// mid-run and its annotators carry on through the other. Exactly 4,000
/// answers, no (item, annotator) pair twice, every task answered twice, and
/// every answer acknowledged with 200 is in the database.
@Suite(.enabled(if: TestPostgres.server != nil, TestPostgres.skipReason))
struct PostgresMultiProcessTests {
    static let dataset: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent("datasets/wordnet_verbs/wordnet_verbs_2000.jsonl").path
    }()

    /// What the web annotators did, shared between their threads.
    final class Ledger: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var acknowledged: [(item: String, annotator: String)] = []
        private(set) var failures: [String] = []
        func ack(_ item: String, _ annotator: String) { lock.lock(); acknowledged.append((item, annotator)); lock.unlock() }
        func fail(_ text: String) { lock.lock(); failures.append(text); lock.unlock() }
        var count: Int { lock.lock(); defer { lock.unlock() }; return acknowledged.count }
    }

    @Test func twoServersAndTwoTerminalLoopsShareOneRoundAndSurviveAKilledServer() throws {
        let database = try TestPostgres.freshDatabase()
        defer { database.drop() }
        let cli = CLI(database: database.url)
        defer { cli.cleanUp() }
        let lines = try String(contentsOfFile: Self.dataset, encoding: .utf8).split(separator: "\n").map(String.init)
        var truth: [String: String] = [:]
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
            truth[object["id"]!] = object["label"]!
        }
        let labels = Set(truth.values).sorted()
        let answerKey = truth
        try cli.ok(["init", "--labels", labels.joined(separator: ",")])
        #expect(try cli.json(["import", Self.dataset])["imported"] as? Int == 2000)
        let web = (1...6).map { "web\($0)" }
        var tokens: [String: String] = [:]
        for name in web { tokens[name] = try cli.token(name) }
        try cli.register(["term1", "term2"])
        let round = try cli.json(["round", "start", "--size", "2000", "--overlap", "2", "--gold-rate", "0", "--audit-rate", "0",
                                  "--blind-rate", "0", "--seed", "1"])
        #expect(round["tasks"] as? Int == 2000)

        let a = try ServeProcess(cli, lease: 2)
        let b = try ServeProcess(cli, lease: 2)
        defer { a.stop(); b.stop() }
        let ledger = Ledger()
        let deadline = Date().addingTimeInterval(600)
        let group = DispatchGroup()
        for (i, name) in web.enumerated() {
            let token = tokens[name]!
            let first = i < 3 ? a : b
            group.enter()
            Thread {
                defer { group.leave() }
                var server = first
                while Date() < deadline {
                    do {
                        let next = try server.get("/api/v1/next", token: token)
                        guard next.status == 200 else { ledger.fail("\(name) next: \(next.status) \(next.text)"); return }
                        guard let task = next.json["task"] as? [String: Any], let id = task["id"] as? String else {
                            if next.json["reason"] as? String == "done" { return }
                            Thread.sleep(forTimeInterval: 0.05)   // waiting: what is left is held by others
                            continue
                        }
                        let reply = try server.post("/api/v1/answers", token: token, json: ["id": id, "label": answerKey[id]!, "seconds": 0.5])
                        switch reply.status {
                        case 200: ledger.ack(id, name)
                        case 409: continue   // the lease ran out and the slot went to someone else
                        default: ledger.fail("\(name) answer \(id): \(reply.status) \(reply.text)"); return
                        }
                    } catch {
                        guard server === a else { ledger.fail("\(name): \(error)"); return }
                        server = b   // the server died: carry on through the other one
                    }
                }
                ledger.fail("\(name): not done within the deadline")
            }.start()
        }

        // The terminal loops answer from files while the web annotators work:
        // term1 the first 700 items, term2 the next 700.
        while ledger.count < 300 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        let files = try [(0, 700), (700, 1400)].map { from, to in
            try cli.write("answers-\(from).jsonl", lines[from..<to].joined(separator: "\n") + "\n")
        }
        nonisolated(unsafe) var terminal: [Int] = [0, 0]
        let terminals = DispatchGroup()
        for (i, file) in files.enumerated() {
            terminals.enter()
            Thread {
                defer { terminals.leave() }
                do {
                    let summary = try cli.json(["label", "--annotator", "term\(i + 1)", "--answers", file])
                    terminal[i] = summary["answered"] as? Int ?? -1
                } catch { ledger.fail("term\(i + 1): \(error)") }
            }.start()
        }

        // Kill server A with SIGKILL once 1,500 answers are acknowledged.
        while ledger.count < 1500 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        a.stop(kill: true)
        let atKill = ledger.count
        terminals.wait()
        group.wait()
        #expect(ledger.failures.isEmpty, "\(ledger.failures.prefix(5))")
        #expect(atKill < 4000 - terminal.reduce(0, +), "the server died with work left")

        let store = try PostgresStore.open(url: database.url, readOnly: true)
        defer { store.close() }
        let answers = try store.read { try $0.answers(round: nil) }
        #expect(answers.count == 4000, "exactly 2,000 tasks × 2")
        #expect(Set(answers.map { "\($0.itemID)\u{1F}\($0.annotator)" }).count == answers.count, "no (item, annotator) pair twice")
        let perTask = Dictionary(grouping: answers, by: \.taskID).mapValues(\.count)
        #expect(perTask.count == 2000 && perTask.values.allSatisfy { $0 == 2 }, "every task answered exactly twice")
        let stored = Set(answers.map { "\($0.itemID)\u{1F}\($0.annotator)" })
        let lost = ledger.acknowledged.filter { !stored.contains("\($0.item)\u{1F}\($0.annotator)") }
        #expect(lost.isEmpty, "acknowledged answers missing after kill -9: \(lost.prefix(5))")
        #expect(answers.filter { $0.annotator.hasPrefix("term") }.count == terminal.reduce(0, +), "each terminal loop's summary matches the database")
        #expect(terminal.allSatisfy { $0 > 0 }, "both terminal loops answered while the servers ran: \(terminal)")
        #expect(answers.allSatisfy { truth[$0.itemID] == $0.label })
        try cli.ok(["audit", "verify"])
        let webBy = Dictionary(grouping: answers.filter { $0.annotator.hasPrefix("web") }, by: \.annotator).mapValues(\.count)
        FileHandle.standardError.write(Data(("multi-process: \(answers.count) answers; web \(ledger.count) acknowledged (\(webBy.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))), "
            + "terminal \(terminal); server A killed at \(atKill) acknowledged\n").utf8))
    }
}
