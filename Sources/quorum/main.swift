import ArgumentParser
import Foundation
import QuorumCore
import QuorumNumerics
import QuorumPipeline

// OpenBLAS picks its kernel when it loads; set the best one for this CPU
// (unless the user chose) and re-execute before any BLAS call.
BLASRuntime.prepareEnvironment()

let command: ParsableCommand
do {
    command = try Quorum.parseAsRoot()
} catch {
    // Help and version go to stdout with exit 0; usage errors exit 2.
    let code = Quorum.exitCode(for: error)
    if code == .success {
        print(Quorum.fullMessage(for: error))
        exit(0)
    }
    printError(Quorum.fullMessage(for: error))
    exit(2)
}

do {
    var runnable = command
    try runnable.run()
} catch let error as QuorumError {
    printError("error: \(error)")
    exit(1)
} catch let error as LabellingError {
    printError("error: \(error.asQuorumError)")
    exit(1)
} catch let error as ExitCode {
    exit(error.rawValue)
} catch {
    // A command group run without a subcommand asks for its help.
    if Quorum.exitCode(for: error) == .success {
        print(Quorum.fullMessage(for: error))
        exit(0)
    }
    printError("error: \(error)")
    exit(1)
}
