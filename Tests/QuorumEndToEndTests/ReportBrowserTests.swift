import Foundation
import Testing

/// Issue 14, item 5: the HTML report of a real project (three rounds on the bundled
/// digits, a shadow model, a shifted pool) in headless Chromium. With
/// QUORUM_REPORT_SCREENSHOT_DIR set, the page, its screenshot and its print are
/// written there (experiments/report/ keeps the ones committed).
@Suite struct ReportBrowserTests {
    @Test(.enabled(if: Browser.available, "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"))
    func theReportReadsInChromium() throws {
        let cli = CLI()
        let session = BrowserSession()
        defer {
            session.close()
            cli.cleanUp()
        }
        let page = try Self.project(cli)
        let web = try session.start(consoleLog: true)
        try web.navigate(URL(fileURLWithPath: page).absoluteString)

        // The title is the project's name, as text.
        #expect(try web.script("return document.title") as? String == "Quorum report: Digits <demo> & co")
        #expect(try web.script("return document.querySelectorAll('script, img, iframe, link').length") as? Int == 0, "self-contained")

        // The KPI tiles: one per KPI, and exactly the breaches `quorum check` reports are marked.
        let check = try cli.run(["check", "--format", "json"])
        #expect(check.status == 1, "the scripted project breaks a bound: \(check.stdout)")
        let breaches = try #require(try JSONSerialization.jsonObject(with: Data(check.stdout.utf8)) as? [String: Any])["breaches"] as? [[String: Any]]
        let breached = Set(try #require(breaches).compactMap { $0["kpi"] as? String })
        #expect(breached.contains("override_rate") && breached.contains("drift_psi"), "\(breached)")
        #expect(try web.script("return document.querySelectorAll('#kpis .tile').length") as? Int == 11)
        let marked = try web.script("return Array.from(document.querySelectorAll('#kpis .tile.breach')).map(t => t.dataset.kpi)") as? [String] ?? []
        #expect(Set(marked) == breached)
        // A breach reads as one without colour: its tile says which bound it broke.
        let overrideTile = try web.script("return document.querySelector('#kpis .tile[data-kpi=override_rate]').textContent") as? String ?? ""
        #expect(overrideTile.contains("above max 5.0%"), "\(overrideTile)")

        // The learning curve: a tick for the baseline and every round, the baseline marked, a y axis fitted to the data.
        #expect(try web.script("return document.querySelectorAll('svg[data-chart=learning] .xtick').length") as? Int == 4)
        #expect(try web.script("return document.querySelectorAll('svg[data-chart=learning] rect.baseline').length") as? Int == 1)
        let yTicks = try web.script("return Array.from(document.querySelectorAll('svg[data-chart=learning] .ytick')).map(t => t.textContent)") as? [String] ?? []
        #expect(yTicks.count >= 3 && yTicks.first != "0.0%", "\(yTicks)")
        #expect(try web.script("return document.querySelectorAll('svg[data-chart=agreement] .xtick').length") as? Int == 3)
        // Every chart is drawn at a readable size.
        let sizes = try web.script("return Array.from(document.querySelectorAll('svg')).map(s => s.getBoundingClientRect().width)") as? [Double] ?? []
        #expect(sizes.count == 3 && sizes.allSatisfy { $0 > 400 }, "\(sizes)")

        // The sections a lead reads: stopping, per-class F1 (all ten digits), shadow, drift (an alarm), scorecards.
        for id in ["stopping", "learning", "agreement", "rounds", "kpi-rounds", "classes", "shadow", "drift", "annotators"] {
            #expect(try web.script("return document.getElementById('\(id)') !== null") as? Bool == true, "section \(id)")
        }
        #expect(try web.script("return document.querySelectorAll('#classes tr').length") as? Int == 11)
        #expect(try web.script("return document.querySelector('#drift .callout').dataset.alarm") as? String == "true")
        #expect(try web.script("return document.querySelectorAll('#annotators tr').length") as? Int == 3)
        // Nothing is wider than the window.
        #expect(try web.script("return document.documentElement.scrollWidth <= window.innerWidth") as? Bool == true)

        // No console errors or warnings.
        let console = try web.consoleMessages().filter { ["SEVERE", "WARNING"].contains($0["level"] as? String ?? "") }
        #expect(console.isEmpty, "\(console)")

        // The whole page as a person sees it, then as printed.
        let height = try #require(try web.script("return document.documentElement.scrollHeight") as? Int)
        try web.resize(width: 1100, height: min(height + 140, 8000))
        let png = try web.screenshot()
        #expect(png.count > 50_000 && png.prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]), "a real screenshot (\(png.count) bytes)")
        try web.devTools("Emulation.setEmulatedMedia", ["media": "print"])
        #expect(try web.script("return getComputedStyle(document.querySelector('#kpis .tile.breach')).borderTopColor") as? String == "rgb(0, 0, 0)",
                "in print, a breach is marked by a black border, not by colour alone")
        let pdf = try web.printPDF()
        #expect(pdf.prefix(5) == Data("%PDF-".utf8) && pdf.count > 20_000)
        if let dir = ProcessInfo.processInfo.environment["QUORUM_REPORT_SCREENSHOT_DIR"] {
            try png.write(to: URL(fileURLWithPath: dir).appendingPathComponent("report.png"))
            try pdf.write(to: URL(fileURLWithPath: dir).appendingPathComponent("report.pdf"))
            try? FileManager.default.removeItem(atPath: dir + "/report.html")
            try FileManager.default.copyItem(atPath: page, toPath: dir + "/report.html")
        }
    }

