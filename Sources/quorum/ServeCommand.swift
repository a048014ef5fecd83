import ArgumentParser
import Foundation
import QuorumCore
import QuorumPipeline
import QuorumServer

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the labelling web page and the HTTP API to remote annotators.",
        discussion: """
            Annotators open http://HOST:PORT/ and log in with the token `quorum annotators add` printed for them; \
            leads see the round at /lead. Every API request carries "Authorization: Bearer TOKEN". \
            It listens on 127.0.0.1 unless told otherwise: put it behind a TLS proxy before you open it to a network. \
            The first line printed is "listening on http://HOST:PORT" (--port 0 picks a free port). Ctrl-C stops it.
            """)
    @OptionGroup var project: ProjectOptions
    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port (0 picks a free one).") var port = 8080
    @Option(help: ArgumentHelp("How long an item shown to someone is held for them, in seconds.", valueName: "seconds"))
    var lease = LabellingService.defaultLease

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be from 0 to 65535.") }
        guard LabellingService.leaseRange.contains(lease) else {
            throw ValidationError("--lease must be a number of seconds from 1 to 86400 (one day), e.g. 600.")
        }
    }

    func run() throws {
        let store = try project.open()
        let options = LabellingServer.Options(host: host, port: port, lease: lease)
        let failure = FailureBox()
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                try await LabellingServer.run(store: store, options: options) { address in
                    // Unbuffered, so a script reading the port sees it at once.
                    FileHandle.standardOutput.write(Data("listening on \(address)\n".utf8))
                }
            } catch {
                failure.set(error)
            }
            done.signal()
        }
        done.wait()
        if let error = failure.get() {
            throw QuorumError(.environment, "the server stopped: \(error)",
                              hint: "check that \(host):\(port) is free and that you may listen on it")
        }
    }
}

/// The server task's error, handed back to the command's thread.
private final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var error: (any Error)?
    func set(_ e: any Error) { lock.lock(); error = e; lock.unlock() }
    func get() -> (any Error)? { lock.lock(); defer { lock.unlock() }; return error }
}
