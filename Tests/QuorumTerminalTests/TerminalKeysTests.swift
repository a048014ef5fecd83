import Foundation
import Glibc
import Testing
@testable import QuorumTerminal
import QuorumLabelling

/// Keys read from a real pseudo-terminal: Ctrl-C whatever the loop is doing, and page keys.
@Suite(.serialized) struct TerminalKeysTests {
    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var raised = false
        func raise() { lock.withLock { raised = true } }
        var isRaised: Bool { lock.withLock { raised } }
    }

    /// A terminal on the slave side of a new pty, and the master to type into.
    func pty(grace: Double, flag: Flag) throws -> (RawTerminal, Int32, Int32) {
        var master: Int32 = -1, slave: Int32 = -1
        guard openpty(&master, &slave, nil, nil, nil) == 0 else { throw CancellationError() }
        let terminal = RawTerminal(fd: slave, interruptGrace: grace, onAbandonedInterrupt: { flag.raise() })
        terminal.enable()
        return (terminal, master, slave)
    }

    func type(_ master: Int32, _ keys: String) {
        _ = keys.utf8CString.withUnsafeBufferPointer { write(master, $0.baseAddress, $0.count - 1) }
    }

    @Test func ctrlCIsReadFirstAndDropsWhatWasTypedBefore() throws {
        let flag = Flag()
        let (terminal, master, slave) = try pty(grace: 5, flag: flag)
        defer { terminal.restore(); close(master); close(slave) }
        type(master, "12\u{3}")
        usleep(100_000)
        #expect(terminal.readKey(timeoutMilliseconds: 2000) == .interrupt)
        #expect(terminal.readKey(timeoutMilliseconds: 50) == .idle, "the keys typed before Ctrl-C are dropped")
        #expect(!flag.isRaised)
    }

    @Test func ctrlCWhileTheLoopIsBusyEndsItAfterTheGrace() throws {
        let flag = Flag()
        let (terminal, master, slave) = try pty(grace: 0.3, flag: flag)
        defer { terminal.restore(); close(master); close(slave) }
        type(master, "\u{3}")
        let deadline = Date().addingTimeInterval(3)
        while !flag.isRaised, Date() < deadline { usleep(20_000) }   // "busy": no key is read
        #expect(flag.isRaised, "a Ctrl-C nobody reads ends the loop")
    }

    @Test func pageKeysAndALoneEscape() throws {
        let flag = Flag()
        let (terminal, master, slave) = try pty(grace: 5, flag: flag)
        defer { terminal.restore(); close(master); close(slave) }
        type(master, "\u{1B}[6~\u{1B}[5~")
        #expect(terminal.readKey(timeoutMilliseconds: 2000) == .pageDown)
        #expect(terminal.readKey(timeoutMilliseconds: 2000) == .pageUp)
        type(master, "\u{1B}")
        #expect(terminal.readKey(timeoutMilliseconds: 2000) == .escape)
        type(master, "é")
        #expect(terminal.readKey(timeoutMilliseconds: 2000) == .character("é"))
    }
}
