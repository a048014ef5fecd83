import Foundation
import QuorumCore
import QuorumReporting
import QuorumStore

/// The operating figures of a round (`RoundKPIs`), measured from what the
/// project recorded: answers, the event log's times, picks with their
/// deadlines and blind flags, the round model's predictions, consensus,
/// rulings and auto-accepted items. `round close` records them; `report` and
/// `quorum check` measure them again (rulings and late answers come after a close).
public enum KPIService {
    /// The events the KPIs read their times from.
    public static let eventKinds = ["answer", "flag", "consensus.item", "adjudication"]

    /// - Parameters:
    ///   - ece: the round model's ECE (from the round's record).
    ///   - events: the event log, when the caller measures several rounds (read once).
    /// - Complexity: O(events + answers + picks).
    public static func measure(_ r: any StoreReader, round: RoundRecord, ece: Double?, events: [StoredEvent]? = nil) throws -> RoundKPIs {
        var kpis = RoundKPIs()
        kpis.ece = ece
        let picks = try r.picks(round: round.id)
        let answers = try r.answers(round: round.id)
        let project = try r.project()
        let roundItems = Set(picks.map(\.itemID))
        var keyOf: [String: Int64] = [:]
        for a in answers { keyOf[a.itemID] = a.itemKey }
        for (id, pick) in picks { keyOf[id] = pick.itemKey }

        // What the round's model suggested: the label it gave each item the most probability
        // (multi-label: the set of labels above 0.5).
        var suggested: [Int64: String] = [:]
        if let model = round.modelVersion {
            for (key, p) in try r.predictions(model: model) where !p.probabilities.isEmpty {
                suggested[key] = project.suggestedLabel(p)
            }
        }

        // Times from the event log: answers and flags of this round, disputes, rulings.
        let start = Timestamp.seconds(round.createdAt)
        var answerTimes: [String: [Double]] = [:], flagTimes: [String: Double] = [:]
        var disputeTimes: [String: Double] = [:], rulingTimes: [String: Double] = [:]
        var disputedEver = Set<String>()
        for stored in try events ?? r.events(kinds: eventKinds) {
            let e = stored.event
            guard let item = e.itemID, roundItems.contains(item), let at = Timestamp.seconds(stored.at) else { continue }
            switch e.kind {
            case "answer", "flag":
                guard (try? StoredJSON.object(e.detailJSON, "event \(stored.seq)"))?["round"] as? Int == round.id else { continue }
                answerTimes[item, default: []].append(at)
                if e.kind == "flag", flagTimes[item] == nil { flagTimes[item] = at }
            case "consensus.item":
                guard (try? StoredJSON.object(e.detailJSON, "event \(stored.seq)"))?["dispute"] as? Bool == true else { continue }
                disputedEver.insert(item)
                if disputeTimes[item] == nil { disputeTimes[item] = at }
            case "adjudication":
                rulingTimes[item] = at
            default:
                break
            }
        }

        // Escalation: items people answered that went to an adjudicator.
        let answered = Set(answers.filter { $0.label != nil || $0.flagged }.map(\.itemID))
        let consensus = try r.consensus()
        let ruled = Set(try r.adjudications().keys)
        let escalated = answered.filter { id in
            guard let key = keyOf[id] else { return false }
            return flagTimes[id] != nil || disputedEver.contains(id) || consensus[key]?.isDispute == true || ruled.contains(key)
        }
        kpis.escalationRate = ratio(escalated.count, answered.count)

        // Overrides: labelled answers on items whose suggestion was shown.
        let shown = answers.filter { $0.label != nil && !$0.blind && suggested[$0.itemKey] != nil }
        kpis.overrideRate = ratio(shown.filter { $0.label != suggested[$0.itemKey] }.count, shown.count)

        // Corrections: the round's settled items (gold excluded) against the model's prediction.
        let settled = picks.filter { $0.pick.strategy != .gold }.compactMap { pick -> (String, String)? in
            guard let label = consensus[pick.pick.itemKey]?.label, let model = suggested[pick.pick.itemKey] else { return nil }
            return (label, model)
        }
        kpis.correctionRate = ratio(settled.filter { $0.0 != $0.1 }.count, settled.count)

        // The router's share, and how its audited items fared.
        let auto = try r.autoLabels().values.filter { $0.roundID == round.id }
        let sentToPeople = picks.filter { $0.pick.strategy != .gold && $0.pick.strategy != .audit }.count
        kpis.autoAcceptRate = ratio(auto.count, auto.count + sentToPeople)
        let audited = auto.filter(\.audited).compactMap { a in consensus[a.itemKey]?.label.map { ($0, a.label) } }
        kpis.auditPassRate = ratio(audited.filter { $0.0 == $0.1 }.count, audited.count)

        // Time to human: round start to each item's first answer.
        if let start {
            let waits = answerTimes.values.compactMap { $0.min().map { $0 - start } }
            kpis.timeToHumanP50 = percentile(waits, 50)
            kpis.timeToHumanP90 = percentile(waits, 90)
        }
        // Adjudication: from the first flag or dispute to the ruling.
        let rulings = rulingTimes.compactMap { item, ruling -> Double? in
            guard let from = [flagTimes[item], disputeTimes[item]].compactMap({ $0 }).min(), ruling >= from else { return nil }
            return ruling - from
        }
        kpis.adjudicationP50 = percentile(rulings, 50)

        // Deadlines: a task meets its SLA when its K-th answer came before the deadline.
        let due = picks.filter { $0.pick.deadline.map { $0 < 1e300 } ?? false }
        let met = due.filter { id, pick in
            let times = (answerTimes[id] ?? []).sorted()
            return times.count >= round.overlap && times[round.overlap - 1] <= pick.deadline!
        }
        kpis.slaMetRate = ratio(met.count, due.count)
        return kpis
    }

