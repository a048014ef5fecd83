import Testing
import QuorumImport

@Suite("JSONL reading")
struct JSONLReadingTests {
    @Test func textAndMetadata() throws {
        let path = writeTemp("items.jsonl", """
            {"id": "a1", "text": "first item", "label": "pos", "lang": "en", "score": 3, "ok": true, "none": null}
            {"id":"a2","text":"second","tags":["x", "y"],"info":{"b": 1, "a": [1, 2.5e3, {"z": false}]}}
            """)
        let records = try readAll(path)
        #expect(records.count == 2)
        let a = records[0]
        #expect(a.line == 1)
        #expect(a.id == "a1")
        #expect(a.text == "first item")
        #expect(a.label == "pos")
        #expect(!a.hasVector)
        #expect(a.meta.map(\.key) == ["lang", "score", "ok", "none"])
        #expect(metaDict(a) == ["lang": "\"en\"", "score": "3", "ok": "true", "none": "null"])
        let b = records[1]
        #expect(b.line == 2)
        #expect(b.label == nil)
        #expect(metaDict(b) == ["tags": "[\"x\",\"y\"]", "info": "{\"b\":1,\"a\":[1,2.5e3,{\"z\":false}]}"])
    }

    @Test func metaFieldsFilterAndCustomMapping() throws {
        let path = writeTemp("items.ndjson", """
            {"key": 7, "body": "hello", "y": "cat", "emb": [1, 2], "lang": "en", "source": "web"}
            """)
        let mapping = FieldMapping(idField: "key", textField: "body", vectorField: "emb", labelField: "y", metaFields: ["source"])
        let r = try readAll(path, mapping)
        #expect(r.count == 1)
        #expect(r[0].id == "7")
        #expect(r[0].text == "hello")
        #expect(r[0].label == "cat")
        #expect(r[0].vector == [1, 2])
        #expect(r[0].meta.count == 1)
        #expect(r[0].meta.first?.key == "source")
        #expect(r[0].meta.first?.json == "\"web\"")
    }

    @Test func vectors() throws {
        let path = writeTemp("v.jsonl", """
            {"id": 1, "vector": [0, -1, 2.5, -0.125, 1e3, 1.5E-2, 3.4028234e38, 123456789.123, 0.1]}
            {"id": 2, "vector": []}
            {"id": 3, "vector": null}
            {"id": 4}
            """)
        let r = try readAll(path)
        #expect(r.count == 4)
        #expect(r[0].hasVector)
        #expect(r[0].vector == [0, -1, 2.5, -0.125, 1000, 0.015, 3.4028234e38, Float(123456789.123), 0.1])
        #expect(r[1].hasVector && r[1].vector.isEmpty)
        #expect(!r[2].hasVector && r[2].vector.isEmpty)
        #expect(!r[3].hasVector)
    }

    @Test func decimalFastPathMatchesStrtof() throws {
        let values = ["0.1", "0.2", "0.3", "-0.7", "16777217", "0.123456789", "9007199254740993", "1.00000006", "2.7182818284590452", "0.000001"]
        let path = writeTemp("v.jsonl", "{\"vector\": [\(values.joined(separator: ", "))]}\n")
        let r = try readAll(path)
        #expect(r[0].vector == values.map { Float($0)! })
    }

    @Test func integerIDsAndLabels() throws {
        let path = writeTemp("i.jsonl", """
            {"id": 42, "label": 3}
            {"id": -7, "label": null}
            {"id": 123456789012345678901234567890, "label": "3"}
            """)
        let r = try readAll(path)
        #expect(r.map(\.id) == ["42", "-7", "123456789012345678901234567890"])
        #expect(r.map(\.label) == ["3", nil, "3"])
    }

    @Test func escapesUnicodeAndSurrogates() throws {
        let line = #"{"id": "q\"uote\\back\/slash", "text": "tab\there\nnew \u00e9t\u00C9 \ud83d\ude00 日本 😀", "k\u0065y": "\u001F\"x"}"#
        let path = writeTemp("e.jsonl", line + "\n")
        let r = try readAll(path)
        #expect(r.count == 1)
        #expect(r[0].id == "q\"uote\\back/slash")
        #expect(r[0].text == "tab\there\nnew étÉ 😀 日本 😀")
        #expect(r[0].meta.first?.key == "key")
        #expect(r[0].meta.first?.json == #""\u001f\"x""#)
    }

    @Test func metaStringsAreCanonical() throws {
        let path = writeTemp("m.jsonl", #"{"a": "\u00e9\/\u0041", "b": "plain é", "c": {"n\"k": "\t"}, "d": -0.50}"# + "\n")
        let r = try readAll(path)
        #expect(metaDict(r[0]) == ["a": "\"é/A\"", "b": "\"plain é\"", "c": #"{"n\"k":"\t"}"#, "d": "-0.50"])
    }

    @Test func blankLinesCRLFAndBOM() throws {
        var bytes: [UInt8] = [0xEF, 0xBB, 0xBF]
        bytes += Array("{\"id\": \"a\"}\r\n\r\n   \t \r\n{\"id\": \"b\", \"text\": \"x\"}\r\n\n{\"id\": \"c\"}".utf8)
        let path = writeTemp("b.jsonl", bytes: bytes)
        let r = try readAll(path)
        #expect(r.map(\.id) == ["a", "b", "c"])
        #expect(r.map(\.line) == [1, 4, 6])
        #expect(r[1].text == "x")
    }

    @Test func emptyAndBlankFilesYieldNothing() throws {
        #expect(try readAll(writeTemp("e.jsonl", "")).isEmpty)
        #expect(try readAll(writeTemp("e.jsonl", "\n  \n\r\n")).isEmpty)
        #expect(try readAll(writeTemp("e.jsonl", bytes: [0xEF, 0xBB, 0xBF])).isEmpty)
    }

    @Test func recordIsReusedAndCleared() throws {
        let path = writeTemp("r.jsonl", """
            {"id": "a", "text": "t", "label": "l", "vector": [1, 2, 3], "m": 1}
            {"id": "b"}
            """)
        let reader = try ItemFileReader(path: path, mapping: FieldMapping())
        #expect(reader.format == .jsonl)
        var rec = ItemRecord()
        #expect(try reader.next(into: &rec))
        #expect(rec.vector == [1, 2, 3])
        #expect(try reader.next(into: &rec))
        #expect(rec.id == "b" && rec.text == nil && rec.label == nil && !rec.hasVector && rec.vector.isEmpty && rec.meta.isEmpty)
        #expect(try !reader.next(into: &rec))
        #expect(reader.bytesRead == reader.totalBytes)
    }

    @Test func longLinesAcrossChunkBoundaries() throws {
        // Lines far longer than one read chunk, and many lines straddling chunk boundaries.
        let big = String(repeating: "x", count: 9_000_000)
        var text = "{\"id\": \"big\", \"text\": \"\(big)\"}\n"
        for i in 0..<50_000 { text += "{\"id\": \(i), \"vector\": [\(i), 0.5]}\n" }
        let path = writeTemp("long.jsonl", text)
        defer { removeTemp(path) }
        let r = try readAll(path)
        #expect(r.count == 50_001)
        #expect(r[0].text?.utf8.count == 9_000_000)
        #expect(r[50_000].id == "49999" && r[50_000].vector == [49999, 0.5] && r[50_000].line == 50_001)
    }
}
