// The annotator's wait: from pressing a label key to the next item on screen.
// One cycle = commit the answer (with its audit event) + claim the next task
// (lease) + read the progress + lay out the frame, on a project whose pool
// holds 1M items, alone and while three other annotators label as fast as
// the machine allows.
import Foundation
import QuorumCore
import QuorumLabelling
import QuorumPipeline
import QuorumPostgres
import QuorumStore
import QuorumTerminal

enum LabelLatencyBench {
    static func run(_ options: BenchOptions) throws -> JSONOut {
        let poolSize = try options.int("pool", default: 1_000_000)
        let roundSize = try options.int("round", default: 5_000)
        let cycles = try options.int("cycles", default: 2_000)
        // The other annotators' pause between answers (0 = flat out; people take seconds).
        let pause = UInt32(options.string("worker-pause-ms").flatMap { Int($0) } ?? 50)
        let workdir = options.string("workdir") ?? NSTemporaryDirectory()
        let dir = (workdir as NSString).appendingPathComponent("quorum-latency-\(getpid())")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)

        // Short texts from a fixed vocabulary, seeded; two labels tied to the words so a model can learn them.
        let words = ["late", "refund", "broken", "great", "tasty", "pizza", "delivery", "box", "driver", "cold", "fresh",
                     "order", "again", "never", "love", "slow", "quick", "kind", "rude", "price"]
        var rng = UInt64(42)
        func nextWord() -> String {
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            return words[Int(rng >> 33) % words.count]
        }
        func text(_ i: Int) -> String { (0..<8).map { _ in nextWord() }.joined(separator: " ") + " \(i)" }
        var pool = ""
        pool.reserveCapacity(poolSize * 64)
        for i in 0..<poolSize { pool += #"{"id":"p\#(i)","text":"\#(text(i))"}"# + "\n" }
        var seed = ""
        for i in 0..<2_000 {
            let t = text(i)
            seed += #"{"id":"s\#(i)","text":"\#(t)","label":"\#(t.contains("refund") ? "complaint" : "other")"}"# + "\n"
        }
        let poolPath = (dir as NSString).appendingPathComponent("pool.jsonl")
        let seedPath = (dir as NSString).appendingPathComponent("seed.jsonl")
        try pool.write(toFile: poolPath, atomically: false, encoding: .utf8)
        try seed.write(toFile: seedPath, atomically: false, encoding: .utf8)
        pool = ""

        let projectDir = (dir as NSString).appendingPathComponent("project")
        // --database URL: the project lives in a new PostgreSQL database on that server (dropped at the end).
        let server = options.string("database")
        let database = "quorum_latency_\(getpid())"
        let projectURL = try server.map { try PostgresURL($0).with(database: database).description }
        @Sendable func openStore() throws -> any ProjectStore {
            if let projectURL { return try PostgresStore.open(url: projectURL) }
            return try Project.open(projectDir)
        }
        if let server, let projectURL {
            try PostgresStore.executeForTesting(url: server, "CREATE DATABASE \(database)")
            _ = try PostgresStore.create(url: projectURL, name: "latency", labels: try LabelSet(["complaint", "other"]))
        } else {
            _ = try Project.create(projectDir, name: "latency", labels: ["complaint", "other"])
        }
        defer { if let server { try? PostgresStore.executeForTesting(url: server, "DROP DATABASE IF EXISTS \(database) WITH (FORCE)") } }
        let store = try openStore()
        var t = now()
        _ = try ImportService.run(store: store, path: poolPath, options: .init(kind: .pool))
        _ = try ImportService.run(store: store, path: seedPath, options: .init(kind: .seed))
        let importSeconds = now() - t
        printErr("imported \(poolSize) pool items in \(String(format: "%.1f", importSeconds)) s")
        t = now()
        _ = try TrainService.run(store: store, options: .init())
        let trainSeconds = now() - t
        printErr("trained and scored the pool in \(String(format: "%.1f", trainSeconds)) s")
        t = now()
        let round = try RoundService.start(store: store, options: .init(size: roundSize, overlap: 2, blindRate: 0.1)).round
        let roundSeconds = now() - t
        printErr("round start (\(roundSize) tasks) in \(String(format: "%.1f", roundSeconds)) s")
        // Only registered people may label.
        try store.write { w in
            for name in ["measured", "measured-busy", "worker0", "worker1", "worker2"] { try w.ensureAnnotator(name, role: "annotator") }
        }

        func summary(_ times: [Double]) -> JSONOut {
            let s = times.sorted()
            func q(_ p: Double) -> Double { s.isEmpty ? .nan : s[min(s.count - 1, Int(Double(s.count) * p))] * 1000 }
            return .object([("cycles", .int(s.count)), ("p50_ms", .double(q(0.5))), ("p95_ms", .double(q(0.95))),
                            ("p99_ms", .double(q(0.99))), ("max_ms", .double((s.last ?? .nan) * 1000)),
                            ("p99_vs_50ms_budget", .double(q(0.99) / 50))])
        }

        let alone = try cycleTimes(try LabellingService.session(store: store, annotator: "measured", round: round), count: cycles)
        printErr("alone: p99 \(String(format: "%.2f", summary(alone).p99)) ms")

        // Three more annotators, each with its own connection, labelling flat out.
        let busyCycles = cycles * 3 / 4
        let group = DispatchGroup()
        for w in 0..<3 {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                do {
                    let own = try openStore()
                    _ = try cycleTimes(try LabellingService.session(store: own, annotator: "worker\(w)", round: round), count: busyCycles,
                                       pauseMilliseconds: pause)
                } catch { printErr("worker \(w): \(error)") }
            }
        }
        let busyStore = try openStore()
        let busy = try cycleTimes(try LabellingService.session(store: busyStore, annotator: "measured-busy", round: round), count: busyCycles)
        group.wait()
        printErr("with 3 others (pause \(pause) ms): p99 \(String(format: "%.2f", summary(busy).p99)) ms")
        return .object([("benchmark", .string("label-latency")), ("pool", .int(poolSize)), ("round_tasks", .int(roundSize)),
                        ("import_seconds", .double(importSeconds)), ("train_seconds", .double(trainSeconds)),
                        ("round_start_seconds", .double(roundSeconds)),
                        ("alone", summary(alone)), ("with_3_concurrent_annotators", summary(busy)),
                        ("other_annotators_pause_ms", .int(Int(pause))),
                        ("load_average", .double(loadAverage()))])
    }
}

