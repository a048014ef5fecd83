import Foundation
import Testing

/// Issue 15: the labelling page on a multi-label project in headless Chromium —
/// keys toggle labels (shown pressed), the model's suggestion pre-selects the
/// labels above 0.5, Enter submits the set, and the answers stored are those sets.
@Suite struct MultiLabelBrowserTests {
    @Test(.enabled(if: Browser.available, "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"))
    func keysToggleLabelsAndEnterSubmitsTheSetInChromium() throws {
        let cli = CLI()
        let session = BrowserSession()
        defer {
            session.close()
            cli.cleanUp()
        }
        try cli.ok(["init", "--task", "multi-label", "--labels", "sport,politics,<b>money</b>"])
        // Seeds: texts about sport and/or politics; money never applies, so the suggestion leaves it off.
        var seed: [String] = []
        for i in 0..<8 {
            seed.append(#"{"id":"s\#(i)","text":"football match goal team \#(i)","labels":["sport"]}"#)
            seed.append(#"{"id":"p\#(i)","text":"election vote parliament minister \#(i)","labels":["politics"]}"#)
            seed.append(#"{"id":"b\#(i)","text":"football election team vote \#(i)","labels":["sport","politics"]}"#)
        }
        try cli.ok(["import", try cli.write("seed.jsonl", seed.joined(separator: "\n") + "\n"), "--as", "seed"])
        try cli.ok(["import", try cli.write("pool.jsonl", """
            {"id":"q1","text":"football goal team match"}
            {"id":"q2","text":"election minister vote parliament"}
            {"id":"q3","text":"a football team and an election vote"}
            """)])
        try cli.ok(["train", "--members", "2"])
        try cli.ok(["round", "start", "--size", "3", "--overlap", "1"])
        let token = try #require(try cli.json(["annotators", "add", "web"])["token"] as? String)

        let base = try session.serve(cli)
        let web = try session.start()
        try web.navigate(base + "/")
        try web.type(into: "#token", token + WebDriver.enter)
        try web.waitUntil("the first task is shown", "return document.body.dataset.state === 'task' && document.body.dataset.pending === '0'")
        #expect(try web.script("return document.title") as? String == "Quorum", "the label name is shown as text, not HTML")
        #expect(try web.script("return document.querySelectorAll('#labels b').length") as? Int == 0)

        func shown() throws -> String { try web.script("return document.getElementById('item').dataset.id") as? String ?? "" }
        func pressed() throws -> [String] {
            try web.script("return [...document.querySelectorAll('#labels button[aria-pressed=true]')].map(b => b.dataset.label)") as? [String] ?? []
        }
        var answered: [String: [String]] = [:]
        for _ in 0..<3 {
            let id = try shown()
            // The suggestion pre-selects: q1 sport, q2 politics, q3 both (a model trained on 24 seeds).
            let expected = ["q1": ["sport"], "q2": ["politics"], "q3": ["sport", "politics"]][id]!
            #expect(try pressed() == expected, "item \(id): the suggestion's labels are pre-selected")
            // Toggle money on (key 3), sport off and on again (key 1), then submit.
            try web.press("3")
            try web.press("1")
            try web.press("1")
            #expect(try pressed() == expected + ["<b>money</b>"])
            try web.press(WebDriver.enter)
            answered[id] = expected + ["<b>money</b>"]
            if answered.count < 3 {
                try web.waitUntil("the next item", "return document.getElementById('item').dataset.id !== \(WebDriver.js(id)) && document.body.dataset.pending === '0'")
            }
        }
        try web.waitUntil("every answer is saved", "return document.body.dataset.pending === '0' && document.body.dataset.state !== 'task'")
        let consensus = try #require(try cli.json(["consensus"])["labels"] as? [String: [String]])
        #expect(consensus == answered)
    }
}

/// Issue 15: the labelling page on a preference project in headless Chromium —
/// the prompt and both responses are shown as text side by side, and keys 1, 2, 3 answer a, b, tie.
@Suite struct PreferenceBrowserTests {
    @Test(.enabled(if: Browser.available, "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"))
    func showsBothResponsesAsTextAndKeysAnswerInChromium() throws {
        let cli = CLI()
        let session = BrowserSession()
        defer {
            session.close()
            cli.cleanUp()
        }
        try cli.ok(["init", "--task", "preference"])
        let hostile = #"<img src=x onerror="document.title='pwned'">"#
        let lines = (0..<3).map { i in
            String(decoding: try! JSONSerialization.data(withJSONObject: [
                "id": "q\(i)", "prompt": "Which answer is kinder? \(hostile)", "a": "response a\(i) \(hostile)", "b": "response b\(i) <script>document.title='pwned'</script>",
            ], options: [.sortedKeys]), as: UTF8.self)
        }
        try cli.ok(["import", try cli.write("pool.jsonl", lines.joined(separator: "\n") + "\n")])
        try cli.ok(["round", "start", "--size", "3", "--overlap", "1"])
        let token = try #require(try cli.json(["annotators", "add", "web"])["token"] as? String)
        let base = try session.serve(cli)
        let web = try session.start()
        try web.navigate(base + "/")
        try web.type(into: "#token", token + WebDriver.enter)
        var answered: [String: String] = [:]
        for (key, label) in [("1", "a"), ("2", "b"), ("3", "tie")] {
            try web.waitUntil("a task is shown", "return document.body.dataset.state === 'task' && document.body.dataset.pending === '0'")
            let id = try web.script("return document.getElementById('item').dataset.id") as? String ?? ""
            let shown = try web.script("return [...document.querySelectorAll('#item-text .response p')].map(p => p.textContent)") as? [String]
            let n = id.dropFirst()
            #expect(shown == ["response a\(n) \(hostile)", "response b\(n) <script>document.title='pwned'</script>"], "item \(id): both responses, as text")
            #expect(try web.script("return document.querySelector('#item-text .prompt').textContent") as? String == "Which answer is kinder? \(hostile)")
            #expect(try web.script("return document.querySelectorAll('#item img, #item script').length") as? Int == 0)
            try web.press(key)
            answered[id] = label
            try web.waitUntil("the answer is saved", "return document.getElementById('item').dataset.id !== \(WebDriver.js(id)) && document.body.dataset.pending === '0'")
        }
        #expect(try web.script("return document.title") as? String == "Quorum")
        #expect(try cli.json(["consensus"])["labels"] as? [String: String] == answered)
    }
}
