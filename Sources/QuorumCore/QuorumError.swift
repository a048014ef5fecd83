/// An error meant for a person: what went wrong, and what to do about it.
///
/// Every error that reaches the command line is a `QuorumError`. Its
/// `description` is the message printed on stderr; `kind` decides the exit code.
public struct QuorumError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The input (a file, a flag value) is wrong. Exit code 1.
        case badInput
        /// A check failed, e.g. `verify` found tampering. Exit code 1.
        case failedCheck
        /// The project is not in a state that allows this command. Exit code 1.
        case state
        /// The environment is missing something (a library, a file). Exit code 1.
        case environment
    }

    public var kind: Kind
    /// What went wrong. For file input it starts with `FILE:LINE: field:`.
    public var message: String
    /// What to do about it.
    public var hint: String?

    public init(_ kind: Kind, _ message: String, hint: String? = nil) {
        self.kind = kind
        self.message = message
        self.hint = hint
    }

    public var description: String {
        guard let hint, !hint.isEmpty else { return message }
        return "\(message). \(hint.prefix(1).uppercased())\(hint.dropFirst())."
    }
}
