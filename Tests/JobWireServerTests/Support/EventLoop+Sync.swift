import Dispatch
@testable import JobWireServer

/// What a test reads or does on a loop's own thread (a connection's output,
/// a forced close). Kept out of `EventLoop`: the server never waits for a loop.
extension EventLoop {
    /// Runs `body` on the loop thread and waits for it. Must not
    /// be called on the loop thread. Once the loop has stopped, nothing else
    /// touches what it owned, so `body` runs on the caller's thread.
    func sync<T>(_ body: () -> T) -> T {
        precondition(!isInLoop, "EventLoop.sync called on its own loop")
        return withoutActuallyEscaping(body) { body -> T in
            let box = SyncBox(body)
            let done = DispatchSemaphore(value: 0)
            if execute({ box.run(); done.signal() }) {
                done.wait()
            } else {
                stop()
                box.run()
            }
            return box.take()
        }
    }
}

/// Carries a non-escaping body to the loop thread and its result back;
/// `EventLoop.sync` waits in between, so the two never run at once.
private final class SyncBox<T>: @unchecked Sendable {
    /// Released as soon as it ran: `withoutActuallyEscaping` checks that
    /// nothing holds it when `sync` returns, while the loop's task list may
    /// still hold this box for a moment.
    private var body: (() -> T)?
    private var value: T?

    init(_ body: @escaping () -> T) {
        self.body = body
    }

    func run() {
        value = body?()
        body = nil
    }

    /// Only after `run`: `sync` either waited for it or called it itself.
    func take() -> T {
        guard let value else { preconditionFailure("EventLoop.sync: the body did not run") }
        return value
    }
}
