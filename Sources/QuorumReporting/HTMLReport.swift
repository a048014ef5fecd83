/// `quorum report --format html`: one self-contained page (no scripts, no
/// external files) with the learning curve, agreement per round, the per-round
/// table and the annotator pairs.
public enum HTMLReport {
    /// The page.
    ///
    /// - Complexity: O(rounds + pairs).
    public static func page(_ rounds: [RoundMetrics], agreement: AgreementFigures?, title: String) -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
            <style>
            body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:960px;color:#222}
            table{border-collapse:collapse;margin:1em 0}td,th{padding:.25em .7em;border-bottom:1px solid #ddd;text-align:right}
            th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
            .kpi{display:inline-block;margin:0 2em 1em 0}.kpi b{display:block;font-size:1.6em}
            svg{background:#fcfcfc;border:1px solid #eee}.note{color:#666}
            </style></head><body>
            <h1>\(escape(title))</h1>

            """
        let last = rounds.last
        html += "<div>"
        html += kpi("rounds closed", String(rounds.count))
        html += kpi("labelled", last.map { String($0.labelled) } ?? "-")
        html += kpi("test accuracy", Report.percent(last?.testAccuracy))
        html += kpi("auto-accepted", String(rounds.map(\.autoAccepted).reduce(0, +)))
        html += kpi("Krippendorff α", Report.fixed(agreement?.krippendorffAlpha))
        html += "</div>\n"
        guard !rounds.isEmpty else {
            return html + "<p class=\"note\">No closed rounds yet. Close one with <code>quorum round close</code>.</p></body></html>\n"
        }
        html += "<h2>What each round bought</h2>\n"
        html += LineChart(xLabel: "labelled items", yLabel: "on the test items", series: [
            .init(name: "test accuracy", color: "#1f77b4", points: rounds.compactMap { r in r.testAccuracy.map { (Double(r.labelled), $0) } }),
            .init(name: "macro F1", color: "#ff7f0e", points: rounds.compactMap { r in r.macroF1.map { (Double(r.labelled), $0) } }),
        ]).svg
        html += "<h2>Agreement per round</h2>\n"
        html += LineChart(xLabel: "round", yLabel: "agreement", series: [
            .init(name: "Krippendorff α", color: "#2ca02c", points: rounds.compactMap { r in r.krippendorffAlpha.map { (Double(r.round), $0) } }),
            .init(name: "Fleiss κ", color: "#d62728", points: rounds.compactMap { r in r.fleissKappa.map { (Double(r.round), $0) } }),
            .init(name: "percent agreement", color: "#9467bd", points: rounds.compactMap { r in r.percentAgreement.map { (Double(r.round), $0) } }),
        ]).svg
        html += "<h2>Rounds</h2>\n<table><tr>" + ["round", "labelled", "answers", "disputes", "test acc", "macro F1", "ECE",
                                                   "α", "κ", "auto", "audit pass", "model"].map { "<th>\($0)</th>" }.joined() + "</tr>\n"
        for r in rounds {
            let cells = [String(r.round), String(r.labelled), String(r.answers), String(r.disputes), Report.percent(r.testAccuracy),
                         Report.percent(r.macroF1), Report.fixed(r.ece), Report.fixed(r.krippendorffAlpha), Report.fixed(r.fleissKappa),
                         String(r.autoAccepted), Report.percent(r.auditPassRate), r.modelVersion ?? "-"]
            html += "<tr>" + cells.map { "<td>\(escape($0))</td>" }.joined() + "</tr>\n"
        }
        html += "</table>\n"
        if let pairs = agreement?.pairs, !pairs.isEmpty {
            html += "<h2>Annotator pairs (all rounds)</h2>\n<table><tr><th>pair</th><th>shared items</th><th>Cohen κ</th><th>agreement</th></tr>\n"
            for p in pairs {
                html += "<tr><td>\(escape(p.a)) · \(escape(p.b))</td><td>\(p.items)</td><td>\(Report.fixed(p.cohenKappa))</td>"
                    + "<td>\(Report.percent(p.percentAgreement))</td></tr>\n"
            }
            html += "</table>\n"
        }
        return html + "</body></html>\n"
    }

    static func kpi(_ name: String, _ value: String) -> String {
        "<span class=\"kpi\"><b>\(escape(value))</b>\(escape(name))</span>"
    }

    /// Text safe inside HTML elements and attribute values.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}

/// A line chart as inline SVG: y from 0 to 1, x over the points' range.
struct LineChart {
    struct Series {
        var name: String
        var color: String
        var points: [(Double, Double)]
    }

    var xLabel: String
    var yLabel: String
    var series: [Series]
    var width = 640.0, height = 280.0
    let left = 48.0, right = 150.0, top = 12.0, bottom = 36.0

    /// The drawing position of a data point.
    func position(_ x: Double, _ y: Double, xRange: ClosedRange<Double>) -> (Double, Double) {
        let span = xRange.upperBound - xRange.lowerBound
        let fx = span > 0 ? (x - xRange.lowerBound) / span : 0.5
        let px = left + fx * (width - left - right)
        let py = top + (1 - min(max(y, 0), 1)) * (height - top - bottom)
        return (px, py)
    }

    var svg: String {
        let xs = series.flatMap { $0.points.map(\.0) }
        guard let lo = xs.min(), let hi = xs.max() else { return "<p class=\"note\">No data yet.</p>\n" }
        let range = lo...hi
        func f(_ v: Double) -> String { Report.fixed(v, digits: 1) }
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\">\n"
        for tick in stride(from: 0.0, through: 1.0, by: 0.25) {
            let (_, y) = position(lo, tick, xRange: range)
            out += "<line x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(y))\" y2=\"\(f(y))\" stroke=\"#e5e5e5\"/>"
            out += "<text x=\"\(f(left - 6))\" y=\"\(f(y + 4))\" font-size=\"11\" text-anchor=\"end\">\(Report.fixed(tick, digits: 2))</text>\n"
        }
        for x in Set([lo, hi]).sorted() {
            let (px, _) = position(x, 0, xRange: range)
            out += "<text x=\"\(f(px))\" y=\"\(f(height - bottom + 16))\" font-size=\"11\" text-anchor=\"middle\">\(Int(x))</text>\n"
        }
        out += "<text x=\"\(f((left + width - right) / 2))\" y=\"\(f(height - 4))\" font-size=\"12\" text-anchor=\"middle\">\(HTMLReport.escape(xLabel))</text>\n"
        out += "<text x=\"12\" y=\"\(f(top + (height - top - bottom) / 2))\" font-size=\"12\" text-anchor=\"middle\" "
            + "transform=\"rotate(-90 12 \(f(top + (height - top - bottom) / 2)))\">\(HTMLReport.escape(yLabel))</text>\n"
        for (i, s) in series.enumerated() where !s.points.isEmpty {
            let pts = s.points.map { position($0.0, $0.1, xRange: range) }
            out += "<polyline fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"2\" points=\""
                + pts.map { "\(f($0.0)),\(f($0.1))" }.joined(separator: " ") + "\"/>\n"
            for p in pts { out += "<circle cx=\"\(f(p.0))\" cy=\"\(f(p.1))\" r=\"3\" fill=\"\(s.color)\"/>" }
            let ly = top + 14 + Double(i) * 18
            out += "\n<rect x=\"\(f(width - right + 12))\" y=\"\(f(ly - 9))\" width=\"10\" height=\"10\" fill=\"\(s.color)\"/>"
            out += "<text x=\"\(f(width - right + 28))\" y=\"\(f(ly))\" font-size=\"12\">\(HTMLReport.escape(s.name))</text>\n"
        }
        return out + "</svg>\n"
    }
}