    static func ratio(_ part: Int, _ whole: Int) -> Double? {
        whole == 0 ? nil : Double(part) / Double(whole)
    }

    /// One KPI outside its bound.
    public typealias Breach = KPIBreach

    /// The thresholds in force: the defaults, replaced by what the lead set.
    public static func thresholds(_ r: any StoreReader) throws -> [KPIThreshold] {
        var out: [KPIThreshold] = []
        for name in RoundKPIs.names {
            for bound in [KPIThreshold.Bound.max, .min] {
                let key = "kpi.\(name).\(bound.rawValue)"
                if let text = try r.setting(key) {
                    guard let value = Double(text) else {
                        throw QuorumError(.failedCheck, "setting \(key) = \"\(TerminalText.visible(text))\" is not a number",
                                          hint: "set it again with `quorum settings set \(key) VALUE`")
                    }
                    out.append(KPIThreshold(kpi: name, bound: bound, value: value))
                } else if let d = KPIThreshold.defaults.first(where: { $0.kpi == name && $0.bound == bound }) {
                    out.append(d)
                }
            }
        }
        return out
    }

    /// `quorum check`: the KPIs of `round` (default: the last closed round)
    /// against the thresholds; every breach, in KPI order.
    public static func check(store: any ProjectStore, round id: Int?) throws -> (round: Int, kpis: RoundKPIs, breaches: [Breach]) {
        try store.read { r in
            let rounds = try r.rounds()
            guard let round = id.map({ n in rounds.first { $0.id == n } }) ?? rounds.last(where: { $0.status == .closed }) else {
                throw QuorumError(.state, id.map { "there is no round \($0)" } ?? "there is no closed round to check yet",
                                  hint: "close a round with `quorum round close`, or name one with --round")
            }
            let record = try round.metricsJSON.map { try StoredJSON.object($0, "record of round \(round.id)") }
            var kpis = try measure(r, round: round, ece: record?["ece"] as? Double)
            kpis.driftPSI = (record?["kpis"] as? [String: Any])?["driftPSI"] as? Double
            // Pool items imported since the close are compared now.
            let drift = try DriftService.measure(r)
            if let drift { kpis.driftPSI = drift.psi }
            return (round.id, kpis, try breaches(r, round: round.id, kpis: kpis, drift: drift))
        }
    }

    /// Every KPI of a round outside its bound, in KPI order; without a bound set by
    /// the lead, drift is judged by its sample-size-aware alarm (`drift`, measured now).
    static func breaches(_ r: any StoreReader, round: Int, kpis: RoundKPIs, drift: DriftService.Comparison?) throws -> [Breach] {
        var out = try thresholds(r).compactMap { t -> Breach? in
            guard let value = kpis.value(t.kpi), t.isBroken(by: value) else { return nil }
            return Breach(round: round, threshold: t, value: value)
        }
        if let drift, drift.alarm, try r.setting("kpi.drift_psi.max") == nil {
            out.append(Breach(round: round, threshold: KPIThreshold(kpi: "drift_psi", bound: .max, value: drift.threshold), value: drift.psi))
        }
        return out
    }
}
