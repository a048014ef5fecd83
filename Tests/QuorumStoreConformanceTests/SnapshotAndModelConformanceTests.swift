import Foundation
import QuorumCore
import QuorumStore
import Testing

/// Snapshots (immutable rows), models, predictions, consensus and rulings, on every backend.
@Suite struct SnapshotAndModelConformanceTests {
    typealias F = Fixture

    static func info(_ number: Int, hash: String = "h") -> SnapshotInfo {
        var info = SnapshotInfo(number: number, parent: number > 1 ? number - 1 : nil, hash: hash, items: 3, createdAt: "2026-01-01T00:00:00.000Z",
                                createdBy: "lead", message: "first", modelVersion: nil, consensusMethod: "majority", rounds: [1, 2])
        info.auditSeq = 7
        info.auditHash = "abc"
        return info
    }

    static let rows = [
        SnapshotRow(id: "b", label: "x", source: .consensus, confidence: 0.75, split: .train,
                    answers: [RowAnswer(annotator: "ann", label: "x"), RowAnswer(annotator: "bo", label: "y")]),
        SnapshotRow(id: "B", label: "y", source: .auto, confidence: 0.99, split: .dev, answers: []),
        SnapshotRow(id: "é", label: "x", source: .seed, confidence: 1, split: .test, answers: []),
        SnapshotRow(id: "10", label: "x", source: .seed, confidence: 1, split: .train, answers: []),
        SnapshotRow(id: "9", label: "y", source: .seed, confidence: 1, split: .train, answers: []),
    ]

    @Test(arguments: Backend.available)
    func snapshotRowsReadBackSortedByIdBytes(backend: Backend) throws {
        try backend.withProject { store, _ in
            try store.write { w in try w.insertSnapshot(Self.info(1), rows: Self.rows, rowHashes: Self.rows.map { "h-\($0.id)" }) }
            try store.read { r throws in
                #expect(try r.snapshotRows(number: 1).map(\.id) == ["10", "9", "B", "b", "é"])
                #expect(try r.snapshotRows(number: 1).first { $0.id == "b" } == Self.rows[0])
                #expect(try r.snapshotRowHashes(number: 1) == Dictionary(uniqueKeysWithValues: Self.rows.map { ($0.id, "h-\($0.id)") }))
                let info = try #require(try r.snapshot(number: 1))
                #expect(info == Self.info(1) && info.auditSeq == 7 && info.auditHash == "abc")
                #expect(try r.snapshot(number: 2) == nil && r.snapshotRows(number: 2).isEmpty)
                #expect(try r.counts().snapshots == 1)
            }
        }
    }

