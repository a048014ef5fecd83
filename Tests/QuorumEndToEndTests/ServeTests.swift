import Foundation
import Testing

/// Issue 12: `quorum serve` against a real server on 127.0.0.1: every
/// endpoint and status code, redaction in every field the API returns, and
/// tokens (someone else's claim, a rotated token).
@Suite(.serialized) struct ServeTests {
    static let spam = ["win a free prize now", "cheap pills free offer", "claim your free prize money", "free money click now",
                       "you won a free cruise", "cheap offer win big", "free gift card winner", "click to claim free cash",
                       "limited free offer now", "win cash prize today"]
    static let ham = ["meeting moved to tuesday", "see you at lunch", "the report is attached", "can we talk tomorrow",
                      "notes from the meeting", "lunch on friday works", "please review the report", "call me after the meeting",
                      "the draft looks good", "thanks for the notes"]

    /// A trained project with a round of `size` pool items (overlap `overlap`) whose
    /// texts, metadata and seed ids carry e-mail addresses and phone numbers.
    static func project(size: Int = 6, overlap: Int = 1) throws -> CLI {
        let cli = CLI()
        try cli.ok(["init", "--labels", "spam,ham"])
        var seed = ""
        for (i, t) in spam.enumerated() { seed += #"{"id":"s\#(i)-ann@example.com","text":"\#(t)","label":"spam"}"# + "\n" }
        for (i, t) in ham.enumerated() { seed += #"{"id":"h\#(i)-ann@example.com","text":"\#(t)","label":"ham"}"# + "\n" }
        try cli.ok(["import", try cli.write("seed.jsonl", seed), "--as", "seed"])
        var pool = ""
        for i in 0..<size {
            let text = (i % 2 == 0 ? spam[i] : ham[i]) + " write to jo\(i)@example.com"
            pool += #"{"id":"p\#(i)","text":"\#(text)","contact":"call 555-123-45\#(10 + i)","source":"web"}"# + "\n"
        }
        try cli.ok(["import", try cli.write("pool.jsonl", pool), "--meta-fields", "contact,source"])
        try cli.ok(["train"])
        try cli.ok(["round", "start", "--size", "\(size)", "--overlap", "\(overlap)", "--show-fields", "contact", "--audit-rate", "0"])
        return cli
    }

    @Test func everyEndpointAnswersWithItsStatus() throws {
        let cli = try Self.project()
        defer { cli.cleanUp() }
        let alice = try cli.token("alice"), judge = try cli.token("judy", role: "adjudicator"), lead = try cli.token("lee", role: "lead")
        let server = try ServeProcess(cli)
        defer { server.stop() }

        // Pages and health need no token; the API does.
        #expect(try server.get("/healthz").text == "ok\n")
        let page = try server.get("/")
        #expect(page.status == 200 && page.text.contains("<html") && page.headers["content-security-policy"]?.contains("default-src 'self'") == true)
        #expect(try server.get("/lead").status == 200)
        #expect(try server.get("/assets/app.js").status == 200)
        // Both pages load the shared client before their own script.
        let shared = try server.get("/assets/quorum.js")
        #expect(shared.status == 200 && shared.text.contains("window.Quorum") && shared.headers["content-type"]?.hasPrefix("text/javascript") == true)
        for (path, script) in [("/", "app.js"), ("/lead", "lead.js")] {
            let html = try server.get(path).text
            let a = try #require(html.range(of: "/assets/quorum.js")), b = try #require(html.range(of: "/assets/\(script)"))
            #expect(a.lowerBound < b.lowerBound, "\(path) loads quorum.js first")
        }
        // HEAD answers as GET, without the body (uptime checks use it); the API is GET and POST only.
        let head = try server.send("HEAD", "/")
        #expect(head.status == 200 && head.body.isEmpty && head.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(try server.send("HEAD", "/healthz").status == 200)
        let missing = try server.get("/nowhere")
        #expect(missing.status == 404 && missing.json["error"] is String)
        #expect(try server.get("/api/v1/me").status == 401)
        #expect(try server.get("/api/v1/me", token: "qrm_nonsense").status == 401)
        #expect(try server.get("/api/v1/next", token: String(alice.dropLast())).status == 401)

        // Roles: annotators may not see the lead's or the adjudicator's endpoints.
        for path in ["/api/v1/status", "/api/v1/report", "/api/v1/lead", "/api/v1/disputes/next"] {
            let r = try server.get(path, token: alice)
            #expect(r.status == 403 && (r.json["error"] as? String)?.contains("role") == true, "\(path): \(r.status)")
        }
        #expect(try server.get("/api/v1/status", token: judge).status == 403)

        let me = try server.get("/api/v1/me", token: alice).json
        #expect(me["annotator"] as? String == "alice" && me["role"] as? String == "annotator" && me["round"] as? Int == 1)
        #expect((me["labels"] as? [[String: Any]])?.map { "\($0["name"]!)=\($0["key"]!)" } == ["spam=1", "ham=2"])

        // next claims a task; next?after= fetches a second one ahead and keeps the first.
        let first = try server.get("/api/v1/next", token: alice).json
        let task = try #require(first["task"] as? [String: Any])
        let id = try #require(task["id"] as? String)
        #expect(task["lease_seconds"] as? Double == 600 && task["blind"] as? Bool == false)
        #expect((task["suggestion"] as? [String: Any])?["label"] is String, "a trained model suggests")
        #expect((first["progress"] as? [String: Any])?["left"] as? Int == 6)
        #expect(try server.get("/api/v1/next", token: alice).json["task"].flatMap { ($0 as? [String: Any])?["id"] as? String } == id,
                "a reopened page resumes the same item")
        let ahead = try #require(try server.get("/api/v1/next?after=\(id)", token: alice).json["task"] as? [String: Any])
        let nextID = try #require(ahead["id"] as? String)
        #expect(nextID != id)
        let holding = try server.get("/api/v1/lead", token: lead).json
        let aliceRow = (holding["annotators"] as? [[String: Any]])?.first { $0["annotator"] as? String == "alice" }
        #expect(Set(aliceRow?["holding"] as? [String] ?? []) == [id, nextID], "both held: \(holding)")

        // Answers: 400 for bad bodies and labels, 409 for items not held, 200 otherwise.
        #expect(try server.post("/api/v1/answers", token: alice, json: ["id": id, "label": "eggs"]).status == 400)
        #expect(try server.post("/api/v1/answers", token: alice, json: ["label": "spam"]).status == 400)
        #expect(try server.post("/api/v1/answers", token: alice, json: ["id": id, "label": "spam", "skip": true]).status == 400)
        #expect(try server.post("/api/v1/answers", token: alice, json: ["id": id, "label": "spam", "seconds": "slow"]).status == 400)
        #expect(try server.send("POST", "/api/v1/answers", token: alice, body: Data("{not json".utf8)).status == 400)
        #expect(try server.post("/api/v1/answers", token: alice).status == 400)
        let big = try server.send("POST", "/api/v1/answers", token: alice, body: Data(repeating: 0x61, count: (1 << 20) + 10))
        #expect(big.status == 413 && big.json["error"] is String)
        let notHeld = try server.post("/api/v1/answers", token: alice, json: ["id": "p-none", "label": "spam"])
        #expect(notHeld.status == 409 && (notHeld.json["error"] as? String)?.contains("not held for you") == true)
        let ok = try server.post("/api/v1/answers", token: alice, json: ["id": id, "label": "spam", "seconds": 1.5, "note": "sure"])
        #expect(ok.status == 200 && ok.json["ok"] as? Bool == true)
        #expect(try server.post("/api/v1/answers", token: alice, json: ["id": id, "label": "ham"]).status == 409, "answered once")

        // Details of a held item; 400 without an id; 409 for an item not held.
        let details = try server.get("/api/v1/details?id=\(nextID)", token: alice)
        #expect(details.status == 200 && (details.json["sections"] as? [[String: Any]])?.isEmpty == false)
        #expect(try server.get("/api/v1/details", token: alice).status == 400)
        #expect(try server.get("/api/v1/details?id=\(id)", token: alice).status == 409)

        // Undo takes the answer back and gives the item back; then nothing is left to undo.
        let undo = try server.post("/api/v1/undo", token: alice)
        #expect(undo.status == 200 && undo.json["id"] as? String == id)
        #expect(try server.post("/api/v1/undo", token: alice).status == 409)
        #expect(try server.post("/api/v1/answers", token: alice, json: ["id": id, "flag": "not sure it is spam", "seconds": 1]).status == 200, "seconds 0 and 1 are numbers, not booleans")
        #expect(try server.post("/api/v1/answers", token: alice, json: ["id": nextID, "skip": true]).status == 200)

        // The lead's documents are the command line's.
        let status = try server.get("/api/v1/status", token: lead)
        let cliStatus = try cli.json(["status"])
        #expect(status.status == 200 && NSDictionary(dictionary: status.json).isEqual(to: cliStatus))
        let report = try server.get("/api/v1/report", token: lead)
        let cliReport = try cli.json(["report"])
        #expect(report.status == 200 && NSDictionary(dictionary: report.json).isEqual(to: cliReport))

        // The flag is a dispute: the adjudicator sees the answers and rules.
        let dispute = try server.get("/api/v1/disputes/next", token: judge).json
        let disputed = try #require(dispute["task"] as? [String: Any])
        #expect(disputed["id"] as? String == id)
        let answers = try #require(disputed["answers"] as? [[String: Any]])
        #expect(answers.count == 1 && answers[0]["annotator"] as? String == "alice" && answers[0]["flagged"] as? Bool == true
                && answers[0]["note"] as? String == "not sure it is spam")
        #expect(try server.post("/api/v1/rulings", token: judge, json: ["id": id, "label": "nope"]).status == 400)
        #expect(try server.post("/api/v1/rulings", token: alice, json: ["id": id, "label": "spam"]).status == 403)
        #expect(try server.post("/api/v1/rulings", token: judge, json: ["id": "p-none", "label": "spam"]).status == 409)
        #expect(try server.post("/api/v1/rulings", token: judge, json: ["id": id, "label": "spam"]).status == 200)
        #expect(try server.get("/api/v1/disputes/next", token: judge).json["task"] is NSNull)
        let undone = try server.post("/api/v1/rulings/undo", token: judge)
        #expect(undone.status == 200 && undone.json["id"] as? String == id)
        #expect(try server.post("/api/v1/rulings/undo", token: judge).status == 409)
        // Or the adjudicator escalates it to the lead, withdraws that, and escalates it again.
        #expect(try server.post("/api/v1/rulings", token: judge, json: ["id": id, "escalate": 3]).status == 400)
        #expect(try server.post("/api/v1/rulings", token: judge, json: ["id": id, "escalate": "policy question"]).status == 200)
        #expect(try server.get("/api/v1/disputes/next", token: judge).json["task"] is NSNull, "it left the adjudicators' queue")
        #expect((try cli.json(["incidents", "list"])["incidents"] as? [[String: Any]])?.first?["reason"] as? String == "policy question")
        #expect(try server.post("/api/v1/rulings/undo", token: judge, json: ["id": id, "escalation": true]).json["id"] as? String == id)
        #expect((try cli.json(["incidents", "list"])["incidents"] as? [[String: Any]])?.isEmpty == true)
        #expect(try server.post("/api/v1/rulings/undo", token: judge, json: ["id": id, "escalation": true]).status == 409)
        #expect(try server.post("/api/v1/rulings", token: judge, json: ["id": id, "escalate": ""]).status == 200)
        #expect((try cli.json(["incidents", "list"])["incidents"] as? [[String: Any]])?.first?["reason"] as? String == "no reason given")

        // What the database holds: alice's flag and skip, nothing else.
        let log = try cli.ok(["audit", "log", "--format", "json"])
        #expect(log.contains("\"kind\":\"flag\"") && log.contains("\"kind\":\"undo\"") && log.contains("\"kind\":\"skip\""))
        #expect(try cli.run(["audit", "verify"]).status == 0)
    }

