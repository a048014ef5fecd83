import Testing
@testable import QuorumConsensus

@Suite struct AgreementTests {
    @Test func cohenKappaMatchesIrrCAC() {
        // Reference: irrCAC's `cont3x3abstractors` table (Gwet), for which irrCAC::kappa2.table
        // reports Cohen's kappa = 0.7964094. Rows: abstractor 1; columns: abstractor 2.
        let table: [[Double]] = [[13, 0, 0], [0, 20, 7], [0, 4, 56]]
        let kappa = Agreement.cohenKappa(table: table)!
        #expect(abs(kappa - 0.7964094) < 1e-6)
    }

    @Test func fromPairsAndEdgeCases() {
        #expect(Agreement.cohenKappa([0, 1, 2, 1], [0, 1, 2, 1], classes: 3) == 1)
        #expect(Agreement.cohenKappa([0, 0, 0], [0, 0, 0], classes: 2) == 1, "one shared category")
        #expect(Agreement.cohenKappa(table: []) == nil)
        // Two raters who agree only by chance: p_o = 0.5, p_e = 0.5 → κ = 0.
        #expect(Agreement.cohenKappa([0, 0, 1, 1], [0, 1, 0, 1], classes: 2) == 0)
    }
}
