import Dispatch
import Foundation
import JobWireProtocol
import JobWireSync

/// Start-up's two halves on two threads: one reads the stored jobs from
/// SQLite in batches, the caller's thread builds the registry from them.
///
/// Reading the rows (SQLite and the strings and bytes made from them) and
/// building the registry take about as long as each other, and `quick_check`
/// runs beside them on a thread of its own: side by side they share the
/// machine's cores instead of taking turns on one (docs/BENCHMARKS.md has the
/// start-up times). A few batches at most wait between the halves, so memory
/// stays what the registry itself needs.
///
/// Threading: `state` is shared under its lock; the semaphores count the
/// batches waiting (`available`) and the room for more (`room`).
package final class RowPipeline<Element: Sendable>: Sendable {
    private struct State {
        var batches: [[Element]] = []
        var finished = false
        var failure: JobWireError?
        var cancelled = false
    }

    private let state = Locked(State())
    private let available = DispatchSemaphore(value: 0)
    private let room: DispatchSemaphore
    private let producerDone = DispatchSemaphore(value: 0)

    /// Runs `produce` on a thread of its own; it hands batches to `send` and
    /// should stop when `send` returns false (the consumer gave up).
    package init(batchesInFlight: Int,
         produce: @escaping @Sendable (_ send: ([Element]) -> Bool) throws(JobWireError) -> Void) {
        // Made at 0 and raised: libdispatch traps when a semaphore goes
        // below the value it was made with and is then released.
        room = DispatchSemaphore(value: 0)
        for _ in 0..<max(1, batchesInFlight) { room.signal() }
        Thread.detachNewThread { [self] in
            let failure: JobWireError?
            do throws(JobWireError) {
                try produce { batch in self.send(batch) }
                failure = nil
            } catch {
                failure = error
            }
            state.withLock {
                $0.finished = true
                $0.failure = failure
            }
            available.signal()
            producerDone.signal()
        }
    }

    private func send(_ batch: [Element]) -> Bool {
        room.wait()
        let accepted = state.withLock { (state) -> Bool in
            guard !state.cancelled else { return false }
            state.batches.append(batch)
            return true
        }
        if accepted { available.signal() }
        return accepted
    }

    /// Calls `consume` with every batch in order, then returns once the
    /// producer has stopped. Throws the producer's failure, or `consume`'s
    /// (after telling the producer to stop).
    package func consume(_ consume: ([Element]) throws(JobWireError) -> Void) throws(JobWireError) {
        defer { producerDone.wait() }
        while true {
            available.wait()
            let (batch, failure) = state.withLock { (state) -> ([Element]?, JobWireError?) in
                state.batches.isEmpty ? (nil, state.failure) : (state.batches.removeFirst(), nil)
            }
            guard let batch else {
                if let failure { throw failure }
                return
            }
            room.signal()
            do throws(JobWireError) {
                try consume(batch)
            } catch {
                state.withLock { $0.cancelled = true }
                // A producer waiting for room wakes, sees the cancel and stops.
                room.signal()
                throw error
            }
        }
    }
}
