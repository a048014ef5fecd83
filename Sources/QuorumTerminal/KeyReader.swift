import Foundation
import Glibc
import QuorumCore
import QuorumLabelling

/// Reads the terminal's bytes on a thread of its own, so that Ctrl-C is seen
/// whatever the loop is doing.
///
/// The loop takes keys from here. A Ctrl-C drops the keys typed before it and
/// is handed to the loop, which quits cleanly (the claim given back, the
/// summary printed). When the loop has not taken it within `grace` seconds —
/// it is stuck in something long — `abandon` runs instead: by default it
/// restores the terminal and exits with status 130. Every answer is committed
/// in its own transaction, so none is lost; a held claim comes back when its
/// lease expires.
final class KeyReader: @unchecked Sendable {
    enum Next: Equatable { case byte(UInt8), timedOut, ended }

    private let fd: Int32
    private let grace: Double
    private let abandon: @Sendable () -> Void
    // Guarded by `condition`:
    private let condition = NSCondition()
    private var bytes: [UInt8] = []
    private var head = 0
    private var ended = false
    private var stopping = false
    private var running = false
    /// When a Ctrl-C arrived that the loop has not taken yet.
    private var interruptedAt: Double?
    /// Wakes the thread's poll when stopping.
    private var wake: [Int32] = [-1, -1]

    init(fd: Int32, grace: Double, abandon: @escaping @Sendable () -> Void) {
        self.fd = fd
        self.grace = grace
        self.abandon = abandon
    }

    func start() {
        condition.lock()
        defer { condition.unlock() }
        guard !running else { return }
        guard pipe(&wake) == 0 else { return }
        running = true
        stopping = false
        Thread.detachNewThread { [self] in run() }
    }

    /// Stops reading (waiting briefly for the thread, so no byte meant for the shell is taken).
    func stop() {
        condition.lock()
        guard running else { condition.unlock(); return }
        stopping = true
        var byte: UInt8 = 1
        _ = Glibc.write(wake[1], &byte, 1)
        let deadline = Date().addingTimeInterval(0.5)
        while running, condition.wait(until: deadline) {}
        condition.unlock()
    }

    private func run() {
        var buffer = [UInt8](repeating: 0, count: 256)
        var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: wake[0], events: Int16(POLLIN), revents: 0)]
        while true {
            let ready = poll(&fds, 2, 100)
            condition.lock()
            if stopping || ended {
                running = false
                close(wake[0]); close(wake[1])
                condition.broadcast()
                condition.unlock()
                return
            }
            if let since = interruptedAt, monotonicSeconds() - since > grace {
                condition.unlock()
                abandon()
                condition.lock()
                interruptedAt = nil
                condition.unlock()
                continue
            }
            condition.unlock()
            guard ready > 0, fds[0].revents != 0 else { continue }
            let n = read(fd, &buffer, buffer.count)
            if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            condition.lock()
            if n <= 0 { ended = true }
            for b in buffer.prefix(max(n, 0)) {
                if b == 3 {   // Ctrl-C: what was typed before it no longer matters
                    bytes.removeAll(keepingCapacity: true); head = 0
                    interruptedAt = monotonicSeconds()
                }
                bytes.append(b)
            }
            condition.broadcast()
            condition.unlock()
        }
    }

    /// The next byte, waiting at most `timeout` seconds (nil: as long as it takes).
    func next(timeout: Double?) -> Next {
        condition.lock()
        defer { condition.unlock() }
        let deadline = timeout.map { Date().addingTimeInterval($0) }
        while head == bytes.count {
            if ended { return .ended }
            if let deadline {
                if !condition.wait(until: deadline) && head == bytes.count { return ended ? .ended : .timedOut }
            } else {
                condition.wait()
            }
        }
        let b = bytes[head]
        head += 1
        if head == bytes.count { bytes.removeAll(keepingCapacity: true); head = 0 }
        if b == 3 { interruptedAt = nil }
        return .byte(b)
    }

    /// The next byte without taking it, if one arrives within `timeout` seconds.
    func peek(timeout: Double) -> UInt8? {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(timeout)
        while head == bytes.count, !ended, condition.wait(until: deadline) {}
        return head < bytes.count ? bytes[head] : nil
    }
}
