import Testing
import QuorumImport

@Suite("JSONL errors")
struct JSONLErrorTests {
    /// Writes `lines` (joined by \n), reads, and returns the error; checks file and line.
    func error(_ lines: [String], line: Int, field: String, mapping: FieldMapping = FieldMapping(),
               sourceLocation: SourceLocation = #_sourceLocation) -> ItemFileError? {
        let (path, err) = jsonlError(lines.joined(separator: "\n") + "\n", mapping)
        #expect(err != nil, "expected an error", sourceLocation: sourceLocation)
        guard let err else { return nil }
        #expect(err.file == path, sourceLocation: sourceLocation)
        #expect(err.line == line, "\(err)", sourceLocation: sourceLocation)
        #expect(err.field == field, "\(err)", sourceLocation: sourceLocation)
        #expect(!err.hint.isEmpty, sourceLocation: sourceLocation)
        return err
    }

    let ok = #"{"id": "ok"}"#

    @Test func invalidUTF8() {
        let path = writeTemp("bad.jsonl", bytes: Array("{\"id\": \"a\"}\n{\"id\": \"b\", \"text\": \"ab".utf8) + [0xC3, 0x28] + Array("\"}\n".utf8))
        let err = firstError(path)
        #expect(err?.line == 2)
        #expect(err?.field == "encoding")
        #expect(err?.problem.contains("byte offset 23") == true)
        #expect(err?.hint.contains("UTF-8") == true)
        // Overlong encodings and UTF-8-encoded surrogates are invalid too.
        for bad: [UInt8] in [[0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0xFF]] {
            let p = writeTemp("bad.jsonl", bytes: Array("{\"text\": \"".utf8) + bad + Array("\"}".utf8))
            #expect(firstError(p)?.field == "encoding")
        }
    }

