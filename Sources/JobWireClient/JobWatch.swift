import JobWireProtocol

/// One event of a watched job.
public struct JobEvent: Sendable, Equatable {
    /// What the event means.
    public enum Kind: Sendable, Equatable {
        /// The job's current state, first event of a watch.
        case snapshot
        /// The job changed.
        case change
        /// The server no longer had the changes after the last revision this
        /// watch delivered: `job` is the full current state, and changes in
        /// between were missed.
        case resync
    }

    /// Snapshot, change or resync.
    public var kind: Kind
    /// The job's revision after this event; increasing within a watch, except
    /// that a ``Kind/resync`` may restart lower (the server's history replaced
    /// the consumer's; later events increase from it).
    public var revision: UInt64
    /// The job's state at `revision`.
    public var job: Job
    /// Log lines the worker appended in this change.
    public var newLogLines: [String]
}

/// A job's events as an `AsyncSequence` that survives anything: when the
/// connection drops or the server drains or restarts, it reconnects with
/// backoff and resumes after the last revision it delivered, so the consumer
/// sees no duplicate and no gap — or an explicit ``JobEvent/Kind/resync``
/// when the server no longer has the history. The sequence finishes after
/// the event that carries a terminal status, and throws ``JobWireError``
/// when the job does not exist (or is deleted) and `CancellationError` when
/// the consuming task is cancelled.
public struct JobWatch: AsyncSequence, Sendable {
    /// Each event of the job.
    public typealias Element = JobEvent

    let client: JobWireClient
    let jobID: String
    let afterRevision: UInt64
    let logTail: UInt32

    /// Starts the watch; it runs until the iterator is released or its task cancelled.
    public func makeAsyncIterator() -> Iterator {
        let (stream, continuation) = AsyncThrowingStream<JobEvent, any Error>.makeStream()
        let driver = Task { [client, jobID, afterRevision, logTail] in
            var driver = WatchDriver(client: client, jobID: jobID, logTail: logTail, lastRevision: afterRevision,
                                     output: continuation)
            await driver.run()
        }
        continuation.onTermination = { _ in driver.cancel() }
        return Iterator(base: stream.makeAsyncIterator())
    }

    /// Throws `CancellationError` when the consuming task is cancelled (a plain
    /// stream would just end, which looks like a finished job).
    public struct Iterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<JobEvent, any Error>.Iterator

        /// The next event; nil after the terminal one.
        public mutating func next() async throws -> JobEvent? {
            let event = try await base.next()
            if event == nil { try Task.checkCancellation() }
            return event
        }
    }
}

/// One watch (see ``ResumingStream``): resumes after the last delivered revision.
struct WatchDriver: ResumingStream {
    let client: JobWireClient
    let jobID: String
    let logTail: UInt32
    var lastRevision: UInt64
    let output: AsyncThrowingStream<JobEvent, any Error>.Continuation

    var method: Method { .watchJob }

    func request() -> [UInt8] {
        WatchJobRequest(jobID: jobID, afterRevision: lastRevision, logTail: logTail).encode()
    }

    mutating func consume(_ signals: AsyncStream<StreamSignal>) async throws -> StreamEnding {
        var delivered = false
        for await signal in signals {
            switch signal {
            case .reply(let message):
                let event = try WatchEvent(decoding: message)
                // A RESYNC replaces the consumer's state whatever its revision: after a
                // restart it can be lower than the one resumed from (the server lost or
                // never had the later ones), and dropping it would hide every change
                // until revisions passed the old number.
                guard event.type != .bookmark, let job = event.job,
                      event.revision > lastRevision || event.type == .resync else { continue }
                let kind: JobEvent.Kind = switch event.type {
                case .resync: .resync
                case .snapshot: lastRevision == 0 ? .snapshot : .resync
                default: .change
                }
                lastRevision = event.revision
                delivered = true
                output.yield(JobEvent(kind: kind, revision: event.revision, job: job, newLogLines: event.newLogLines))
            case .end(let status):
                if status.isOK { return .finished }
                if status.code == .cancelled, Task.isCancelled { throw CancellationError() }
                let error = JobWireError(status)
                if RetryPolicy.watchEndIsRetryable(error) { return .retry(delivered: delivered, retryAfter: error.retryAfter) }
                throw error
            }
        }
        return .retry(delivered: delivered, retryAfter: nil)
    }
}