    /// Three rounds on digits with two annotators (bob wrong on a quarter of his
    /// items), audits of auto-accepted items, an override bound the rounds break,
    /// a shadow model, then 120 new pool items of two classes only (drift).
    /// Returns the path of the report it wrote.
    static func project(_ cli: CLI) throws -> String {
        try cli.ok(["init", "--labels", "0,1,2,3,4,5,6,7,8,9", "--name", "Digits <demo> & co"])
        try cli.register(["alice", "bob"])
        let held = Array(Digits.pool.filter { line in ["\"label\": \"0\"", "\"label\": \"1\""].contains { line.contains($0) } }.prefix(120))
        let heldSet = Set(held)
        let pool = Digits.pool.filter { !heldSet.contains($0) }
        #expect(held.count == 120)
        try cli.ok(["import", try cli.write("pool.jsonl", pool.joined(separator: "\n") + "\n")])
        try cli.ok(["import", try cli.write("seed.jsonl", Digits.seed.joined(separator: "\n") + "\n"), "--as", "seed"])
        try cli.ok(["import", try cli.write("test.jsonl", Digits.test.joined(separator: "\n") + "\n"), "--as", "test"])
        try cli.ok(["train"])
        try cli.ok(["settings", "set", "kpi.override_rate.max", "0.05"])
        for round in 1...3 {
            try cli.ok(["round", "start", "--size", "30", "--overlap", "2", "--auto-accept", "0.99", "--audit-rate", "0.2",
                        "--gold-rate", "0", "--blind-rate", "0", "--seed", String(round)])
            let picked = try #require(try cli.json(["round", "status"])["picks"] as? [[String: Any]]).compactMap { $0["id"] as? String }
            func answers(wrongEvery n: Int) -> String {
                picked.enumerated().map { i, id in
                    let truth = Int(Digits.truth[id]!)!
                    return "{\"id\": \"\(id)\", \"label\": \"\(n > 0 && i % n == 0 ? (truth + 3) % 10 : truth)\", \"seconds\": \(2 + i % 5)}"
                }.joined(separator: "\n") + "\n"
            }
            try cli.ok(["label", "--annotator", "alice", "--answers", try cli.write("alice\(round).jsonl", answers(wrongEvery: 0))])
            try cli.ok(["label", "--annotator", "bob", "--answers", try cli.write("bob\(round).jsonl", answers(wrongEvery: 4))])
            try cli.ok(["consensus", "--method", "dawid-skene"])
            try cli.ok(["round", "close"])
        }
        try cli.ok(["train", "--shadow", "--members", "3"])
        try cli.ok(["import", try cli.write("shifted.jsonl", held.joined(separator: "\n") + "\n")])
        let page = (cli.project as NSString).appendingPathComponent("report.html")
        try cli.ok(["report", "--format", "html", "--out", page])
        return page
    }
}
