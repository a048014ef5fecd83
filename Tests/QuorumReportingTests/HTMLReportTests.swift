import Testing
@testable import QuorumReporting

@Suite struct HTMLReportTests {
    @Test func escapesMarkup() {
        #expect(HTMLReport.escape(#"<b>"Tom" & 'Jo'</b>"#) == "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jo&#39;&lt;/b&gt;")
    }

    @Test func chartMapsTheDataRangeOntoThePlotArea() {
        let chart = LineChart(xLabel: "x", yLabel: "y", series: [])
        // x from 100 to 300, y from 0.5 to 1: corners of the plot area (left 56, right 680 − 160, top 14, bottom 280 − 40).
        let (x0, y0) = chart.position(100, 0.5, xRange: 100...300, yRange: 0.5...1)
        let (x1, y1) = chart.position(300, 1, xRange: 100...300, yRange: 0.5...1)
        let (xm, ym) = chart.position(200, 0.75, xRange: 100...300, yRange: 0.5...1)
        #expect(x0 == 56 && y0 == 240 && x1 == 520 && y1 == 14)
        #expect(xm == 288 && ym == 127)
        #expect(chart.position(100, 7, xRange: 100...300, yRange: 0.5...1).1 == 14, "values are clamped to the range shown")
    }

    /// Worked by hand: 0.62…0.91 padded by 8% of 0.29 is 0.5968…0.9332; a quarter of that
    /// span is 0.0841, so the step is 0.1 and the axis runs from 0.5 to 1.0.
    /// 0.97…0.975 is narrower than 0.02: 0.9625…0.9825, padded 0.9609…0.9841, step 0.01.
    @Test func yAxisFitsTheDataInWholeSteps() {
        let wide = LineChart.fittedRange([0.62, 0.8, 0.91], limits: 0...1)
        #expect(abs(wide.range.lowerBound - 0.5) < 1e-9 && abs(wide.range.upperBound - 1.0) < 1e-9 && abs(wide.step - 0.1) < 1e-12)
        let narrow = LineChart.fittedRange([0.97, 0.975], limits: 0...1)
        #expect(abs(narrow.range.lowerBound - 0.96) < 1e-9 && abs(narrow.range.upperBound - 0.99) < 1e-9 && abs(narrow.step - 0.01) < 1e-12)
        let kappa = LineChart.fittedRange([-0.3, 0.4], limits: -1...1)
        #expect(kappa.range.lowerBound < -0.3 && kappa.range.upperBound > 0.4 && kappa.range.lowerBound >= -1)
    }

    @Test func pageWithoutRoundsSaysSo() {
        let page = HTMLReport.page(ReportDocument(title: "p & q", baseline: nil, rounds: [], agreement: nil))
        #expect(page.contains("<title>p &amp; q</title>"))
        #expect(page.contains("No closed rounds yet"))
        #expect(!page.contains("<svg"))
    }

    static func round(_ n: Int, labelled: Int, accuracy: Double, audit: Double?) -> RoundMetrics {
        var r = RoundMetrics(round: n, labelled: labelled, testAccuracy: accuracy, macroF1: accuracy - 0.05, ece: 0.04,
                             modelVersion: "m\(n + 1)", percentAgreement: 0.8, autoAccepted: 5, tasks: 20, answers: 40, disputes: 2)
        r.krippendorffAlpha = 0.6 + 0.05 * Double(n)
        r.predictionStability = 0.9 + 0.02 * Double(n)
        r.meanUncertainty = 0.3 - 0.05 * Double(n)
        var k = RoundKPIs()
        k.auditPassRate = audit
        k.overrideRate = 0.1
        r.kpis = k
        return r
    }

    @Test func pageMarksBreachesTicksEveryRoundAndShowsTheBaseline() {
        let hostile = #"<img src=x onerror="alert(1)">"#
        let rounds = [Self.round(1, labelled: 120, accuracy: 0.81, audit: 1), Self.round(2, labelled: 220, accuracy: 0.86, audit: 0.9),
                      Self.round(3, labelled: 320, accuracy: 0.88, audit: 2.0 / 3)]
        let baseline = RoundMetrics(round: 0, labelled: 20, testAccuracy: 0.62, macroF1: 0.55, ece: 0.09, modelVersion: "m1",
                                    percentAgreement: nil, autoAccepted: 0, tasks: 0, answers: 0, disputes: 0)
        let audit = KPIThreshold.defaults.first { $0.kpi == "audit_pass_rate" }!
        let doc = ReportDocument(
            title: "t", baseline: baseline, rounds: rounds, agreement: nil,
            breaches: [KPIBreach(round: 3, threshold: audit, value: 2.0 / 3)], stoppingRule: "rule",
            scorecards: [.init(name: hostile, role: "annotator", answers: 3, skips: 0, flags: 1, goldAnswered: 0, goldAccuracy: nil,
                               consensusAgreement: 1, overrideRate: 0, wrongSuggestionsAccepted: nil, agreementWithSuggestionShown: 1,
                               agreementWithModelBlind: nil, medianSeconds: 4)],
            classes: .init(model: "m4", baselineModel: "m1", rows: [
                .init(label: hostile, support: 10, precision: 0.5, recall: 1, f1: 2.0 / 3, baselineF1: 0.2),
                .init(label: "b", support: 5, precision: nil, recall: 0, f1: 0, baselineF1: nil),
            ]))
        let page = HTMLReport.page(doc)
        #expect(!page.contains("<img") && page.contains("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"))
        // The audit tile is the one breach; its value is shown and it says which bound it broke.
        #expect(page.components(separatedBy: "data-breach=\"true\"").count - 1 == 1)
        #expect(page.contains("<div class=\"tile breach\" data-kpi=\"audit_pass_rate\" data-breach=\"true\"><b>66.7%</b>"))
        #expect(page.contains("below min 90.0%"))
        // In the KPI table, round 3's audit cell is marked (below its min), rounds 1 and 2 are not.
        #expect(page.components(separatedBy: "<td class=\"breach\"").count - 1 == 1)
        #expect(page.contains("66.7% ▼</td>"))
        // The learning curve: a tick for the baseline and each round, the baseline drawn as its own point.
        let curve = String(page[page.range(of: "data-chart=\"learning\"")!.lowerBound...].prefix { $0 != "§" })
        let learning = String(curve[..<curve.range(of: "</svg>")!.lowerBound])
        #expect(learning.components(separatedBy: "class=\"xtick\"").count - 1 == 4)
        #expect(learning.contains("class=\"baseline\""))
        // Its y axis fits 0.55…0.88 rather than starting at 0.
        #expect(!learning.contains(">0.0%</text>") && learning.contains(">50.0%</text>") && learning.contains(">90.0%</text>"))
        #expect(page.contains("data-stop=\"false\"") && page.contains("data-chart=\"stopping\""))
        // Per-class: weakest first.
        #expect(page.range(of: "<td>b</td>")!.lowerBound < page.range(of: "<td>&lt;img")!.lowerBound)
        #expect(!page.contains("<script"))
    }
}
