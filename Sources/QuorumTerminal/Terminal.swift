import Glibc
import QuorumCore
import QuorumLabelling

/// The controlling terminal in raw mode: keys arrive one at a time, unechoed.
/// Restores the original mode when closed, also after `q` or an error.
///
/// Keys are read on a thread of their own (`KeyReader`), so Ctrl-C works
/// whatever the loop is doing: it quits cleanly at the next key read, and if
/// the loop is stuck for `interruptGrace` seconds, the terminal is restored
/// and the process exits with status 130.
public final class RawTerminal {
    private var original = termios()
    private let fd: Int32
    private var active = false
    private let interruptGrace: Double
    private let onAbandonedInterrupt: (@Sendable () -> Void)?
    private var reader: KeyReader?

    /// Whether standard input and output are both terminals.
    public static var isInteractive: Bool { isatty(0) == 1 && isatty(1) == 1 }

    /// - Parameters:
    ///   - interruptGrace: seconds the loop has to take a Ctrl-C before the process exits.
    ///   - onAbandonedInterrupt: what happens then instead (for tests); the default
    ///     restores the terminal and exits with status 130.
    public init(fd: Int32 = 0, interruptGrace: Double = 1, onAbandonedInterrupt: (@Sendable () -> Void)? = nil) {
        self.fd = fd
        self.interruptGrace = interruptGrace
        self.onAbandonedInterrupt = onAbandonedInterrupt
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
        startReader()
    }

    private func startReader() {
        let fd = fd, saved = original
        let abandon = onAbandonedInterrupt ?? {
            var mode = saved
            tcsetattr(fd, TCSANOW, &mode)
            let text = "\r\nInterrupted. Answers already given are saved; a held item goes back to the queue when its lease ends.\r\n"
            _ = text.utf8CString.withUnsafeBufferPointer { Glibc.write(2, $0.baseAddress, $0.count - 1) }
            _exit(130)
        }
        let reader = KeyReader(fd: fd, grace: interruptGrace, abandon: abandon)
        reader.start()
        self.reader = reader
    }

    public func restore() {
        guard active else { return }
        reader?.stop()
        reader = nil
        tcsetattr(fd, TCSAFLUSH, &original)
        active = false
    }

    deinit { restore() }

    /// Reads one key press; nil at end of input. With a timeout, returns
    /// `.idle` when no key arrives in time (the loop then checks for a resize).
    public func readKey(timeoutMilliseconds: Int32 = -1) -> Key? {
        if reader == nil { startReader() }
        guard let reader else { return nil }
        let first = reader.next(timeout: timeoutMilliseconds >= 0 ? Double(timeoutMilliseconds) / 1000 : nil)
        guard case .byte(let byte) = first else { return first == .ended ? nil : .idle }
        switch byte {
        case 10, 13: return .enter
        case 27: return escapeSequence(reader)
        case 127, 8: return .backspace
        case 3, 4: return .interrupt
        case 0..<128: return .character(Character(Unicode.Scalar(byte)))
        default:
            // A multi-byte UTF-8 character: read its continuation bytes.
            let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2
            var bytes = [byte]
            while bytes.count < length, case .byte(let next) = reader.next(timeout: 0.05) { bytes.append(next) }
            return String(validating: bytes, as: UTF8.self).flatMap(\.first).map(Key.character) ?? .idle
        }
    }

    /// After ESC: a lone Esc, or a sequence sent by one key (`ESC [ 5 ~` is
    /// Page Up, `ESC [ 6 ~` Page Down); other sequences are ignored.
    private func escapeSequence(_ reader: KeyReader) -> Key {
        guard reader.peek(timeout: 0.03) == UInt8(ascii: "[") else { return .escape }
        _ = reader.next(timeout: 0)
        var parameters: [UInt8] = []
        while case .byte(let b) = reader.next(timeout: 0.05) {
            if (0x30...0x3F).contains(b) { parameters.append(b); continue }
            guard b == UInt8(ascii: "~") else { return .idle }
            switch parameters {
            case [UInt8(ascii: "5")]: return .pageUp
            case [UInt8(ascii: "6")]: return .pageDown
            default: return .idle
            }
        }
        return .idle
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
                // Control characters (and bidi marks) typed or pasted are not kept.
                guard !c.unicodeScalars.contains(where: TerminalText.isUnsafe) else { continue }
                line.append(c)
                write(String(c))
            case .idle, .pageUp, .pageDown:
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
    /// The Page Up and Page Down keys.
    case pageUp, pageDown
}
