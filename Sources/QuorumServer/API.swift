import Foundation
import Hummingbird
import NIOCore
import QuorumCore
import QuorumLabelling
import QuorumPipeline
import QuorumStore

/// The person behind a request's token.
struct Caller: Sendable {
    var name: String
    var role: AnnotatorService.Role
}

/// The routes of `quorum serve`: pages, assets, `/healthz`, and `/api/v1`.
///
/// Every API handler runs its store work through `offloaded` and answers
/// JSON: the document on success, `{"error": message}` otherwise.
final class API: Sendable {
    let service: LabellingService
    var store: any ProjectStore { service.store }
    typealias Roles = Set<AnnotatorService.Role>
    static let anyone: Roles = Set(AnnotatorService.Role.allCases)
    static let adjudicators: Roles = [.adjudicator, .lead]
    static let leads: Roles = [.lead]

    init(service: LabellingService) {
        self.service = service
    }

    func routes(_ router: Router<BasicRequestContext>) {
        // The page, its assets and the health check answer HEAD as GET without the body
        // (uptime checks and link checkers use HEAD).
        func page(_ path: String, _ handler: @escaping @Sendable (Request, BasicRequestContext) async throws -> Response) {
            router.get(RouterPath(stringLiteral: path), use: handler)
            router.head(RouterPath(stringLiteral: path)) { request, context in
                let full = try await handler(request, context)
                return Response(status: full.status, headers: full.headers)
            }
        }
        page("/") { _, _ in Self.asset("index.html") }
        page("/lead") { _, _ in Self.asset("lead.html") }
        page("/assets/:name") { _, context in Self.asset(context.parameters.get("name") ?? "") }
        let store = self.store
        page("/healthz") { _, _ in
            do {
                _ = try await offloaded { try store.read { r in try r.project().name } }
                return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "ok\n")))
            } catch {
                return Self.json(.serviceUnavailable, .object([("error", .string("the database does not answer: \(error)"))]))
            }
        }
        let v1 = router.group("/api/v1")
        v1.get("/me") { request, _ in await self.handle(request, Self.anyone) { caller, _ in try self.me(caller) } }
        v1.get("/next") { request, _ in
            let after = request.uri.queryParameters.get("after").map { $0.nfc }
            return await self.handle(request, Self.anyone) { caller, _ in try self.next(caller, after: after) }
        }
        v1.post("/answers") { request, _ in await self.handle(request, Self.anyone, body: true) { caller, body in try self.answer(caller, body) } }
        v1.post("/undo") { request, _ in
            await self.handle(request, Self.anyone, body: true) { caller, _ in
                let id = try self.service.undo(caller.name)
                return .object([("ok", .bool(true)), ("id", .string(id))])
            }
        }
        // Gives back every task the caller holds (the page calls it on log out and when it closes),
        // so nobody waits for a lease to run out.
        v1.post("/release") { request, _ in
            await self.handle(request, Self.anyone, body: true) { caller, _ in
                try self.service.release(caller.name)
                return .object([("ok", .bool(true))])
            }
        }
        v1.get("/details") { request, _ in
            let id = request.uri.queryParameters.get("id").map { $0.nfc }
            return await self.handle(request, Self.anyone) { caller, _ in
                guard let id, !id.isEmpty else { throw APIError(.badRequest, "give the item: /api/v1/details?id=ITEM_ID") }
                return Self.details(try self.service.details(caller.name, itemID: id))
            }
        }
        v1.get("/disputes/next") { request, _ in
            let after = request.uri.queryParameters.get("after").map { $0.nfc }
            return await self.handle(request, Self.adjudicators) { caller, _ in try self.nextDispute(caller, after: after) }
        }
        // A ruling {"id", "label"}, or {"id", "escalate": reason} to send the dispute on to the lead
        // (as a line of `adjudicate --answers`).
        v1.post("/rulings") { request, _ in
            await self.handle(request, Self.adjudicators, body: true) { caller, body in
                let fields = try Self.object(body)
                let id = try Self.string(fields, "id")
                if let reason = fields["escalate"] {
                    guard let text = reason as? String else { throw APIError(.badRequest, "\"escalate\" must be a string: the reason") }
                    try self.service.escalate(caller.name, itemID: id, reason: text.isEmpty ? "no reason given" : text)
                } else {
                    try self.service.rule(caller.name, itemID: id, label: try self.label(fields))
                }
                return .object([("ok", .bool(true))])
            }
        }
        // Undoes the caller's last ruling; with {"id", "escalation": true}, withdraws their escalation of that item.
        v1.post("/rulings/undo") { request, _ in
            await self.handle(request, Self.adjudicators, body: true) { caller, body in
                let fields = (try? Self.object(body)) ?? [:]
                if fields["escalation"] as? Bool == true {
                    let id = try Self.string(fields, "id")
                    guard try self.service.withdrawEscalation(caller.name, itemID: id) else {
                        throw APIError(.conflict, "you have no open escalation of \(id) to withdraw")
                    }
                    return .object([("ok", .bool(true)), ("id", .string(id))])
                }
                return .object([("ok", .bool(true)), ("id", .string(try self.service.undoRuling(caller.name)))])
            }
        }
        v1.get("/status") { request, _ in
            await self.handle(request, Self.leads) { _, _ in let (counts, task) = try Project.status(self.store); return Project.statusJSON(counts, task: task) }
        }
        v1.get("/report") { request, _ in
            await self.handle(request, Self.leads) { _, _ in try ReportService.json(store: self.store) }
        }
        v1.get("/lead") { request, _ in
            await self.handle(request, Self.leads) { _, _ in try self.leadView() }
        }
    }

    // MARK: - Handlers

    func me(_ caller: Caller) throws -> JSONValue {
        let round = try store.read { r in try r.openRound()?.id }
        let keys = LabelKeys(labels: service.labels.names)
        return .object([
            ("annotator", .string(caller.name)), ("role", .string(caller.role.rawValue)), ("round", .number(round)),
            ("task", .string(service.project.task.rawValue)),
            ("labels", .array(service.labels.names.enumerated().map { i, name in
                .object([("name", .string(name)), ("key", .text(keys.key(forLabel: i).map(String.init)))])
            })),
        ])
    }

    func next(_ caller: Caller, after: String?) throws -> JSONValue {
        let progress: LabellingService.Progress
        let next: NextTask
        do {
            (next, progress) = try service.next(caller.name, after: after)
        } catch .noOpenRound {
            return .object([("task", .null), ("reason", .string("no_round")), ("retry_after", .null),
                            ("progress", .object([("done", .int(0)), ("left", .int(0)), ("mine", .int(0))]))])
        }
        let progressJSON = JSONValue.object([("done", .int(progress.done)), ("left", .int(progress.left)), ("mine", .int(progress.mine))])
        switch next {
        case .task(let task):
            return .object([("task", Self.task(task, lease: service.lease)), ("reason", .null), ("retry_after", .null), ("progress", progressJSON)])
        case .waiting(let until):
            let wait = max(1, min(30, (until - service.store.clock.now()).rounded(.up)))
            return .object([("task", .null), ("reason", .string("waiting")), ("retry_after", .double(wait)), ("progress", progressJSON)])
        case .finished:
            return .object([("task", .null), ("reason", .string("done")), ("retry_after", .null), ("progress", progressJSON)])
        }
    }

    /// `POST /api/v1/answers`: `{"id", "label" | "skip": true | "flag": reason, "seconds"?, "note"?}`.
    func answer(_ caller: Caller, _ body: Data) throws -> JSONValue {
        let fields = try Self.object(body)
        let id = try Self.string(fields, "id")
        let answerField = service.project.task.labelField
        let given = [answerField, "skip", "flag"].filter { fields[$0] != nil && !(fields[$0] is NSNull) }
        guard given.count == 1 else {
            throw APIError(.badRequest, given.isEmpty ? "give one of \"\(answerField)\", \"skip\": true or \"flag\": reason"
                                                      : "give only one of \(given.map { "\"\($0)\"" }.joined(separator: ", "))")
        }
        let response: QuorumLabelling.Response
        switch given[0] {
        case answerField: response = .label(try label(fields))
        case "skip":
            guard fields["skip"] as? Bool == true else { throw APIError(.badRequest, "field \"skip\": give true") }
            response = .skip
        default:
            guard let reason = fields["flag"] as? String else { throw APIError(.badRequest, "field \"flag\": give the reason as a string") }
            response = .flag(reason: reason.isEmpty ? "no reason given" : reason)
        }
        var seconds = 0.0
        if let value = fields["seconds"], !(value is NSNull) {
            // Foundation on Linux reads JSON 0 and 1 as numbers that also cast to Bool: test the JSON type, not the cast.
            guard let number = value as? NSNumber, String(cString: number.objCType) != "c", number.doubleValue.isFinite, number.doubleValue >= 0 else {
                throw APIError(.badRequest, "field \"seconds\": give the seconds taken as a number of 0 or more")
            }
            seconds = number.doubleValue
        }
        var note: String?
        if let value = fields["note"], !(value is NSNull) {
            guard let text = value as? String else { throw APIError(.badRequest, "field \"note\": give the note as a string") }
            note = text.isEmpty ? nil : text
        }
        try service.answer(caller.name, itemID: id, response, note: note, seconds: seconds)
        return .object([("ok", .bool(true))])
    }

    func nextDispute(_ caller: Caller, after: String?) throws -> JSONValue {
        let (next, settled, left) = try service.nextDispute(caller.name, after: after)
        var task = JSONValue.null
        if case .task(let view) = next {
            task = Self.task(view, lease: nil, answers: view.answers)
        }
        return .object([("task", task), ("progress", .object([("settled", .int(settled)), ("left", .int(left))]))])
    }

    /// `GET /api/v1/lead`: the open round's progress, each person's answers in it, and who holds which item.
    func leadView() throws -> JSONValue {
        try store.read { r in
            // The lead's queue: disputes adjudicators escalated (`quorum incidents resolve` rules on them).
            let incidents = JSONValue.array(try IncidentService.open(r).map(\.json))
            guard let round = try r.openRound() else {
                return .object([("round", .null), ("progress", .null), ("annotators", .array([])), ("incidents", incidents)])
            }
            let p = try r.taskProgress(round: round.id)
            var rows: [String: (answered: Int, skipped: Int, flagged: Int, holding: [String])] = [:]
            for person in try r.annotators() { rows[person.name] = (0, 0, 0, []) }
            for a in try r.answers(round: round.id) {
                var row = rows[a.annotator] ?? (0, 0, 0, [])
                if a.flagged { row.flagged += 1 } else if a.label == nil { row.skipped += 1 } else { row.answered += 1 }
                rows[a.annotator] = row
            }
            for claim in try r.activeClaims(round: round.id, now: r.now) {
                rows[claim.annotator, default: (0, 0, 0, [])].holding.append(claim.itemID)
            }
            return .object([
                ("round", .int(round.id)),
                ("progress", .object([("tasks", .int(p.tasks)), ("complete", .int(p.complete)), ("done", .int(p.answers)),
                                      ("left", .int(max(0, p.wanted - p.answers)))])),
                ("annotators", .array(rows.keys.sorted().map { name in
                    let row = rows[name]!
                    return .object([("annotator", .string(name)), ("answered", .int(row.answered)), ("skipped", .int(row.skipped)),
                                    ("flagged", .int(row.flagged)), ("holding", .array(row.holding.map { .string($0) }))])
                })),
                ("incidents", incidents),
            ])
        }
    }

    // MARK: - JSON

    /// The answer in a request: `"label"`, or in a multi-label project `"labels"`,
    /// a list of the project's labels (possibly empty), as the store keeps it.
    func label(_ fields: [String: Any]) throws -> String {
        let project = service.project
        guard project.task == .multiLabel else { return try Self.string(fields, "label") }
        guard let list = fields["labels"] as? [Any], list.allSatisfy({ $0 is String }) else {
            throw APIError(.badRequest, "field \"labels\": give a list of label names (or [] for none)")
        }
        do { return try LabelSetText.encode(names: list.map { ($0 as! String).nfc }, labels: project.labels) } catch {
            throw APIError(.badRequest, "field \"labels\": \(error.message)")
        }
    }

    static func task(_ task: TaskView, lease: Double?, answers: [PersonAnswer]? = nil) -> JSONValue {
        let labelSet = task.labelSets ? try? LabelSet(task.labels) : nil
        func answerJSON(_ label: String?) -> JSONValue {
            guard let labelSet, let label else { return .text(label) }
            return .array((LabelSetText.names(label, labels: labelSet) ?? []).map { .string($0) })
        }
        var fields: [(String, JSONValue)] = [
            ("id", .string(task.itemID)), ("round", task.roundID > 0 ? .int(task.roundID) : .null),
            ("text", .text(task.text?.full)), ("meta", .object(task.meta.map { ($0.key, $0.value) })),
            ("fields", .array(task.fields.map { .string($0) })), ("content", .string(task.content)),
            ("suggestion", task.suggestion.map { s in
                .object([("label", .string(s.label)), ("confidence", .double(s.confidence)),
                         ("alternatives", .array(s.alternatives.map { .object([("label", .string($0.label)), ("confidence", .double($0.confidence))]) }))])
            } ?? .null),
            ("labels", .array(task.labels.map { .string($0) })), ("blind", .bool(task.blind)),
            ("multi_label", .bool(task.labelSets)),
        ]
        if let pair = task.pair {
            fields += [("prompt", .string(pair.prompt)), ("a", .string(pair.a)), ("b", .string(pair.b))]
        }
        if task.labelSets {
            // Multi-label: P(label applies) per label, and the labels it pre-selects (above 0.5).
            fields[fields.firstIndex { $0.0 == "suggestion" }!].1 = task.labelProbabilities.map { p in
                .object([("labels", .array(task.preselected.sorted().map { .string(task.labels[$0]) })),
                         ("probabilities", .object(zip(task.labels, p).map { ($0, .double(Double($1))) }))])
            } ?? .null
        }
        if let lease { fields.append(("lease_seconds", .double(lease))) }
        if let answers {
            fields.append(("answers", .array(answers.map { a in
                .object([("annotator", .string(a.annotator)), (task.labelSets ? "labels" : "label", answerJSON(a.label)),
                         ("flagged", .bool(a.flagged)), ("note", .text(a.note))])
            })))
        }
        return .object(fields)
    }

    static func details(_ details: TaskDetails) -> JSONValue {
        .object([("sections", .array(details.sections.map { section in
            .object([("title", .string(section.title)), ("lines", .array(section.lines.map { .string($0) }))])
        }))])
    }

    /// The request body as a JSON object.
    static func object(_ body: Data) throws -> [String: Any] {
        guard !body.isEmpty else { throw APIError(.badRequest, "the request has no body: send a JSON object") }
        guard let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
            throw APIError(.badRequest, "the body is not a JSON object")
        }
        return object
    }

    /// A required, non-empty string field (NFC, as ids and labels are stored).
    static func string(_ fields: [String: Any], _ name: String) throws -> String {
        guard let value = fields[name] as? String, !value.isEmpty else {
            throw APIError(.badRequest, "field \"\(name)\": \(fields[name] == nil ? "missing" : "give a non-empty string")")
        }
        return value.nfc
    }

    // MARK: - Plumbing

    /// Authenticates the request, checks the caller's role, reads the body
    /// (at most 1 MiB), runs `body` off the event loop and answers JSON.
    func handle(_ request: Request, _ roles: Roles, body wantsBody: Bool = false,
                _ handler: @escaping @Sendable (Caller, Data) throws -> JSONValue) async -> Response {
        guard let token = Self.bearer(request) else {
            return Self.json(.unauthorized, .object([("error", .string("log in: send your token as \"Authorization: Bearer TOKEN\""))]),
                             extra: [.wwwAuthenticate: "Bearer"])
        }
        var bytes = Data()
        if wantsBody {
            do {
                var request = request
                let buffer = try await request.collectBody(upTo: LabellingServer.maxBody)
                bytes = Data(buffer.readableBytesView)
            } catch {
                return Self.json(.contentTooLarge, .object([("error", .string("the request body is over 1 MiB"))]))
            }
        }
        let store = self.store
        let received = bytes
        do {
            let document = try await offloaded { () throws -> JSONValue in
                let hash = AnnotatorService.tokenHash(token)
                guard let found = try store.read({ r in try r.annotator(tokenHash: hash) }),
                      let role = AnnotatorService.Role(rawValue: found.role) else {
                    throw APIError(.unauthorized, "the token is not valid (it may have been rotated): ask your lead for a new one")
                }
                guard roles.contains(role) else {
                    throw APIError(.forbidden, "\(found.name) is \(role == .annotator ? "an" : "a") \(role.rawValue); this needs the role "
                                   + roles.map(\.rawValue).sorted().joined(separator: " or "))
                }
                return try handler(Caller(name: found.name, role: role), received)
            }
            return Self.json(.ok, document)
        } catch let error as APIError {
            return Self.json(error.status, .object([("error", .string(error.message))]))
        } catch let error as LabellingError {
            let e = APIError(error)
            return Self.json(e.status, .object([("error", .string(e.message))]))
        } catch let error as QuorumError {
            let e = APIError(LabellingError.store(error))
            return Self.json(e.status, .object([("error", .string(e.message))]))
        } catch {
            return Self.json(.internalServerError, .object([("error", .string("\(error)"))]))
        }
    }

    static func bearer(_ request: Request) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    static func json(_ status: HTTPResponse.Status, _ value: JSONValue, extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"]
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: value.serialized())))
    }

    /// The pages and their script and style, built into the binary. Scripts
    /// come only from this server (`Content-Security-Policy`), so text in an
    /// item can never run as code, even if a page bug let it into the markup.
    static func asset(_ name: String) -> Response {
        let files: [String: (bytes: [UInt8], type: String)] = [
            "index.html": (PackageResources.index_html, "text/html; charset=utf-8"),
            "lead.html": (PackageResources.lead_html, "text/html; charset=utf-8"),
            "app.css": (PackageResources.app_css, "text/css; charset=utf-8"),
            "quorum.js": (PackageResources.quorum_js, "text/javascript; charset=utf-8"),
            "app.js": (PackageResources.app_js, "text/javascript; charset=utf-8"),
            "lead.js": (PackageResources.lead_js, "text/javascript; charset=utf-8"),
        ]
        guard let file = files[name] else {
            return json(.notFound, .object([("error", .string("no such page"))]))
        }
        return Response(status: .ok, headers: [
            .contentType: file.type, .cacheControl: "no-cache",
            .contentSecurityPolicy: "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
            .xContentTypeOptions: "nosniff",
        ], body: .init(byteBuffer: ByteBuffer(bytes: file.bytes)))
    }
}
