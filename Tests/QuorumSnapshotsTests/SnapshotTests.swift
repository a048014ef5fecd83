import Testing
import QuorumCore
@testable import QuorumSnapshots

@Suite struct SnapshotCodecTests {
    let rows = [
        SnapshotRow(id: "b", label: "cat", source: .consensus, confidence: 0.6666666666666666, split: .train,
                    answers: [RowAnswer(annotator: "ann", label: "cat"), RowAnswer(annotator: "bo", label: "dog")]),
        SnapshotRow(id: "a", label: "dog, \"big\"", source: .seed, confidence: 1, split: .dev, answers: []),
    ]

    @Test func jsonlIsCanonicalAndSortedByID() {
        let text = SnapshotCodec.jsonl(rows)
        #expect(text == """
            {"id":"a","label":"dog, \\"big\\"","source":"seed","confidence":1,"split":"dev","answers":[]}
            {"id":"b","label":"cat","source":"consensus","confidence":0.6666666666666666,"split":"train","answers":[{"annotator":"ann","label":"cat"},{"annotator":"bo","label":"dog"}]}

            """)
        #expect(text == SnapshotCodec.jsonl(rows.reversed()), "row order in does not matter")
    }

    @Test func csvQuotesWhereNeeded() {
        let expected = "id,label,source,confidence,split,answers\n"
            + "a,\"dog, \"\"big\"\"\",seed,1,dev,\n"
            + "b,cat,consensus,0.6666666666666666,train,ann=cat;bo=dog\n"
        #expect(SnapshotCodec.csv(rows) == expected)
    }

    @Test func hashChangesWithAnyRowField() {
        let h = SnapshotCodec.contentHash(rows)
        #expect(h.count == 64)
        #expect(h == SnapshotCodec.contentHash(rows))
        var edited = rows
        edited[0].confidence = 0.7
        #expect(SnapshotCodec.contentHash(edited) != h)
        edited = rows
        edited[1].answers = [RowAnswer(annotator: "x", label: "dog")]
        #expect(SnapshotCodec.contentHash(edited) != h)
    }

    @Test func splitIsStableAndRoughly80_10_10() {
        #expect(SnapshotCodec.split(forID: "item-1") == SnapshotCodec.split(forID: "item-1"))
        var counts: [Split: Int] = [:]
        for i in 0..<10_000 { counts[SnapshotCodec.split(forID: "item-\(i)"), default: 0] += 1 }
        #expect((7_700...8_300).contains(counts[.train] ?? 0))
        #expect((800...1_200).contains(counts[.dev] ?? 0))
        #expect((800...1_200).contains(counts[.test] ?? 0))
    }

    @Test func diffFindsAddedRemovedRelabelled() {
        func row(_ id: String, _ label: String) -> SnapshotRow {
            SnapshotRow(id: id, label: label, source: .consensus, confidence: 1, split: .train, answers: [])
        }
        let d = SnapshotDiff(old: [row("a", "x"), row("b", "x"), row("c", "y")], new: [row("b", "y"), row("c", "y"), row("d", "x")])
        #expect(d.added == ["d"])
        #expect(d.removed == ["a"])
        #expect(d.relabelled == [SnapshotDiff.Relabel(id: "b", from: "x", to: "y")])
        #expect(d.unchanged == 1)
    }
}
