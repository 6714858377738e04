import Dispatch
import JobWireProtocol
import JobWireSync
import Synchronization

/// What every durable store's group commit shares (the SQLite and the
/// PostgreSQL store): changes wait in a `Mailbox` until the store's queue
/// commits everything waiting in one transaction, then all their completions
/// run together; the first failure stops the store for good (``JobStore``'s
/// contract: a stopped store fails every later change at once, says why, and
/// tells its owner once).
///
/// Threading: `persist` runs on any thread; ``commitPending(_:)`` on the
/// store's serial `queue` only.
package final class GroupCommit: Sendable {
    private struct PendingChange: Sendable {
        let change: StoredChange
        let completion: @Sendable (Result<Void, JobWireError>) -> Void
    }

    private let queue: DispatchQueue
    private let pending = Mailbox<PendingChange>()
    /// Set once, by the first failure; read on every persist and call.
    private let stopped = Locked<JobWireError?>(nil)
    private let hasStopped = Atomic<Bool>(false)
    private let stopHandler = Locked<(@Sendable (JobWireError) -> Void)?>(nil)
    /// What the store's stop says after the failure's own message, e.g. how the server recovers.
    private let recovery: String
    package let metrics: CommitMetrics

    /// - Parameters:
    ///   - queue: the store's serial queue, where commits run.
    ///   - recovery: what a stopped store's error adds, e.g. "the server stops and restarts from what was committed".
    package init(queue: DispatchQueue, recovery: String, metrics: CommitMetrics) {
        self.queue = queue
        self.recovery = recovery
        self.metrics = metrics
    }

    /// Queues `change`; the first change after a commit schedules `commit` on the queue.
    package func persist(_ change: StoredChange, completion: @escaping @Sendable (Result<Void, JobWireError>) -> Void,
                         commit: @escaping @Sendable () -> Void) {
        if let reason = stoppedBecause {
            completion(.failure(reason))
            return
        }
        if pending.post(PendingChange(change: change, completion: completion)) {
            queue.async(execute: commit)
        }
    }

    package var stoppedBecause: JobWireError? {
        guard hasStopped.load(ordering: .acquiring) else { return nil }
        return stopped.withLock { $0 }
    }

    package func onStop(_ handler: @escaping @Sendable (JobWireError) -> Void) {
        stopHandler.withLock { $0 = handler }
    }

    /// Stops the store because of `error` (the first time only) and returns the error every change now fails with.
    @discardableResult
    package func stop(_ error: JobWireError) -> JobWireError {
        if let reason = stoppedBecause { return reason }
        let reason = JobWireError(.unavailable, Reason.storeUnavailable,
                                  "the store could not commit (\(error.message)); \(recovery)")
        stopped.withLock { $0 = reason }
        hasStopped.store(true, ordering: .releasing)
        stopHandler.withLock { $0 }?(reason)
        return reason
    }

    /// On the queue: hands everything waiting to `transaction` (which writes it all in one transaction, or throws),
    /// records the commit, then completes every change together with its result.
    package func commitPending(_ transaction: ([StoredChange]) throws(JobWireError) -> Void) {
        let batch = pending.takeAll()
        guard !batch.isEmpty else { return }
        let result: Result<Void, JobWireError>
        if let reason = stoppedBecause {
            result = .failure(reason)
        } else {
            let startedAtNs = MonotonicClock.nowNs()
            do throws(JobWireError) {
                try transaction(batch.map(\.change))
                metrics.record(elapsedNs: MonotonicClock.nowNs() &- startedAtNs, changes: batch.count)
                result = .success(())
            } catch {
                result = .failure(stop(error))
            }
        }
        CompletionGroup.completeTogether {
            for pending in batch { pending.completion(result) }
        }
    }
}