extension LabelLatencyBench {
    static let labels = ["complaint", "other"]

    static func cycleTimes(_ queue: any LabelQueue, count: Int, pauseMilliseconds: UInt32 = 0) throws -> [Double] {
        var times: [Double] = []
        times.reserveCapacity(count)
        var state = try queue.next()
        for i in 0..<count {
            guard case .task(let task) = state else { break }
            let start = now()
            _ = try queue.answer(task, .label(labels[i % 2]), note: nil, seconds: 1)
            state = try queue.next()
            let (done, remaining) = try queue.progress()
            if case .task(let next) = state {
                let body = next.text?.prefix { Screen.shownPrefix($0, columns: 80, rows: 24) }.text ?? next.content
                let frame = Frame(title: "Quorum · bench · round \(next.roundID) · item \(next.itemID)",
                                  body: body, suggestion: next.blind ? "Suggestion hidden" : "Suggestion: \(next.suggestion?.label ?? "-")",
                                  labels: ["[1] complaint", "[2] other"], keys: "Enter accept · s skip",
                                  progress: "done \(done) · left \(remaining)")
                _ = Screen.layout(frame, columns: 80, rows: 24, style: Style(enabled: true))
            }
            times.append(now() - start)
            if pauseMilliseconds > 0 { usleep(pauseMilliseconds * 1000) }
        }
        return times
    }
}

private extension JSONValue {
    var p99: Double {
        if case .object(let fields) = self, let v = fields.first(where: { $0.0 == "p99_ms" })?.1, case .double(let d) = v { return d }
        return .nan
    }
}