    /// A snapshot is written once: its number cannot be written again, and its
    /// rows can be neither changed nor removed.
    @Test(arguments: Backend.available)
    func snapshotsAreImmutable(backend: Backend) throws {
        try backend.withProject { store, place in
            try store.write { w in try w.insertSnapshot(Self.info(1), rows: Self.rows, rowHashes: Self.rows.map(\.id)) }
            #expect(throws: (any Error).self) {
                try store.write { w in try w.insertSnapshot(Self.info(1, hash: "other"), rows: [], rowHashes: []) }
            }
            #expect(throws: (any Error).self) { try place.tamper("UPDATE snapshot_rows SET label = 'z' WHERE item_id = 'b'") }
            #expect(throws: (any Error).self) { try place.tamper("DELETE FROM snapshot_rows WHERE snapshot = 1") }
            try store.read { r throws in
                #expect(try r.snapshot(number: 1)?.hash == "h")
                #expect(try r.snapshotRows(number: 1).map(\.label) == ["x", "y", "y", "x", "x"])
            }
            try store.write { w in try w.insertSnapshot(Self.info(2), rows: Array(Self.rows.prefix(1)), rowHashes: ["b"]) }
            #expect(try store.read { try $0.snapshots() }.map(\.number) == [1, 2])
            #expect(try store.read { try $0.snapshot(number: 2)?.parent } == 1)
        }
    }

    @Test(arguments: Backend.available)
    func modelsPredictionsAndPromotion(backend: Backend) throws {
        try backend.withProject { store, _ in
            func model(_ id: String, live: Bool, shadow: Bool = false) -> ModelVersion {
                ModelVersion(id: id, createdAt: "2026-01-0\(id.dropFirst())", kind: "logistic-regression", settingsJSON: "{\"c\":1}",
                             trainedOn: 10, metricsJSON: "{}", state: [0, 255, 7, 0], isLive: live, isShadow: shadow)
            }
            try store.write { w throws in
                _ = try w.insert(F.item("a", "first"))
                _ = try w.insert(F.item("b", "second"))
                #expect(try w.nextModelID() == "m1")
                try w.insertModel(model("m1", live: true))
                #expect(try w.nextModelID() == "m2")
                try w.insertModel(model("m2", live: false, shadow: true))
                let measures = PredictionMeasures(label: 1, confidence: 0.625, margin: 0.25, entropy: 0.5, voteEntropy: 0.125,
                                                  meanKL: 0.0625, mutualInformation: 0.03125)
                try w.insertPredictions(model: "m1", [Prediction(itemKey: 1, probabilities: [0.375, 0.625], measures: measures),
                                                      Prediction(itemKey: 2, probabilities: [0.9, 0.1])])
                // Stored again: the newer prediction replaces the older (the last of a list wins).
                try w.insertPredictions(model: "m1", [Prediction(itemKey: 2, probabilities: [0.5, 0.5]),
                                                      Prediction(itemKey: 2, probabilities: [0.8, 0.2])])
            }
            try store.read { r throws in
                #expect(try r.liveModel() == model("m1", live: true) && r.liveModelID() == "m1")
                #expect(try r.shadowModel()?.id == "m2")
                let predictions = try r.predictions(model: "m1")
                #expect(predictions[1]?.probabilities == [0.375, 0.625] && predictions[1]?.measures?.mutualInformation == 0.03125)
                #expect(predictions[2] == Prediction(itemKey: 2, probabilities: [0.8, 0.2]))
                #expect(try r.predictions(model: "m2").isEmpty)
            }
            try store.write { w in try w.promoteModel("m2") }
            try store.read { r throws in
                #expect(try r.models().map(\.id) == ["m1", "m2"])
                #expect(try r.models().map(\.isLive) == [false, true] && r.models().map(\.isShadow) == [false, false])
                #expect(try r.shadowModel() == nil)
            }
            try store.write { w in try w.insertModel(model("m3", live: true)) }
            #expect(try store.read { try $0.models().map(\.isLive) } == [false, false, true])
        }
    }

    @Test(arguments: Backend.available)
    func consensusAndRulingsAreReplacedNotDuplicated(backend: Backend) throws {
        try backend.withProject { store, _ in
            try store.write { w throws in
                for id in ["a", "b", "c"] { _ = try w.insert(F.item(id, "text \(id)")) }
                try w.ensureAnnotator("judge", role: "adjudicator")
                try w.upsertConsensus([ConsensusRecord(itemKey: 1, label: "a", confidence: 0.9, method: "majority", answers: 3, isDispute: false),
                                       ConsensusRecord(itemKey: 2, label: nil, confidence: 0.5, method: "majority", answers: 2, isDispute: true)])
                try w.upsertConsensus([ConsensusRecord(itemKey: 2, label: "b", confidence: 0.7, method: "dawid-skene", answers: 3, isDispute: false)])
                try w.insertAdjudication(itemKey: 3, label: "a", adjudicator: "judge")
                try w.insertAdjudication(itemKey: 1, label: "b", adjudicator: "judge")
                try w.insertAdjudication(itemKey: 3, label: "b", adjudicator: "judge")
            }
            try store.read { r throws in
                let consensus = try r.consensus()
                #expect(consensus.count == 2 && consensus[2]?.label == "b" && consensus[2]?.isDispute == false && consensus[2]?.method == "dawid-skene")
                #expect(try r.counts().consensus == 2)
                #expect(try r.adjudications().mapValues(\.label) == [1: "b", 3: "b"])
                // Two rulings in one millisecond tie on time; the larger item key is taken as the latest, as SQLite's rowid order gives.
                let latest = try #require(try r.latestAdjudication(adjudicator: "judge"))
                #expect([1, 3].contains(latest))
                #expect(try r.latestAdjudication(adjudicator: "nobody") == nil)
            }
            #expect(try store.write { w in try w.deleteAdjudication(itemKey: 3) })
            #expect(try store.write { w in try w.deleteAdjudication(itemKey: 3) } == false)
            #expect(try store.read { try $0.latestAdjudication(adjudicator: "judge") } == 1)
        }
    }
}
