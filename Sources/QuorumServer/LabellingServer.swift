import Dispatch
import Foundation
import Hummingbird
import Logging
import NIOCore
import QuorumCore
import QuorumPipeline
import QuorumStore

/// `quorum serve`: the labelling web page and the HTTP API, a thin view over
/// `LabellingService` (the terminal loop is the other).
///
/// Every API request carries `Authorization: Bearer TOKEN`; the token's hash
/// names the person and their role. Store calls run on a dispatch queue, off
/// the server's event loops and Swift's cooperative threads, so a request
/// waiting for SQLite's write lock (another process's `round close`) never
/// stalls the others, or `/healthz`.
public enum LabellingServer {
    public struct Options: Sendable {
        public var host: String
        /// 0 picks a free port.
        public var port: Int
        /// How long a claimed task is held, in seconds.
        public var lease: Double

        public init(host: String = "127.0.0.1", port: Int = 8080, lease: Double = LabellingService.defaultLease) {
            self.host = host; self.port = port; self.lease = lease
        }
    }

    /// The largest request body accepted (413 above it).
    public static let maxBody = 1 << 20

    /// Serves until the process is interrupted (SIGINT or SIGTERM end it gracefully).
    /// `listening` is called once with the address actually bound.
    public static func run(store: any ProjectStore, options: Options,
                           listening: @escaping @Sendable (String) -> Void) async throws {
        let api = try API(service: LabellingService(store: store, lease: options.lease))
        let router = Router()
        router.add(middleware: JSONErrors())
        api.routes(router)
        var logger = Logger(label: "quorum.serve")
        logger.logLevel = .warning
        let app = Application(router: router, configuration: .init(address: .hostname(options.host, port: options.port),
                                                                    serverName: "quorum"),
                              onServerRunning: { channel in
                                  let port = channel.localAddress?.port ?? options.port
                                  listening("http://\(options.host.contains(":") ? "[\(options.host)]" : options.host):\(port)")
                              },
                              logger: logger)
        try await app.runService()
    }
}

/// A failed request: its status and the message the JSON body carries.
struct APIError: Error {
    var status: HTTPResponse.Status
    var message: String

    init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    /// How each labelling error reaches an HTTP client.
    init(_ error: LabellingError) {
        switch error {
        case .notRegistered, .notPermitted: self.init(.forbidden, error.description)
        case .unknownLabel: self.init(.badRequest, error.description)
        case .noOpenRound, .notClaimed, .nothingToUndo, .notDisputed: self.init(.conflict, error.description)
        case .store(let e):
            switch e.kind {
            case .badInput: self.init(.badRequest, e.message)
            case .state, .failedCheck: self.init(.conflict, e.message)
            case .environment: self.init(.internalServerError, e.message)
            }
        }
    }
}

/// Runs `body` on a dispatch thread and resumes with its result.
func offloaded<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try body() })
        }
    }
}

/// Answers the router's own errors (no such route, a method not allowed) as
/// JSON `{"error": …}`, like every other error of the API.
struct JSONErrors<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            let message = error.status == .notFound ? "no such page or endpoint: \(request.method) \(request.uri.path)" : (error.body ?? "\(error.status)")
            return API.json(error.status, .object([("error", .string(message))]))
        }
    }
}
