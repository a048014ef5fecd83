import Foundation
import QuorumImport

/// Removes test directories left by earlier runs (older than an hour, so concurrent runs are safe).
private let staleTempDirectoriesRemoved: Bool = {
    let fm = FileManager.default
    let tmp = fm.temporaryDirectory
    let cutoff = Date().addingTimeInterval(-3600)
    for name in (try? fm.contentsOfDirectory(atPath: tmp.path)) ?? [] where name.hasPrefix("quorum-import-tests-") {
        let url = tmp.appendingPathComponent(name)
        if let modified = (try? fm.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date, modified < cutoff {
            try? fm.removeItem(at: url)
        }
    }
    return true
}()

/// Writes `bytes` to a fresh file named `name` in a unique temporary directory.
func writeTemp(_ name: String, bytes: [UInt8]) -> String {
    _ = staleTempDirectoriesRemoved
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("quorum-import-tests-\(UUID().uuidString)", isDirectory: true)
    try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let url = dir.appendingPathComponent(name)
    try! Data(bytes).write(to: url)
    return url.path
}

func writeTemp(_ name: String, _ text: String) -> String {
    writeTemp(name, bytes: Array(text.utf8))
}

/// Reads every record (copies, since the reader reuses one).
func readAll(_ path: String, _ mapping: FieldMapping = FieldMapping()) throws(ItemFileError) -> [ItemRecord] {
    let reader = try ItemFileReader(path: path, mapping: mapping)
    var record = ItemRecord()
    var all: [ItemRecord] = []
    while try reader.next(into: &record) { all.append(record) }
    return all
}

/// The first error met while opening or reading the file, or nil when it reads cleanly.
func firstError(_ path: String, _ mapping: FieldMapping = FieldMapping()) -> ItemFileError? {
    do {
        _ = try readAll(path, mapping)
        return nil
    } catch {
        return error
    }
}

/// Reads a one-file JSONL document and returns the first error.
func jsonlError(_ text: String, _ mapping: FieldMapping = FieldMapping()) -> (path: String, error: ItemFileError?) {
    let path = writeTemp("items.jsonl", text)
    return (path, firstError(path, mapping))
}

/// Metadata as a dictionary for easy comparison.
func metaDict(_ record: ItemRecord) -> [String: String] {
    Dictionary(uniqueKeysWithValues: record.meta.map { ($0.key, $0.json) })
}

/// /work/shared/datasets/NAME, located relative to this source file; nil when absent.
func sharedDataset(_ name: String, filePath: String = #filePath) -> String? {
    let url = URL(fileURLWithPath: filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent()   // QuorumImportTests
        .deletingLastPathComponent()   // Tests
        .deletingLastPathComponent()   // main
        .deletingLastPathComponent()   // work
        .appendingPathComponent("shared/datasets/\(name)")
    return FileManager.default.isReadableFile(atPath: url.path) ? url.path : nil
}

/// Creates a directory named `name` in a unique temporary directory.
func makeTempDirectory(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("quorum-import-tests-\(UUID().uuidString)/\(name)", isDirectory: true)
    try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.path
}

/// Deletes the temporary directory holding `path` (made by `writeTemp`).
func removeTemp(_ path: String) {
    try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
}
