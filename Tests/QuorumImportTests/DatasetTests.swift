import Testing
import QuorumImport

/// Reads the real datasets in /work/shared/datasets; skipped when they are absent.
@Suite("Real datasets")
struct DatasetTests {
    @Test(.enabled(if: sharedDataset("digits.jsonl") != nil, "digits.jsonl is not available"))
    func digitsJSONL() throws {
        let r = try readAll(sharedDataset("digits.jsonl")!)
        #expect(r.count == 1797)
        #expect(r.allSatisfy { $0.hasVector && $0.vector.count == 64 })
        #expect(Array(r[0].vector.prefix(4)) == [0, 0, 5, 13])
        #expect(r[0].id == "digit-0" && r[0].label == "0" && r[0].line == 1)
        #expect(Set(r.compactMap(\.label)) == Set((0...9).map(String.init)))
        #expect(r.allSatisfy { $0.vector.allSatisfy { $0 >= 0 && $0 <= 16 } })
    }

    @Test(.enabled(if: sharedDataset("digits.csv") != nil, "digits.csv is not available"))
    func digitsCSV() throws {
        let r = try readAll(sharedDataset("digits.csv")!, FieldMapping(vectorField: "p*"))
        #expect(r.count == 1797)
        #expect(r.allSatisfy { $0.hasVector && $0.vector.count == 64 && $0.meta.isEmpty })
        #expect(Array(r[0].vector.prefix(4)) == [0, 0, 5, 13])
        #expect(r[0].label == "0" && r[0].line == 2)
        #expect(Set(r.compactMap(\.label)) == Set((0...9).map(String.init)))
        // Same data as the JSONL file, in the same order.
        if let jsonl = sharedDataset("digits.jsonl") {
            let j = try readAll(jsonl)
            #expect(j.map(\.vector) == r.map(\.vector))
            #expect(j.map(\.label) == r.map(\.label))
        }
    }

    @Test(.enabled(if: sharedDataset("rotten_tomatoes.jsonl") != nil, "rotten_tomatoes.jsonl is not available"))
    func rottenTomatoes() throws {
        let r = try readAll(sharedDataset("rotten_tomatoes.jsonl")!)
        #expect(r.count == 12808)
        #expect(r.allSatisfy { $0.text != nil && $0.id != nil && !$0.hasVector })
        #expect(r.allSatisfy { rec in rec.meta.contains { $0.key == "movie" } })
        #expect(r[0].id == "rt-0" && r[0].text == "A three-hour cinema master class." && r[0].label == "fresh")
        #expect(metaDict(r[0])["movie"] == "\"a_grin_without_a_cat\"")
        #expect(Set(r.compactMap(\.label)) == ["fresh", "rotten"])
        #expect(r.filter { $0.label == "fresh" }.count == 7403)
    }
}