    /// Every field the API returns is redacted: the text, the metadata, the
    /// lead's fields, the evidence (seed ids carry e-mail addresses), notes.
    @Test func redactionCoversEveryFieldTheAPIReturns() throws {
        let cli = try Self.project()
        defer { cli.cleanUp() }
        try cli.ok(["redact", "add", #"prize|pills"#])
        let alice = try cli.token("alice"), judge = try cli.token("judy", role: "adjudicator")
        let server = try ServeProcess(cli)
        defer { server.stop() }
        var seen = ""
        var flagged: String?
        while let task = try server.get("/api/v1/next", token: alice).json["task"] as? [String: Any] {
            let id = task["id"] as! String
            let details = try server.get("/api/v1/details?id=\(id)", token: alice)
            #expect(details.status == 200)
            seen += String(decoding: try JSONSerialization.data(withJSONObject: task), as: UTF8.self) + details.text
            #expect((task["fields"] as? [String])?.first == "contact: call [phone]", "\(task)")
            #expect((task["meta"] as? [String: Any])?["contact"] as? String == "call [phone]")
            #expect((task["text"] as? String)?.contains("[email]") == true)
            let note = flagged == nil ? ["flag": "mail ann@example.com about it", "note": "or 555-123-4567"] : ["label": "ham"]
            if flagged == nil { flagged = id }
            #expect(try server.post("/api/v1/answers", token: alice, json: note.merging(["id": id]) { a, _ in a }).status == 200)
        }
        #expect(seen.contains("s0-ann@example.com") == false && seen.contains("[email]"), "seed ids in the evidence are redacted")
        #expect(!seen.contains("@example.com") && !seen.contains("555-123") && !seen.contains("prize") && !seen.contains("pills"), "\(seen)")
        let dispute = try server.get("/api/v1/disputes/next", token: judge)
        let text = dispute.text
        #expect(text.contains(flagged ?? "?") && text.contains("[email]") && !text.contains("ann@example.com") && !text.contains("555-123"), "\(text)")
    }

    @Test func aTokenCannotAnswerSomeoneElsesClaimAndARotatedTokenIsRefused() throws {
        let cli = try Self.project(size: 4, overlap: 1)
        defer { cli.cleanUp() }
        let alice = try cli.token("alice"), bob = try cli.token("bob")
        let server = try ServeProcess(cli)
        defer { server.stop() }
        let held = try #require((try server.get("/api/v1/next", token: alice).json["task"] as? [String: Any])?["id"] as? String)
        let stolen = try server.post("/api/v1/answers", token: bob, json: ["id": held, "label": "spam"])
        #expect(stolen.status == 409, "bob cannot answer alice's claim: \(stolen.text)")
        let bobs = try #require((try server.get("/api/v1/next", token: bob).json["task"] as? [String: Any])?["id"] as? String)
        #expect(bobs != held, "with overlap 1, alice's item is not offered to bob")
        #expect(try server.post("/api/v1/answers", token: alice, json: ["id": held, "label": "spam"]).status == 200)
        #expect(!(try cli.ok(["audit", "log", "--item", held, "--format", "json"])).contains("\"bob\""))

        // Rotation: the old token stops working at once, in the running server.
        let rotated = try #require(try cli.json(["annotators", "token", "alice", "--rotate"])["token"] as? String)
        #expect(try server.get("/api/v1/me", token: alice).status == 401)
        #expect(try server.get("/api/v1/me", token: rotated).status == 200)
    }

    /// Release gives back what the caller holds at once (the page calls it on log out and close).
    @Test func releaseGivesBackHeldTasksAtOnce() throws {
        let cli = try Self.project(size: 4, overlap: 1)
        defer { cli.cleanUp() }
        let alice = try cli.token("alice"), bob = try cli.token("bob")
        let server = try ServeProcess(cli)
        defer { server.stop() }
        let held = try #require((try server.get("/api/v1/next", token: alice).json["task"] as? [String: Any])?["id"] as? String)
        func holders() throws -> [String] {
            try #require(try cli.json(["round", "status"])["claims"] as? [[String: Any]]).compactMap { $0["annotator"] as? String }
        }
        #expect(try holders() == ["alice"])
        #expect(try server.post("/api/v1/release").status == 401)
        #expect(try server.post("/api/v1/release", token: alice).json["ok"] as? Bool == true)
        #expect(try holders().isEmpty)
        // With overlap 1 the item was bob's to take only once alice let it go.
        var seen: [String] = []
        for _ in 0..<4 {
            guard let id = (try server.get("/api/v1/next", token: bob).json["task"] as? [String: Any])?["id"] as? String else { break }
            seen.append(id)
            _ = try server.post("/api/v1/answers", token: bob, json: ["id": id, "label": "spam"])
        }
        #expect(seen.contains(held), "\(seen)")
    }

    @Test func withNoOpenRoundNextSaysSoAndAnswersAreRefused() throws {
        let cli = try Self.project(size: 2)
        defer { cli.cleanUp() }
        let alice = try cli.token("alice")
        let server = try ServeProcess(cli)
        defer { server.stop() }
        let id = try #require((try server.get("/api/v1/next", token: alice).json["task"] as? [String: Any])?["id"] as? String)
        try cli.ok(["round", "close", "--force"])
        let next = try server.get("/api/v1/next", token: alice).json
        #expect(next["task"] is NSNull && next["reason"] as? String == "no_round")
        let late = try server.post("/api/v1/answers", token: alice, json: ["id": id, "label": "spam"])
        #expect(late.status == 409 && (late.json["error"] as? String)?.contains("no open round") == true)
    }
}

/// Issue 12: `kill -9` of `quorum serve` loses no answer it acknowledged, and
/// the items its clients held come back to the queue when their leases end.
@Suite struct ServeCrashTests {
    @Test func aKilledServerLosesNoAcknowledgedAnswerAndItsClaimsReturn() throws {
        let cli = try ServeTests.project(size: 6, overlap: 1)
        defer { cli.cleanUp() }
        let alice = try cli.token("alice"), bob = try cli.token("bob")
        let first = try ServeProcess(cli, lease: 2)
        var acknowledged: [String: String] = [:]
        for label in ["spam", "ham"] {
            let id = try #require((try first.get("/api/v1/next", token: alice).json["task"] as? [String: Any])?["id"] as? String)
            #expect(try first.post("/api/v1/answers", token: alice, json: ["id": id, "label": label]).status == 200)
            acknowledged[id] = label
        }
        // Alice holds the item on her screen and the one fetched ahead when the server dies.
        let shown = try #require((try first.get("/api/v1/next", token: alice).json["task"] as? [String: Any])?["id"] as? String)
        let ahead = try #require((try first.get("/api/v1/next?after=\(shown)", token: alice).json["task"] as? [String: Any])?["id"] as? String)
        first.stop(kill: true)

        let second = try ServeProcess(cli, lease: 2)
        defer { second.stop() }
        // Bob gets every other item, then waits for alice's two while her leases run.
        var bobs: [String] = []
        while let task = try second.get("/api/v1/next", token: bob).json["task"] as? [String: Any], let id = task["id"] as? String {
            bobs.append(id)
            #expect(try second.post("/api/v1/answers", token: bob, json: ["id": id, "label": "ham"]).status == 200)
        }
        #expect(Set(bobs).isDisjoint(with: [shown, ahead]) && bobs.count == 2, "\(bobs)")
        let waiting = try second.get("/api/v1/next", token: bob).json
        #expect(waiting["reason"] as? String == "waiting" && (waiting["retry_after"] as? Double ?? 0) >= 1, "\(waiting)")
        Thread.sleep(forTimeInterval: 2.5)
        for _ in 0..<2 {
            let id = try #require((try second.get("/api/v1/next", token: bob).json["task"] as? [String: Any])?["id"] as? String)
            #expect([shown, ahead].contains(id))
            #expect(try second.post("/api/v1/answers", token: bob, json: ["id": id, "label": "spam"]).status == 200)
        }
        #expect(try second.get("/api/v1/next", token: bob).json["reason"] as? String == "done")
        // Every acknowledged answer is in the database.
        let labels = try #require(try cli.json(["consensus", "--dry-run"])["labels"] as? [String: String])
        for (id, label) in acknowledged { #expect(labels[id] == label, "\(id)") }
        #expect(labels.count == 6)
    }
}
