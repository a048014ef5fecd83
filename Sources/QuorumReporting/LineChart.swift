/// A line chart as inline SVG for the HTML report: a tick on the x axis for
/// every round, a y axis fitted to the data (with round-number steps), the
/// baseline drawn as its own marked point, optional guide lines (a stopping
/// threshold), and a tooltip on every point. Series differ in colour and in
/// dash pattern, so the chart reads in greyscale print too.
struct LineChart {
    struct Series {
        var name: String
        var color: String
        var points: [(x: Double, y: Double)]
        /// SVG `stroke-dasharray`, or nil for a solid line.
        var dash: String? = nil
    }

    /// A tick on the x axis: where, and what it says.
    struct Tick {
        var x: Double
        var label: String
    }

    /// A horizontal line at a value that matters (a threshold).
    struct Guide {
        var y: Double
        var label: String
    }

    var xLabel: String
    var yLabel: String
    var series: [Series]
    /// One per round (and the baseline); labels are thinned where they would collide.
    var ticks: [Tick] = []
    /// The point drawn as the baseline (before any round), if any.
    var baseline: (x: Double, y: Double)? = nil
    var guides: [Guide] = []
    /// How y values are written on the axis and in tooltips.
    var format: (Double) -> String = { Report.percent($0) }
    /// Where y may go (the axis never extends past it): rates stay in [0, 1].
    var limits: ClosedRange<Double> = 0...1
    /// A name for tests and styles (`data-chart`).
    var id = "chart"
    var width = 680.0, height = 280.0
    let left = 56.0, right = 160.0, top = 14.0, bottom = 40.0

    /// The y range shown and its tick step: the data's range padded by 8% on
    /// each side (at least `minimumSpan` wide), widened to whole steps of 1, 2,
    /// 2.5 or 5 × 10ⁿ (about four of them), and kept within `limits`.
    static func fittedRange(_ values: [Double], limits: ClosedRange<Double>, minimumSpan: Double = 0.02) -> (range: ClosedRange<Double>, step: Double) {
        let finite = values.filter(\.isFinite)
        guard var lo = finite.min(), var hi = finite.max() else { return (limits, (limits.upperBound - limits.lowerBound) / 4) }
        if hi - lo < minimumSpan {
            let mid = (lo + hi) / 2
            (lo, hi) = (mid - minimumSpan / 2, mid + minimumSpan / 2)
        }
        let pad = (hi - lo) * 0.08
        (lo, hi) = (lo - pad, hi + pad)
        let raw = (hi - lo) / 4
        var magnitude = 1.0
        while magnitude > raw { magnitude /= 10 }
        while magnitude * 10 <= raw { magnitude *= 10 }
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        lo = max(limits.lowerBound, (lo / step).rounded(.down) * step)
        hi = min(limits.upperBound, (hi / step).rounded(.up) * step)
        if hi <= lo { hi = lo + step }
        return (lo...hi, step)
    }

    /// The drawing position of a data point.
    func position(_ x: Double, _ y: Double, xRange: ClosedRange<Double>, yRange: ClosedRange<Double>) -> (Double, Double) {
        let xSpan = xRange.upperBound - xRange.lowerBound, ySpan = yRange.upperBound - yRange.lowerBound
        let fx = xSpan > 0 ? (x - xRange.lowerBound) / xSpan : 0.5
        let fy = ySpan > 0 ? (min(max(y, yRange.lowerBound), yRange.upperBound) - yRange.lowerBound) / ySpan : 0.5
        return (left + fx * (width - left - right), top + (1 - fy) * (height - top - bottom))
    }

