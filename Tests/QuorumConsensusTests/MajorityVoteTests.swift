import Testing
@testable import QuorumConsensus

@Suite struct MajorityVoteTests {
    @Test func majorityWinsWithItsShare() {
        let v = MajorityVote.aggregate([Vote(item: 1, annotator: "a", label: "x"), Vote(item: 1, annotator: "b", label: "x"),
                                        Vote(item: 1, annotator: "c", label: "y")])
        #expect(v.count == 1)
        #expect(v[0].label == "x")
        #expect(abs(v[0].confidence - 2.0 / 3.0) < 1e-12)
        #expect(v[0].votes == 3)
    }

    @Test func aTieIsADispute() {
        let v = MajorityVote.aggregate([Vote(item: 7, annotator: "a", label: "x"), Vote(item: 7, annotator: "b", label: "y")])
        #expect(v[0].isDispute)
        #expect(v[0].label == nil)
        #expect(v[0].confidence == 0.5)
    }

    @Test func singleAnswersAndOrdering() {
        let v = MajorityVote.aggregate([Vote(item: 9, annotator: "a", label: "x"), Vote(item: 2, annotator: "a", label: "y")])
        #expect(v.map(\.item) == [2, 9])
        #expect(v.allSatisfy { $0.confidence == 1 && !$0.isDispute })
        #expect(MajorityVote.aggregate([]).isEmpty)
    }
}
