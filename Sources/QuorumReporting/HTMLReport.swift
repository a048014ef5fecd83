/// `quorum report --format html`: one self-contained page (no script, no
/// external file, readable in print) that a lead reads from the top: the
/// headline figures, the KPI tiles of the last round with every breach
/// marked, the stopping signal, the learning curve from the baseline, then
/// agreement, the rounds and their KPIs, per-class F1, shadow against live,
/// drift and the annotators' scorecards. Every string a user supplied is escaped.
public enum HTMLReport {
    /// The page.
    ///
    /// - Complexity: O(rounds × KPIs + classes + annotators + pairs).
    public static func page(_ doc: ReportDocument) -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(doc.title))</title>
            <style>\(style)</style></head><body>
            <h1>\(escape(doc.title))</h1>

            """
        let last = doc.rounds.last
        let firstAccuracy = doc.baseline?.testAccuracy ?? doc.rounds.first?.testAccuracy
        html += "<section id=\"headline\" class=\"tiles\">"
        html += tile("Test accuracy", Report.percent(last?.testAccuracy ?? doc.baseline?.testAccuracy),
                     detail: delta(last?.testAccuracy, from: firstAccuracy, since: doc.baseline == nil ? "round 1" : "baseline"))
        html += tile("Labelled", last.map { String($0.labelled) } ?? doc.baseline.map { String($0.labelled) } ?? "–",
                     detail: doc.baseline.map { "\($0.labelled) at baseline" })
        html += tile("Rounds closed", String(doc.rounds.count), detail: last?.modelVersion.map { "live model \($0)" })
        html += tile("Auto-accepted", String(doc.rounds.map(\.autoAccepted).reduce(0, +)), detail: "all rounds")
        html += tile("Krippendorff α", Report.fixed(doc.agreement?.krippendorffAlpha), detail: "all answers")
        html += "</section>\n"
        guard let last else {
            return html + "<p class=\"note\">No closed rounds yet. Close one with <code>quorum round close</code>.</p></body></html>\n"
        }
        html += kpiTiles(doc, round: last)
        html += stopping(doc, last: last)
        html += "<section id=\"learning\"><h2>What each round bought</h2>\n" + learningCurve(doc) + "</section>\n"
        html += agreementChart(doc)
        html += roundsTable(doc)
        html += kpiTable(doc)
        html += classTable(doc.classes)
        html += shadow(doc.shadow)
        html += drift(doc.drift)
        html += scorecards(doc)
        return html + "</body></html>\n"
    }

    static let style = """
        body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:980px;padding:0 1em;color:#1d1d1d}
        h1{font-size:1.6em;margin-bottom:.4em}h2{font-size:1.2em;margin:1.6em 0 .4em;border-bottom:1px solid #ddd;padding-bottom:.2em}
        table{border-collapse:collapse;margin:.6em 0}td,th{padding:.25em .7em;border-bottom:1px solid #e2e2e2;text-align:right;vertical-align:top}
        th{background:#f3f3f3;font-weight:600}td:first-child,th:first-child{text-align:left}
        .tiles{display:flex;flex-wrap:wrap;gap:.6em;margin:.6em 0}
        .tile{border:1px solid #d8d8d8;border-radius:6px;padding:.5em .8em;min-width:9.5em;break-inside:avoid}
        .tile b{display:block;font-size:1.5em;font-variant-numeric:tabular-nums}.tile .what{color:#444}
        .tile .detail{display:block;color:#666;font-size:.85em}
        .tile.breach{border:2px solid #b3261e;background:#fdeceb}.tile.breach .detail{color:#8c1d18;font-weight:600}
        .tile.na b{color:#888}
        td.breach{background:#fdeceb;color:#8c1d18;font-weight:600}
        .callout{border-left:4px solid #1f6feb;background:#f2f6fd;padding:.5em .9em;margin:.8em 0}
        .callout.stop{border-color:#1a7f37;background:#eef8f0}.callout.alarm{border-color:#b3261e;background:#fdeceb}
        .bar{display:inline-block;height:.7em;background:#4c78a8;vertical-align:middle}
        svg{max-width:100%;height:auto;background:#fcfcfc;border:1px solid #eee}.note{color:#666}
        code{background:#f3f3f3;padding:0 .25em;border-radius:3px}
        @media print{body{margin:0;max-width:none;font-size:11pt}h2{break-after:avoid}
        table,svg,.tile,.callout{break-inside:avoid}.tile.breach,td.breach{border:2px solid #000}
        *{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
        """

    // MARK: - Sections

    static func kpiTiles(_ doc: ReportDocument, round: RoundMetrics) -> String {
        let kpis = round.kpis ?? RoundKPIs()
        let breached = Dictionary(doc.breaches.filter { $0.round == round.round }.map { ($0.threshold.kpi, $0) }, uniquingKeysWith: { a, _ in a })
        var html = "<section id=\"kpis\"><h2>Operating figures, round \(round.round)</h2>\n"
        if doc.breaches.isEmpty {
            html += "<p>Every KPI is within its bound.</p>\n"
        } else {
            html += "<p class=\"callout alarm\"><b>\(doc.breaches.count) KPI\(doc.breaches.count == 1 ? "" : "s") outside \(doc.breaches.count == 1 ? "its" : "their") bound</b>: "
                + doc.breaches.map { escape(KPIDisplay.describe($0.threshold.kpi).title) }.joined(separator: ", ")
                + ". <code>quorum check</code> exits 1 until they are back within bounds.</p>\n"
        }
        html += "<div class=\"tiles\">"
        for name in RoundKPIs.names {
            let (title, kind) = KPIDisplay.describe(name)
            let value = name == "drift_psi" ? (breached[name]?.value ?? doc.drift?.psi ?? kpis.value(name)) : kpis.value(name)
            let bounds = doc.thresholds.filter { $0.kpi == name }
            var detail = bounds.map { "\($0.bound == .max ? "at most" : "at least") \(KPIDisplay.format($0.value, kind))" }.joined(separator: ", ")
            if name == "drift_psi", bounds.isEmpty, let d = doc.drift { detail = "alarm above \(Report.fixed(d.threshold))" }
            var classes = "tile"
            if let b = breached[name] {
                classes += " breach"
                detail = "\(b.threshold.bound == .max ? "above" : "below") \(b.threshold.bound == .max ? "max" : "min") \(KPIDisplay.format(b.threshold.value, kind))"
            } else if value == nil {
                classes += " na"
                if detail.isEmpty { detail = "does not apply yet" }
            }
            html += "<div class=\"\(classes)\" data-kpi=\"\(name)\" data-breach=\"\(breached[name] != nil)\"><b>\(escape(KPIDisplay.format(value, kind)))</b>"
                + "<span class=\"what\">\(escape(title))</span>" + (detail.isEmpty ? "" : "<span class=\"detail\">\(escape(detail))</span>") + "</div>"
        }
        return html + "</div></section>\n"
    }

    static func stopping(_ doc: ReportDocument, last: RoundMetrics) -> String {
        var html = "<section id=\"stopping\"><h2>When to stop</h2>\n"
        if last.stop == true {
            html += "<p class=\"callout stop\" data-stop=\"true\"><b>Labelling has stopped paying</b> (round \(last.round)): \(escape(last.stopReason ?? "the stopping rule is met"))."
                + " More rounds buy little; consider a snapshot and a final export.</p>\n"
        } else {
            html += "<p class=\"callout\" data-stop=\"false\"><b>Keep labelling</b>: after round \(last.round) predictions changed by κ = "
                + "\(Report.fixed(last.predictionStability)) between models and the mean uncertainty on the unlabelled pool is "
                + "\(Report.fixed(last.meanUncertainty)).</p>\n"
        }
        if !doc.stoppingRule.isEmpty { html += "<p class=\"note\">\(escape(doc.stoppingRule))</p>\n" }
        let measured = doc.rounds.filter { $0.predictionStability != nil || $0.meanUncertainty != nil }
        if measured.count >= 2 {
            html += LineChart(xLabel: "round", yLabel: "stopping measures", series: [
                .init(name: "prediction stability κ", color: "#1a7f37", points: measured.compactMap { r in r.predictionStability.map { (Double(r.round), $0) } }),
                .init(name: "mean uncertainty", color: "#8250df", points: measured.compactMap { r in r.meanUncertainty.map { (Double(r.round), $0) } }, dash: "6 3"),
            ], ticks: doc.rounds.map { .init(x: Double($0.round), label: String($0.round)) },
               guides: doc.stoppingGuides.map { .init(y: $0.value, label: $0.label) },
               format: { Report.fixed($0, digits: 2) }, limits: 0...1, id: "stopping").svg
        }
        return html + "</section>\n"
    }

    static func learningCurve(_ doc: ReportDocument) -> String {
        let start = doc.baseline.flatMap { b in b.testAccuracy.map { (x: Double(b.labelled), y: $0) } }
        let startF1 = doc.baseline.flatMap { b in b.macroF1.map { (x: Double(b.labelled), y: $0) } }
        let accuracy = (start.map { [$0] } ?? []) + doc.rounds.compactMap { r in r.testAccuracy.map { (Double(r.labelled), $0) } }
        let f1 = (startF1.map { [$0] } ?? []) + doc.rounds.compactMap { r in r.macroF1.map { (Double(r.labelled), $0) } }
        guard !accuracy.isEmpty || !f1.isEmpty else {
            return "<p class=\"note\">No test items: import some with <code>quorum import FILE --as test</code> to see what each round bought.</p>\n"
        }
        let ticks = (doc.baseline.map { [LineChart.Tick(x: Double($0.labelled), label: String($0.labelled))] } ?? [])
            + doc.rounds.map { LineChart.Tick(x: Double($0.labelled), label: String($0.labelled)) }
        return LineChart(xLabel: "labelled items (a tick per round)", yLabel: "on the test items", series: [
            .init(name: "test accuracy", color: "#1f77b4", points: accuracy),
            .init(name: "macro F1", color: "#d95f02", points: f1, dash: "6 3"),
        ], ticks: ticks, baseline: start, id: "learning").svg
    }

    static func agreementChart(_ doc: ReportDocument) -> String {
        let rounds = doc.rounds
        guard rounds.contains(where: { $0.krippendorffAlpha != nil || $0.percentAgreement != nil }) else { return "" }
        return "<section id=\"agreement\"><h2>Agreement per round</h2>\n" + LineChart(xLabel: "round", yLabel: "agreement", series: [
            .init(name: "Krippendorff α", color: "#1a7f37", points: rounds.compactMap { r in r.krippendorffAlpha.map { (Double(r.round), $0) } }),
            .init(name: "Fleiss κ", color: "#b3261e", points: rounds.compactMap { r in r.fleissKappa.map { (Double(r.round), $0) } }, dash: "6 3"),
            .init(name: "percent agreement", color: "#8250df", points: rounds.compactMap { r in r.percentAgreement.map { (Double(r.round), $0) } }, dash: "2 3"),
        ], ticks: rounds.map { .init(x: Double($0.round), label: String($0.round)) },
           format: { Report.fixed($0, digits: 2) }, limits: -1...1, id: "agreement").svg + "</section>\n"
    }

    static func roundsTable(_ doc: ReportDocument) -> String {
        var html = "<section id=\"rounds\"><h2>Rounds</h2>\n<table><tr>" + ["round", "labelled", "answers", "disputes", "adjudicated", "test acc",
            "macro F1", "ECE", "α", "κ", "auto", "audit pass", "model"].map { "<th>\($0)</th>" }.joined() + "</tr>\n"
        if let b = doc.baseline {
            html += "<tr class=\"baseline\">" + ["baseline", String(b.labelled), "–", "–", "–", Report.percent(b.testAccuracy), Report.percent(b.macroF1),
                                                 Report.fixed(b.ece), "–", "–", "–", "–", b.modelVersion ?? "–"].map { "<td>\(escape($0))</td>" }.joined() + "</tr>\n"
        }
        for r in doc.rounds {
            let cells = [String(r.round), String(r.labelled), String(r.answers), String(r.disputes), r.adjudicated.map(String.init) ?? "–",
                         Report.percent(r.testAccuracy), Report.percent(r.macroF1), Report.fixed(r.ece), Report.fixed(r.krippendorffAlpha),
                         Report.fixed(r.fleissKappa), String(r.autoAccepted), Report.percent(r.auditPassRate), r.modelVersion ?? "–"]
            html += "<tr>" + cells.map { "<td>\(escape($0))</td>" }.joined() + "</tr>\n"
        }
        return html + "</table></section>\n"
    }

    /// The KPIs of every round, a cell marked where it breaks a bound in force.
    static func kpiTable(_ doc: ReportDocument) -> String {
        let rounds = doc.rounds.filter { $0.kpis != nil }
        guard !rounds.isEmpty else { return "" }
        var html = "<section id=\"kpi-rounds\"><h2>KPIs per round</h2>\n<table><tr><th>round</th>"
            + RoundKPIs.names.map { "<th>\(escape(KPIDisplay.describe($0).title))</th>" }.joined() + "</tr>\n"
        for r in rounds {
            html += "<tr><td>\(r.round)</td>"
            for name in RoundKPIs.names {
                let kind = KPIDisplay.describe(name).kind
                let value = r.kpis?.value(name)
                let broken = value.flatMap { v in doc.thresholds.first { $0.kpi == name && $0.isBroken(by: v) } }
                    ?? doc.breaches.first { $0.round == r.round && $0.threshold.kpi == name }?.threshold
                if let broken {
                    let marker = broken.bound == .max ? " ▲" : " ▼"
                    html += "<td class=\"breach\" title=\"\(broken.bound == .max ? "above max" : "below min") \(escape(KPIDisplay.format(broken.value, kind)))\">"
                        + escape(KPIDisplay.format(value, kind)) + marker + "</td>"
                } else {
                    html += "<td>\(escape(KPIDisplay.format(value, kind)))</td>"
                }
            }
            html += "</tr>\n"
        }
        return html + "</table><p class=\"note\">▲ above its max, ▼ below its min. Bounds: "
            + doc.thresholds.map { "<code>\(escape($0.settingKey)) \(escape(Report.fixed($0.value)))</code>" }.joined(separator: " ")
            + " (set with <code>quorum settings set</code>).</p></section>\n"
    }

    static func classTable(_ results: ReportDocument.ClassResults?) -> String {
        guard let results else { return "" }
        var html = "<section id=\"classes\"><h2>Per class, model \(escape(results.model))</h2>\n"
        guard !results.rows.isEmpty else {
            return html + "<p class=\"note\">\(escape(results.missing ?? "No per-class figures."))</p></section>\n"
        }
        let baseline = results.baselineModel.map { "F1 at baseline (\(escape($0)))" }
        html += "<table><tr><th>class</th><th>test items</th><th>precision</th><th>recall</th><th>F1</th>"
            + (baseline.map { "<th>\($0)</th>" } ?? "") + "<th></th></tr>\n"
        // Weakest first: what the next rounds should go after.
        for row in results.rows.sorted(by: { ($0.f1 ?? -1, $0.label) < ($1.f1 ?? -1, $1.label) }) {
            html += "<tr><td>\(escape(row.label))</td><td>\(row.support)</td><td>\(Report.percent(row.precision))</td>"
                + "<td>\(Report.percent(row.recall))</td><td>\(Report.percent(row.f1))</td>"
                + (baseline == nil ? "" : "<td>\(Report.percent(row.baselineF1))</td>")
                + "<td><span class=\"bar\" style=\"width:\(Int(((row.f1 ?? 0) * 120).rounded()))px\"></span></td></tr>\n"
        }
        return html + "</table><p class=\"note\">Sorted weakest first. A class the model never predicts has no precision (–).</p></section>\n"
    }

    static func shadow(_ s: ShadowComparison?) -> String {
        guard let s else { return "" }
        var html = "<section id=\"shadow\"><h2>Shadow against live</h2>\n<table><tr><th></th><th>live \(escape(s.live))</th><th>shadow \(escape(s.shadow))</th></tr>\n"
        html += "<tr><td>test accuracy</td><td>\(Report.percent(s.liveTestAccuracy))</td><td>\(Report.percent(s.shadowTestAccuracy))</td></tr></table>\n"
        html += "<p>They predict the same label on \(Report.percent(s.agreement)) of \(s.compared) pool items; \(s.differing.count) differ"
            + (s.differing.isEmpty ? "" : " (for example " + s.differing.prefix(8).map { "<code>\(escape($0))</code>" }.joined(separator: ", ") + ")")
            + ". <code>quorum models promote</code> makes the shadow live.</p></section>\n"
        return html
    }

    static func drift(_ d: DriftComparison?) -> String {
        guard let d else { return "" }
        var html = "<section id=\"drift\"><h2>Drift</h2>\n"
        html += "<p class=\"callout\(d.alarm ? " alarm" : "")\" data-alarm=\"\(d.alarm)\"><b>\(d.alarm ? "Drift" : "No drift")</b>: PSI \(Report.fixed(d.psi)) "
            + "between \(d.currentItems) new pool items and \(d.referenceItems) reference items; random splits of the reference at these sizes "
            + "reach \(Report.fixed(d.threshold)) 1 time in 100" + (d.at.map { " (recorded \(escape($0)))" } ?? "") + ".</p>\n"
        let moved = d.classes.sorted { $0.psi > $1.psi }.prefix(10)
        guard !moved.isEmpty else { return html + "</section>\n" }
        func share(_ n: Int, _ total: Int) -> String { total == 0 ? "–" : Report.percent(Double(n) / Double(total)) }
        html += "<table><tr><th>predicted class</th><th>reference</th><th>new items</th><th>PSI term</th></tr>\n"
        for c in moved {
            html += "<tr><td>\(escape(c.label))</td><td>\(share(c.reference, d.referenceItems))</td><td>\(share(c.current, d.currentItems))</td>"
                + "<td>\(Report.fixed(c.psi, digits: 4))</td></tr>\n"
        }
        return html + "</table></section>\n"
    }

    static func scorecards(_ doc: ReportDocument) -> String {
        var html = ""
        if !doc.scorecards.isEmpty {
            html += "<section id=\"annotators\"><h2>Annotators</h2>\n<table><tr><th>annotator</th><th>role</th><th>answers</th><th>skips</th>"
                + "<th>flags</th><th>gold accuracy</th><th>agrees with consensus</th><th>overrides suggestion</th><th>median time</th></tr>\n"
            for s in doc.scorecards {
                html += "<tr><td>\(escape(s.name))</td><td>\(escape(s.role))</td><td>\(s.answers)</td><td>\(s.skips)</td><td>\(s.flags)</td>"
                    + "<td>\(Report.percent(s.goldAccuracy))\(s.goldAnswered > 0 ? " of \(s.goldAnswered)" : "")</td>"
                    + "<td>\(Report.percent(s.consensusAgreement))</td><td>\(Report.percent(s.overrideRate))</td>"
                    + "<td>\(escape(KPIDisplay.format(s.medianSeconds, .seconds)))</td></tr>\n"
            }
            html += "</table></section>\n"
        }
        if let pairs = doc.agreement?.pairs, !pairs.isEmpty {
            html += "<section id=\"pairs\"><h2>Annotator pairs (all rounds)</h2>\n<table><tr><th>pair</th><th>shared items</th><th>Cohen κ</th><th>agreement</th></tr>\n"
            for p in pairs {
                html += "<tr><td>\(escape(p.a)) · \(escape(p.b))</td><td>\(p.items)</td><td>\(Report.fixed(p.cohenKappa))</td>"
                    + "<td>\(Report.percent(p.percentAgreement))</td></tr>\n"
            }
            html += "</table></section>\n"
        }
        return html
    }

    // MARK: - Pieces

    static func tile(_ name: String, _ value: String, detail: String? = nil) -> String {
        "<div class=\"tile\"><b>\(escape(value))</b><span class=\"what\">\(escape(name))</span>"
            + (detail.map { "<span class=\"detail\">\(escape($0))</span>" } ?? "") + "</div>"
    }

    /// "+4.2 points since baseline".
    static func delta(_ now: Double?, from start: Double?, since: String) -> String? {
        guard let now, let start, now.isFinite, start.isFinite else { return nil }
        let points = (now - start) * 100
        return (points >= 0 ? "+" : "−") + Report.fixed(abs(points), digits: 1) + " points since \(since)"
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
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}
