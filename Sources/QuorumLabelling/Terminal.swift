import Glibc

/// The controlling terminal in raw mode: keys arrive one at a time, unechoed.
/// Restores the original mode when closed, also after `q` or an error.
public final class RawTerminal {
    private var original = termios()
    private let fd: Int32
    private var active = false

    /// Whether standard input and output are both terminals.
    public static var isInteractive: Bool { isatty(0) == 1 && isatty(1) == 1 }

    public init(fd: Int32 = 0) {
        self.fd = fd
    }

    public func enable() {
        guard !active, tcgetattr(fd, &original) == 0 else { return }
        var raw = original
        // No echo, no line buffering, and Ctrl-C / Ctrl-D arrive as keys (the loop
        // quits cleanly on them: the terminal is restored and the claim given back).
        raw.c_lflag &= ~tcflag_t(ECHO | ICANON | ISIG)
        raw.c_cc.6 = 1 // VMIN: wait for one byte
        raw.c_cc.5 = 0 // VTIME
        tcsetattr(fd, TCSAFLUSH, &raw)
        active = true
    }

    public func restore() {
        guard active else { return }
        tcsetattr(fd, TCSAFLUSH, &original)
        active = false
    }

    deinit { restore() }

    /// Reads one key press; nil at end of input. With a timeout, returns
    /// `.idle` when no key arrives in time (the loop then checks for a resize).
    public func readKey(timeoutMilliseconds: Int32 = -1) -> Key? {
        if timeoutMilliseconds >= 0 {
            var fds = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&fds, 1, timeoutMilliseconds)
            if ready == 0 || (ready < 0 && errno == EINTR) { return .idle }
        }
        var byte: UInt8 = 0
        var n = read(fd, &byte, 1)
        while n < 0 && errno == EINTR { n = read(fd, &byte, 1) }
        guard n == 1 else { return nil }
        switch byte {
        case 10, 13: return .enter
        case 27: return .escape
        case 127, 8: return .backspace
        case 3, 4: return .interrupt
        case 0..<128: return .character(Character(Unicode.Scalar(byte)))
        default:
            // A multi-byte UTF-8 character: read its continuation bytes.
            let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2
            var bytes = [byte]
            while bytes.count < length {
                var next: UInt8 = 0
                guard read(fd, &next, 1) == 1 else { break }
                bytes.append(next)
            }
            return String(validating: bytes, as: UTF8.self).flatMap(\.first).map(Key.character) ?? .idle
        }
    }

    /// Reads a line of text in raw mode (for notes), echoing it.
    public func readLine(prompt: String) -> String? {
        write(prompt)
        var line = ""
        while let key = readKey() {
            switch key {
            case .enter: write("\n"); return line
            case .escape, .interrupt: write("\n"); return nil
            case .backspace:
                if !line.isEmpty { line.removeLast(); write("\u{8} \u{8}") }
            case .character(let c):
                line.append(c)
                write(String(c))
            case .idle:
                continue
            }
        }
        return nil
    }

    public func write(_ s: String) {
        var s = s
        s.withUTF8 { bytes in _ = Glibc.write(1, bytes.baseAddress, bytes.count) }
    }

    /// The terminal's size, or 80×24 when unknown.
    public static func size() -> (columns: Int, rows: Int) {
        var ws = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0 { return (Int(ws.ws_col), Int(ws.ws_row)) }
        return (80, 24)
    }
}

/// A key press the loop understands.
public enum Key: Equatable, Sendable {
    case character(Character)
    case enter, escape, backspace
    /// No key arrived within the timeout.
    case idle
    /// Ctrl-C or Ctrl-D.
    case interrupt
}
