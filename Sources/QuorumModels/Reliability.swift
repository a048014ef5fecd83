import QuorumNumerics

/// How often the model is right above each confidence: the held-out
/// evidence behind `--target-error`. Pairs of (confidence, correct) sorted
/// by confidence, most confident first.
public struct Reliability: Sendable, Equatable {
    public let confidences: [Float]
    public let correct: [Bool]

    public init(confidences: [Float], correct: [Bool]) {
        precondition(confidences.count == correct.count, "one correctness flag per confidence")
        let order = confidences.indices.sorted { confidences[$0] > confidences[$1] }
        self.confidences = order.map { confidences[$0] }
        self.correct = order.map { correct[$0] }
    }

    /// From predicted probabilities and true labels.
    public init(probabilities: Matrix, labels: [Int]) {
        var c: [Float] = [], ok: [Bool] = []
        for i in 0..<labels.count {
            let top = probabilities.argmax(row: i)
            c.append(probabilities[i, top])
            ok.append(top == labels[i])
        }
        self.init(confidences: c, correct: ok)
    }

    /// Errors and count among items with confidence ≥ `threshold`.
    ///
    /// - Complexity: O(n).
    public func errors(atOrAbove threshold: Float) -> (errors: Int, count: Int) {
        var errors = 0, count = 0
        for (c, ok) in zip(confidences, correct) {
            guard c >= threshold else { break }
            count += 1
            if !ok { errors += 1 }
        }
        return (errors, count)
    }
}