    var svg: String {
        let xs = series.flatMap { $0.points.map(\.x) } + ticks.map(\.x) + (baseline.map { [$0.x] } ?? [])
        guard let xLo = xs.min(), let xHi = xs.max(), series.contains(where: { !$0.points.isEmpty }) else {
            return "<p class=\"note\">No data yet.</p>\n"
        }
        let xRange = xLo...xHi
        let ys = series.flatMap { $0.points.map(\.y) } + (baseline.map { [$0.y] } ?? []) + guides.map(\.y)
        let (yRange, step) = Self.fittedRange(ys, limits: limits)
        func f(_ v: Double) -> String { Report.fixed(v, digits: 1) }
        let e = HTMLReport.escape
        let plotBottom = height - bottom
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" "
            + "height=\"\(Int(height))\" role=\"img\" aria-label=\"\(e(yLabel)) by \(e(xLabel))\" data-chart=\"\(e(id))\">\n"
        // The y axis: gridlines at whole steps of the fitted range.
        var tick = yRange.lowerBound
        while tick <= yRange.upperBound + step / 1000 {
            let (_, y) = position(xLo, tick, xRange: xRange, yRange: yRange)
            out += "<line x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(y))\" y2=\"\(f(y))\" stroke=\"#e3e3e3\"/>"
            out += "<text class=\"ytick\" x=\"\(f(left - 6))\" y=\"\(f(y + 4))\" font-size=\"11\" text-anchor=\"end\">\(e(format(tick)))</text>\n"
            tick += step
        }
        // The x axis: a tick mark for every round; a label where it does not collide with the last one.
        out += "<line x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(plotBottom))\" y2=\"\(f(plotBottom))\" stroke=\"#999\"/>\n"
        var lastLabelled = -Double.infinity
        for t in ticks {
            let (px, _) = position(t.x, yRange.lowerBound, xRange: xRange, yRange: yRange)
            out += "<line class=\"xtick\" x1=\"\(f(px))\" x2=\"\(f(px))\" y1=\"\(f(plotBottom))\" y2=\"\(f(plotBottom + 5))\" stroke=\"#999\"/>"
            if px - lastLabelled >= 30 {
                out += "<text class=\"xlabel\" x=\"\(f(px))\" y=\"\(f(plotBottom + 17))\" font-size=\"11\" text-anchor=\"middle\">\(e(t.label))</text>"
                lastLabelled = px
            }
            out += "\n"
        }
        out += "<text x=\"\(f((left + width - right) / 2))\" y=\"\(f(height - 6))\" font-size=\"12\" text-anchor=\"middle\">\(e(xLabel))</text>\n"
        let mid = top + (plotBottom - top) / 2
        out += "<text x=\"14\" y=\"\(f(mid))\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 14 \(f(mid)))\">\(e(yLabel))</text>\n"
        for g in guides {
            let (_, y) = position(xLo, g.y, xRange: xRange, yRange: yRange)
            out += "<line class=\"guide\" x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(y))\" y2=\"\(f(y))\" stroke=\"#555\" stroke-dasharray=\"2 3\"/>"
            out += "<text x=\"\(f(width - right - 4))\" y=\"\(f(y - 3))\" font-size=\"10\" fill=\"#555\" text-anchor=\"end\">\(e(g.label))</text>\n"
        }
        var legend = 0
        for s in series where !s.points.isEmpty {
            let pts = s.points.map { position($0.x, $0.y, xRange: xRange, yRange: yRange) }
            out += "<polyline fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"2\"" + (s.dash.map { " stroke-dasharray=\"\($0)\"" } ?? "")
                + " points=\"" + pts.map { "\(f($0.0)),\(f($0.1))" }.joined(separator: " ") + "\"/>\n"
            for (p, point) in zip(pts, s.points) {
                out += "<circle cx=\"\(f(p.0))\" cy=\"\(f(p.1))\" r=\"3\" fill=\"\(s.color)\"><title>\(e(s.name)): \(e(format(point.y))) at "
                    + "\(e(xLabel)) \(e(Self.number(point.x)))</title></circle>"
            }
            let ly = top + 14 + Double(legend) * 18
            legend += 1
            out += "\n<line x1=\"\(f(width - right + 12))\" x2=\"\(f(width - right + 30))\" y1=\"\(f(ly - 4))\" y2=\"\(f(ly - 4))\" stroke=\"\(s.color)\" "
                + "stroke-width=\"3\"" + (s.dash.map { " stroke-dasharray=\"\($0)\"" } ?? "") + "/>"
            out += "<text x=\"\(f(width - right + 36))\" y=\"\(f(ly))\" font-size=\"12\">\(e(s.name))</text>\n"
        }
        if let b = baseline {
            let (px, py) = position(b.x, b.y, xRange: xRange, yRange: yRange)
            out += "<rect class=\"baseline\" x=\"\(f(px - 5))\" y=\"\(f(py - 5))\" width=\"10\" height=\"10\" fill=\"#fff\" stroke=\"#222\" stroke-width=\"2\">"
                + "<title>baseline: \(e(format(b.y))) at \(e(xLabel)) \(e(Self.number(b.x)))</title></rect>"
            out += "<text x=\"\(f(px + 8))\" y=\"\(f(py - 8))\" font-size=\"11\">baseline</text>\n"
        }
        return out + "</svg>\n"
    }

    /// An axis number: whole numbers without decimals.
    static func number(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : Report.fixed(x, digits: 2)
    }
}
