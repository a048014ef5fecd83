import Testing
@testable import QuorumReporting

@Suite struct HTMLReportTests {
    @Test func escapesMarkup() {
        #expect(HTMLReport.escape(#"<b>"Tom" & 'Jo'</b>"#) == "&lt;b&gt;&quot;Tom&quot; &amp; 'Jo'&lt;/b&gt;")
    }

    @Test func chartMapsTheDataRangeOntoThePlotArea() {
        let chart = LineChart(xLabel: "x", yLabel: "y", series: [])
        // x from 100 to 300, y from 0 to 1: corners of the plot area (left 48, right 640 − 150, top 12, bottom 280 − 36).
        let (x0, y0) = chart.position(100, 0, xRange: 100...300)
        let (x1, y1) = chart.position(300, 1, xRange: 100...300)
        let (xm, ym) = chart.position(200, 0.5, xRange: 100...300)
        #expect(x0 == 48 && y0 == 244 && x1 == 490 && y1 == 12)
        #expect(xm == 269 && ym == 128)
        #expect(chart.position(100, 7, xRange: 100...300).1 == 12, "values are clamped to [0, 1]")
    }

    @Test func pageWithoutRoundsSaysSo() {
        let page = HTMLReport.page([], agreement: nil, title: "p & q")
        #expect(page.contains("<title>p &amp; q</title>"))
        #expect(page.contains("No closed rounds yet"))
        #expect(!page.contains("<svg"))
    }
}
