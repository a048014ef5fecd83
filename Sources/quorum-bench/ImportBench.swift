// Import throughput through the library's real path:
// Project.create, then ImportService.run on Project.open, in a fresh project per repeat.
import Foundation
import QuorumCore
import QuorumImport
import QuorumPipeline
import QuorumPostgres
import QuorumStore

enum ImportBench {
    static func run(_ options: BenchOptions) throws -> JSONOut {
        let file = try options.required("file")
        let repeats = try options.int("repeats", default: 3)
        let kindName = options.string("kind") ?? "pool"
        guard let kind = ItemKind(rawValue: kindName) else {
            throw BenchUsageError(message: "--kind must be pool, seed, test or gold")
        }
        let workdir = options.string("workdir") ?? FileManager.default.temporaryDirectory.path
        let fm = FileManager.default
        guard fm.fileExists(atPath: file) else { throw BenchUsageError(message: "no such file: \(file)") }
        let fileBytes = (try? fm.attributesOfItem(atPath: file)[.size] as? Int) ?? 0

        var importSeconds: [Double] = []
        var totalSeconds: [Double] = []
        var loads: [Double] = []
        var last: ImportService.Summary?
        // --database URL: the same import into a new PostgreSQL database on that
        // server per repeat (created and dropped here) instead of a SQLite file.
        let server = options.string("database")
        for r in 0..<repeats {
            let dir = workdir + "/quorum-bench-import-\(getpid())-\(r)"
            try? fm.removeItem(atPath: dir)
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? fm.removeItem(atPath: dir) }
            loads.append(loadAverage())
            let t0 = now()
            let store: any ProjectStore
            if let server {
                let database = "quorum_bench_\(getpid())_\(r)"
                try PostgresStore.executeForTesting(url: server, "CREATE DATABASE \(database)")
                store = try PostgresStore.create(url: try PostgresURL(server).with(database: database).description,
                                                 name: "bench", labels: try LabelSet(["pos", "neg"]))
            } else {
                _ = try Project.create(dir, name: "bench", labels: ["pos", "neg"])
                store = try Project.open(dir)
            }
            defer {
                (store as? PostgresStore)?.close()
                if let server { try? PostgresStore.executeForTesting(url: server, "DROP DATABASE IF EXISTS quorum_bench_\(getpid())_\(r)") }
            }
            let t1 = now()
            let summary = try ImportService.run(store: store, path: file,
                                                options: .init(kind: kind, mapping: FieldMapping()))
            let t2 = now()
            importSeconds.append(t2 - t1)
            totalSeconds.append(t2 - t0)
            last = summary
            printErr("import \(r + 1)/\(repeats): \(summary.inserted) items in \(String(format: "%.3f", t2 - t1)) s")
        }
        guard let summary = last else { throw BenchUsageError(message: "--repeats must be at least 1") }
        let items = summary.read
        let best = importSeconds.min()!
        return .object([
            ("benchmark", .string("import")), ("path", .string("library: Project.create + ImportService.run")),
            ("store", .string(server == nil ? "sqlite" : "postgresql")),
            ("file", .string(file)), ("file_bytes", .int(fileBytes)), ("kind", .string(kindName)),
            ("items", .int(items)), ("inserted", .int(summary.inserted)), ("duplicates", .int(summary.duplicates)),
            ("repeats", .int(repeats)),
            ("import_seconds", .array(importSeconds.map { .double($0) })),
            ("create_and_import_seconds", .array(totalSeconds.map { .double($0) })),
            ("best_seconds", .double(best)), ("median_seconds", .double(median(importSeconds))),
            ("items_per_second_best", .double(Double(items) / best)),
            ("items_per_second_median", .double(Double(items) / median(importSeconds))),
            ("mb_per_second_best", .double(Double(fileBytes) / best / 1e6)),
            ("load_average_1m", .array(loads.map { .double($0) })),
        ])
    }

    /// Parse-only throughput (ItemFileReader, no hashing, no SQLite): how much
    /// of the import time is reading the file.
    static func parseOnly(_ options: BenchOptions) throws -> JSONOut {
        let file = try options.required("file")
        let repeats = try options.int("repeats", default: 3)
        var seconds: [Double] = []
        var items = 0
        var checksum = 0
        for _ in 0..<repeats {
            let t0 = now()
            let reader = try ItemFileReader(path: file, mapping: FieldMapping())
            var record = ItemRecord()
            items = 0
            while try reader.next(into: &record) {
                items += 1
                checksum &+= (record.text?.utf8.count ?? 0) &+ record.vector.count
            }
            seconds.append(now() - t0)
        }
        let best = seconds.min()!
        return .object([
            ("benchmark", .string("parse")), ("path", .string("ItemFileReader.next only")), ("file", .string(file)),
            ("items", .int(items)), ("checksum", .int(checksum)), ("repeats", .int(repeats)),
            ("seconds", .array(seconds.map { .double($0) })), ("best_seconds", .double(best)),
            ("items_per_second_best", .double(Double(items) / best)),
        ])
    }
}
