import QuorumModels
import Testing

@Suite struct MultiLabelMetricsTests {
    /// Reference: scikit-learn 1.9.1 on the indicator matrices of these sets (5 labels):
    /// f1_score(average="micro") 0.666666666666667; f1_score(average="macro",
    /// labels=[0, 1, 2, 3], zero_division=0) 0.616666666666667 (label 4 occurs nowhere);
    /// hamming_loss 0.166666666666667. By hand: TP 5, FP 2, FN 3; per-label F1 0.8, 0, 1, 2/3.
    @Test func matchScikitLearn() {
        let truth: [Set<Int>] = [[0, 1], [2], [], [0, 3], [1, 2], [0]]
        let predicted: [Set<Int>] = [[0], [2, 3], [1], [0, 3], [2], []]
        let s = MultiLabelMetrics.scores(predicted: predicted, truth: truth, labels: 5)
        #expect(abs(s.microF1 - 0.666666666666667) < 1e-12)
        #expect(abs(s.macroF1 - 0.616666666666667) < 1e-12)
        #expect(abs(s.hammingLoss - 0.166666666666667) < 1e-12)
        let perfect = MultiLabelMetrics.scores(predicted: truth, truth: truth, labels: 5)
        #expect(perfect.microF1 == 1 && perfect.macroF1 == 1 && perfect.hammingLoss == 0)
    }
}