    @Test func malformedJSON() {
        _ = error([ok, #"{"id": "a"#], line: 2, field: "json")                       // unterminated string
        _ = error([ok, ok, #"{"id": "a"} x"#], line: 3, field: "json")                // trailing garbage
        _ = error([#"{"id" "a"}"#], line: 1, field: "json")                            // missing colon
        _ = error([#"{"id": "a\q"}"#], line: 1, field: "json")                         // bad escape
        _ = error([#"{"id": "a\u12"}"#], line: 1, field: "json")                       // short \u
        _ = error([#"{"id": "\ud83d"}"#], line: 1, field: "json")                      // lone high surrogate
        _ = error([#"{"id": "\ude00x"}"#], line: 1, field: "json")                     // lone low surrogate
        _ = error([#"{"id": "a",}"#], line: 1, field: "json")                          // trailing comma
        _ = error([#"{"id": "a" "b": 1}"#], line: 1, field: "json")                    // missing comma
        _ = error([#"{"m": [1, 2}"#], line: 1, field: "json")                          // unbalanced
        _ = error([#"{"m": 01}"#], line: 1, field: "json")                             // leading zero
        _ = error([#"{"m": 1.}"#], line: 1, field: "json")                             // bad fraction
        _ = error([#"{"m": tru}"#], line: 1, field: "json")                            // bad literal
        _ = error([#"{"m": 'x'}"#], line: 1, field: "json")                            // single quotes
        _ = error(["{\"m\": \"a\tb\"}"], line: 1, field: "json")                       // raw control char
        _ = error([#"{"m": {"a": 1,}}"#], line: 1, field: "json")                      // nested trailing comma
        _ = error([#"{"m": NaN}"#], line: 1, field: "json")                            // NaN outside a vector
        let missingColon = error([#"{"id": "a", "text" 5}"#], line: 1, field: "json")
        #expect(missingColon?.problem.contains("':'") == true)
        #expect(missingColon?.problem.contains("column 20") == true)
        let garbage = error([#"{"id": "a"}x"#], line: 1, field: "json")
        #expect(garbage?.problem.contains("column 12") == true)
    }

    @Test func notAnObject() {
        let err = error([ok, #"["a", "b"]"#], line: 2, field: "json")
        #expect(err?.problem.contains("an array") == true)
        _ = error(["42"], line: 1, field: "json")
        _ = error([#""just a string""#], line: 1, field: "json")
    }

    @Test func idType() {
        let err = error([ok, #"{"id": true}"#], line: 2, field: "id")
        #expect(err?.problem.contains("must be a string or an integer") == true)
        _ = error([#"{"id": 1.5}"#], line: 1, field: "id")
        _ = error([#"{"id": 1e3}"#], line: 1, field: "id")
        _ = error([#"{"id": ["a"]}"#], line: 1, field: "id")
        _ = error([#"{"key": {}}"#], line: 1, field: "key", mapping: FieldMapping(idField: "key"))
    }

    @Test func textAndLabelTypes() {
        _ = error([#"{"text": 5}"#], line: 1, field: "text")
        _ = error([#"{"text": ["a"]}"#], line: 1, field: "text")
        _ = error([#"{"label": true}"#], line: 1, field: "label")
        _ = error([#"{"label": 2.5}"#], line: 1, field: "label")
        _ = error([#"{"label": {"a": 1}}"#], line: 1, field: "label")
    }

    @Test func vectorProblems() {
        let str = error([ok, #"{"vector": [1, 2, 3, 4, 5, "6"]}"#], line: 2, field: "vector")
        #expect(str?.problem.contains("element 5 is a string") == true)
        _ = error([#"{"vector": "1 2 3"}"#], line: 1, field: "vector")
        _ = error([#"{"vector": [1, [2]]}"#], line: 1, field: "vector")
        _ = error([#"{"vector": [1, null]}"#], line: 1, field: "vector")
        let nan = error([#"{"vector": [0, 1, 2, NaN]}"#], line: 1, field: "vector")
        #expect(nan?.problem.contains("value 3 is NaN") == true)
        let inf = error([#"{"vector": [Infinity]}"#], line: 1, field: "vector")
        #expect(inf?.problem.contains("infinite") == true)
        let ninf = error([#"{"vector": [1, -Infinity]}"#], line: 1, field: "vector")
        #expect(ninf?.problem.contains("-Infinity") == true)
        let big = error([#"{"vector": [1e39]}"#], line: 1, field: "vector")
        #expect(big?.problem.contains("too large") == true)
        _ = error([#"{"emb": [1, "x"]}"#], line: 1, field: "emb", mapping: FieldMapping(vectorField: "emb"))
        _ = error([#"{"vector": [1, 2,]}"#], line: 1, field: "json")
        _ = error([#"{"vector": [1 2]}"#], line: 1, field: "json")
    }

    @Test func duplicateKeys() {
        let top = error([ok, #"{"id": "a", "text": "x", "id": "b"}"#], line: 2, field: "json")
        #expect(top?.problem.contains("\"id\"") == true)
        let nested = error([#"{"m": {"a": 1, "b": {"a": 1}, "a": 2}}"#], line: 1, field: "json")
        #expect(nested?.problem.contains("\"a\"") == true)
        // The same key in sibling or nested objects is fine.
        let (_, fine) = jsonlError(#"{"m": [{"a": 1}, {"a": 2}], "n": {"a": {"a": 1}}, "a": 0}"# + "\n")
        #expect(fine == nil)
        // Escaped spelling of the same key is still a duplicate.
        _ = error([#"{"lang": 1, "l\u0061ng": 2}"#], line: 1, field: "json")
    }

    @Test func fileProblems() {
        let missing = firstError("/nonexistent/dir/items.jsonl")
        #expect(missing == ItemFileError(file: "/nonexistent/dir/items.jsonl", line: 0, field: "file",
                                         problem: missing?.problem ?? "", hint: missing?.hint ?? ""))
        #expect(missing?.description.hasPrefix("/nonexistent/dir/items.jsonl: file: cannot open") == true)
        let unknown = firstError(writeTemp("items.txt", "{}"))
        #expect(unknown?.line == 0 && unknown?.field == "file")
        #expect(unknown?.hint.contains(".jsonl") == true && unknown?.hint.contains(".csv") == true)
        let dir = firstError(makeTempDirectory("folder.jsonl"))
        #expect(dir?.line == 0 && dir?.field == "file")
    }

    @Test func descriptionFormat() {
        let e = ItemFileError(file: "a.jsonl", line: 3, field: "vector", problem: "value 3 is NaN", hint: "fix it")
        #expect(e.description == "a.jsonl:3: vector: value 3 is NaN. fix it")
        let f = ItemFileError(file: "a.jsonl", line: 0, field: "file", problem: "cannot open", hint: "check")
        #expect(f.description == "a.jsonl: file: cannot open. check")
    }

    @Test func readingContinuesAfterAnError() throws {
        let path = writeTemp("c.jsonl", "{\"id\": \"a\"}\n{\"id\": true}\n{\"id\": \"c\"}\n")
        let reader = try ItemFileReader(path: path, mapping: FieldMapping())
        var rec = ItemRecord()
        #expect(try reader.next(into: &rec))
        #expect(throws: ItemFileError.self) { try reader.next(into: &rec) }
        #expect(try reader.next(into: &rec))
        #expect(rec.id == "c" && rec.line == 3)
    }

    @Test func extensionsAreRecognised() {
        #expect(ItemFileFormat.forPath("a/b.JSONL") == .jsonl)
        #expect(ItemFileFormat.forPath("b.ndjson") == .jsonl)
        #expect(ItemFileFormat.forPath("b.json-lines") == .jsonl)
        #expect(ItemFileFormat.forPath("b.csv") == .csv)
        #expect(ItemFileFormat.forPath("b.json") == nil)
        #expect(ItemFileFormat.forPath("dir.csv/b") == nil)
    }
}
