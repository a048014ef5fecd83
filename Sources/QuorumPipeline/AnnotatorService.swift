import Crypto
import QuorumCore
import QuorumReporting
import QuorumStore

/// `quorum annotators add | list`: who may label, and how well they do.
public enum AnnotatorService {
    public enum Role: String, Sendable, CaseIterable { case annotator, adjudicator, lead }

    /// One person's scorecard.
    public typealias Scorecard = AnnotatorScorecard

    /// Registers a person with a role, or changes a registered person's role.
    /// A newly registered person gets an API token (for `quorum serve`), which
    /// is returned once and stored only as its SHA-256; a role change keeps the
    /// token (nil is returned: rotate it with `rotateToken`).
    @discardableResult
    public static func add(store: any ProjectStore, name: String, role: Role) throws -> String? {
        try validateAnnotatorName(name)
        return try store.write { w in
            let known = try w.annotators().contains { $0.name == name }
            try w.setAnnotator(name, role: role.rawValue)
            var token: String?
            if !known {
                let t = newToken()
                try w.setTokenHash(name, tokenHash(t))
                token = t
            }
            try w.appendEvent(EventRecord(kind: "annotator", annotator: name, detailJSON: JSONValue.object([("role", .string(role.rawValue))]).serialized()))
            return token
        }
    }

    /// `quorum annotators token NAME --rotate`: a new token; the old one stops working at once.
    public static func rotateToken(store: any ProjectStore, name: String) throws -> String {
        try validateAnnotatorName(name)
        return try store.write { w in
            guard try w.annotators().contains(where: { $0.name == name }) else { throw notRegistered(name) }
            let t = newToken()
            try w.setTokenHash(name, tokenHash(t))
            try w.appendEvent(EventRecord(kind: "annotator.token", annotator: name, detailJSON: "{\"rotated\":true}"))
            return t
        }
    }

    /// A token: "qrm_" and 32 random bytes (the system's CSPRNG) in hex.
    static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return "qrm_" + (0..<4).map { _ in
            let v = generator.next() as UInt64
            let hex = String(v, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }

    /// The SHA-256 (hex) of a token: what the project stores and looks tokens up by.
    public static func tokenHash(_ token: String) -> String {
        hexString(SHA256.hash(data: Array(token.utf8)))
    }

    /// Who may label: only people the lead registered (the default), or
    /// anyone who gives a name (registered on their first answer).
    public enum Policy: String, Sendable, CaseIterable { case registered, open }
    static let policyKey = "labelling_policy"

    /// `quorum annotators policy open|registered`.
    public static func setPolicy(store: any ProjectStore, _ policy: Policy) throws {
        try store.write { w in
            try w.setSetting(policyKey, policy.rawValue)
            try w.appendEvent(EventRecord(kind: "annotators.policy", detailJSON: JSONValue.object([("policy", .string(policy.rawValue))]).serialized()))
        }
    }

    public static func policy(_ r: any StoreReader) throws -> Policy {
        try r.setting(policyKey).flatMap(Policy.init(rawValue:)) ?? .registered
    }

    /// Lets `name` label: a registered person (any role), or anyone under the
    /// open policy (registered as an annotator on the spot). Everyone else is
    /// refused with what the lead should do.
    static func admit(_ w: any StoreWriter, _ name: String) throws {
        try validateAnnotatorName(name)
        if try w.annotators().contains(where: { $0.name == name }) { return }
        guard try policy(w) == .open else { throw notRegistered(name) }
        try w.ensureAnnotator(name, role: Role.annotator.rawValue)
    }

    /// `admit`'s check, read-only: for refusing before a terminal is asked for.
    public static func checkMayLabel(store: any ProjectStore, name: String) throws {
        try validateAnnotatorName(name)
        try store.read { r in
            guard try r.annotators().contains(where: { $0.name == name }) || policy(r) == .open else { throw notRegistered(name) }
        }
    }

    static func notRegistered(_ name: String) -> QuorumError {
        QuorumError(.state, "\(name) is not registered to label in this project",
                    hint: "the lead registers people with `quorum annotators add \(name)` (or lets anyone label with `quorum annotators policy open`)")
    }

    /// Every registered person's scorecard.
    ///
    /// - Complexity: O(answers + items).
    public static func list(store: any ProjectStore) throws -> [Scorecard] {
        try store.read { r in
            let labels = try r.project().labels
            var gold: [Int64: String] = [:]
            for item in try r.items(kinds: [.gold]) { gold[item.key] = item.label }
            let consensus = try r.consensus()
            var suggestions: [Int: [Int64: Prediction]] = [:]
            for round in try r.rounds() { if let m = round.modelVersion { suggestions[round.id] = try r.predictions(model: m) } }
            let answers = try r.answers(round: nil)
            return try r.annotators().map { person in
                let mine = answers.filter { $0.annotator == person.name }
                let given = mine.filter { $0.label != nil }
                let onGold = given.filter { gold[$0.itemKey] != nil }
                let settled = given.filter { consensus[$0.itemKey]?.label != nil && gold[$0.itemKey] == nil }
                var overrides = 0, suggested = 0, traps = 0, fell = 0, blind = 0, blindSame = 0
                for a in given {
                    guard let p = suggestions[a.roundID]?[a.itemKey] else { continue }
                    let suggestion = labels.names[p.label]
                    if a.blind {
                        blind += 1
                        if a.label == suggestion { blindSame += 1 }
                        continue
                    }
                    suggested += 1
                    if a.label != suggestion { overrides += 1 }
                    if let truth = gold[a.itemKey], suggestion != truth {
                        traps += 1
                        if a.label == suggestion { fell += 1 }
                    }
                }
                let seconds = mine.map(\.seconds).filter { $0 > 0 }.sorted()
                func share(_ n: Int, _ d: Int) -> Double? { d == 0 ? nil : Double(n) / Double(d) }
                return Scorecard(
                    name: person.name, role: person.role, answers: given.count,
                    skips: mine.filter { $0.label == nil && !$0.flagged }.count, flags: mine.filter(\.flagged).count,
                    goldAnswered: onGold.count, goldAccuracy: share(onGold.filter { $0.label == gold[$0.itemKey] }.count, onGold.count),
                    consensusAgreement: share(settled.filter { $0.label == consensus[$0.itemKey]?.label }.count, settled.count),
                    overrideRate: share(overrides, suggested), wrongSuggestionsAccepted: share(fell, traps),
                    agreementWithSuggestionShown: share(suggested - overrides, suggested),
                    agreementWithModelBlind: share(blindSame, blind),
                    medianSeconds: seconds.isEmpty ? nil : seconds[seconds.count / 2])
            }
        }
    }
}
