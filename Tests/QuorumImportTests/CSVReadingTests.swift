import Testing
import QuorumImport

@Suite("CSV reading")
struct CSVReadingTests {
    @Test func quotingAndLineNumbers() throws {
        let path = writeTemp("items.csv", #"""
            id,text,label,lang
            a1,"hello, world",pos,en
            a2,"she said ""hi""",neg,
            a3,"multi
            line
            text",pos,fr

            a4,plain,,"de"
            """#)
        let reader = try ItemFileReader(path: path, mapping: FieldMapping())
        #expect(reader.format == .csv)
        #expect(reader.columns == ["id", "text", "label", "lang"])
        var all: [ItemRecord] = []
        var rec = ItemRecord()
        while try reader.next(into: &rec) { all.append(rec) }
        #expect(all.map(\.id) == ["a1", "a2", "a3", "a4"])
        #expect(all.map(\.line) == [2, 3, 4, 8])
        #expect(all.map(\.text) == ["hello, world", "she said \"hi\"", "multi\nline\ntext", "plain"])
        #expect(all.map(\.label) == ["pos", "neg", "pos", nil])
        #expect(all[0].meta.count == 1 && all[0].meta[0].key == "lang" && all[0].meta[0].json == "\"en\"")
        #expect(all[1].meta.isEmpty)
        #expect(all[3].meta.first?.json == "\"de\"")
        #expect(all.allSatisfy { !$0.hasVector })
    }

    @Test func crlfBOMAndMetaEscaping() throws {
        let body = "id,note\r\n1,\"say \"\"x\"\"\\y\"\r\n\r\n2,\"two\r\nlines\"\r\n3,last"
        let path = writeTemp("items.csv", bytes: [0xEF, 0xBB, 0xBF] + Array(body.utf8))
        let r = try readAll(path)
        #expect(r.map(\.id) == ["1", "2", "3"])
        #expect(r.map(\.line) == [2, 4, 6])
        #expect(r[0].meta.first?.json == #""say \"x\"\\y""#)
        #expect(r[1].meta.first?.json == #""two\r\nlines""#)
        #expect(r[2].meta.first?.json == "\"last\"")
    }

    @Test func globVectorColumns() throws {
        let path = writeTemp("g.csv", """
            p0,p1,p2,label,p10,px,q1
            1,2.5,-3,cat,1e2,a,b
             4 , .5,6.,dog,0,c,d
            """)
        let r = try readAll(path, FieldMapping(vectorField: "p*"))
        #expect(r.count == 2)
        #expect(r[0].vector == [1, 2.5, -3, 100])
        #expect(r[1].vector == [4, 0.5, 6, 0])
        #expect(r[0].hasVector)
        #expect(r[0].label == "cat")
        #expect(r[0].id == nil)
        #expect(r[0].meta.map(\.key) == ["px", "q1"])
    }

    @Test func singleVectorColumn() throws {
        let path = writeTemp("s.csv", """
            id,vector
            a,"[1, 2, 3]"
            b,1 2 3
            c,1;2;-3.5
            d,
            e,[]
            f,"1,2"
            """)
        let r = try readAll(path)
        #expect(r.map(\.id) == ["a", "b", "c", "d", "e", "f"])
        #expect(r[0].vector == [1, 2, 3] && r[1].vector == [1, 2, 3] && r[2].vector == [1, 2, -3.5])
        #expect(!r[3].hasVector)
        #expect(r[4].hasVector && r[4].vector.isEmpty)
        #expect(r[5].vector == [1, 2])
        #expect(r[0].meta.isEmpty)
    }

    @Test func metaFieldsSelectColumns() throws {
        let path = writeTemp("m.csv", "id,a,b,c\n1,x,y,z\n")
        let r = try readAll(path, FieldMapping(metaFields: ["c", "a"]))
        #expect(r[0].meta.map(\.key) == ["c", "a"])
        let missing = firstError(path, FieldMapping(metaFields: ["nope"]))
        #expect(missing?.line == 1 && missing?.field == "columns")
    }

    @Test func emptyFilesYieldNothing() throws {
        #expect(try readAll(writeTemp("e.csv", "")).isEmpty)
        #expect(try readAll(writeTemp("e.csv", "id,text\n")).isEmpty)
        #expect(try readAll(writeTemp("e.csv", "id,text\n\n  \n")).isEmpty)
    }

    @Test func raggedRows() {
        let path = writeTemp("r.csv", "a,b,c,d,e\n1,2,3,4,5\n\"x\ny\",2,3\n")
        let err = firstError(path)
        #expect(err?.file == path)
        #expect(err?.line == 3)
        #expect(err?.field == "columns")
        #expect(err?.problem == "row has 3 values but the header has 5 columns")
        let more = firstError(writeTemp("r.csv", "a,b\n1,2,3\n"))
        #expect(more?.line == 2 && more?.field == "columns")
    }

    @Test func nonFiniteAndNonNumericCells() {
        let glob = FieldMapping(vectorField: "p*")
        let nan = firstError(writeTemp("n.csv", "p0,p1,label\n1,2,a\n1,nan,b\n"), glob)
        #expect(nan?.line == 3 && nan?.field == "p1")
        #expect(nan?.problem.contains("NaN") == true)
        let inf = firstError(writeTemp("n.csv", "p0,p1\n-Inf,2\n"), glob)
        #expect(inf?.line == 2 && inf?.field == "p0" && inf?.problem.contains("infinite") == true)
        let word = firstError(writeTemp("n.csv", "p0,p1\n1,abc\n"), glob)
        #expect(word?.field == "p1" && word?.problem.contains("not a number") == true)
        let empty = firstError(writeTemp("n.csv", "p0,p1\n1,\n"), glob)
        #expect(empty?.field == "p1" && empty?.problem.contains("empty") == true)
        let big = firstError(writeTemp("n.csv", "p0,p1\n1,1e39\n"), glob)
        #expect(big?.field == "p1" && big?.problem.contains("too large") == true)
        let single = firstError(writeTemp("n.csv", "id,vector\na,1 2\nb,\"[1, NAN, 2]\"\n"))
        #expect(single?.line == 3 && single?.field == "vector" && single?.problem.contains("NaN") == true)
        let open = firstError(writeTemp("n.csv", "id,vector\na,[1 2\n"))
        #expect(open?.line == 2 && open?.field == "vector")
    }

    @Test func headerProblems() {
        let dup = firstError(writeTemp("h.csv", "id,text,id\n1,2,3\n"))
        #expect(dup?.line == 1 && dup?.field == "columns" && dup?.problem.contains("\"id\"") == true)
        let blank = firstError(writeTemp("h.csv", "id,,text\n1,2,3\n"))
        #expect(blank?.line == 1 && blank?.field == "columns")
        let noGlob = firstError(writeTemp("h.csv", "id,x0\n1,2\n"), FieldMapping(vectorField: "p*"))
        #expect(noGlob?.line == 1 && noGlob?.field == "columns")
    }

    @Test func quotingProblems() {
        let open = firstError(writeTemp("q.csv", "id,text\n1,\"never closed\n2,x\n"))
        #expect(open?.line == 2 && open?.field == "csv")
        let after = firstError(writeTemp("q.csv", "id,text\n1,ok\n2,\"a\"b\n"))
        #expect(after?.line == 3 && after?.field == "csv")
    }

    @Test func invalidUTF8InsideMultilineCell() {
        let bytes = Array("id,text\n1,\"ab\ncd".utf8) + [0xFE] + Array("\"\n".utf8)
        let err = firstError(writeTemp("u.csv", bytes: bytes))
        #expect(err?.line == 3)
        #expect(err?.field == "encoding")
        #expect(err?.problem.contains("byte offset 2") == true)
    }

    @Test func readingContinuesAfterErrors() throws {
        let bytes = Array("id,text\n1,\"a\"b\n2,ok\n3,x,y\n4,\"c".utf8) + [0xFF] + Array("\"\n5,fine\n6,\"open\n7,z\n".utf8)
        let reader = try ItemFileReader(path: writeTemp("c.csv", bytes: bytes), mapping: FieldMapping())
        var rec = ItemRecord()
        var seen: [String] = []
        for _ in 0..<20 {   // bounded: a reader that failed to advance must not loop forever
            do {
                if try !reader.next(into: &rec) { break }
                seen.append("\(rec.line):\(rec.id ?? "-")")
            } catch {
                seen.append("\(error.line):\(error.field)")
            }
        }
        #expect(seen == ["2:csv", "3:2", "4:columns", "5:encoding", "6:5", "7:csv"])
    }
}
