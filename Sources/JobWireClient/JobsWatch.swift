import JobWireProtocol

/// Every change to the jobs of the caller's tenant that match a filter, as
/// an `AsyncSequence` (WatchJobs): first the matching jobs (``JobsEventType/snapshot``
/// pages, then ``JobsEventType/synced``), then each change as
/// ``JobsEventType/entered``, ``JobsEventType/changed`` or ``JobsEventType/left``.
///
/// It survives anything, like ``JobWatch``: when the connection drops or the
/// server drains or restarts, it reconnects with backoff and resumes after
/// the cursor of the last event it delivered, so the consumer sees no gap
/// and no duplicate, or a ``JobsEventType/resync`` (forget everything, a
/// snapshot follows) when the server cannot resume from there. Bookmarks
/// only move the cursor and are not delivered. It never finishes by itself;
/// it throws ``JobWireError`` for a final error and `CancellationError` when
/// the consuming task is cancelled. Feed the events to a ``JobsView`` to
/// hold the matching jobs.
public struct JobsWatch: AsyncSequence, Sendable {
    public typealias Element = JobsEvent

    let client: JobWireClient
    let filter: ListJobsRequest
    let cursor: String

    public func makeAsyncIterator() -> Iterator {
        let (stream, continuation) = AsyncThrowingStream<JobsEvent, any Error>.makeStream()
        let driver = Task { [client, filter, cursor] in
            var driver = JobsWatchDriver(client: client, filter: filter, cursor: cursor, output: continuation)
            await driver.run()
        }
        continuation.onTermination = { _ in driver.cancel() }
        return Iterator(base: stream.makeAsyncIterator())
    }

    /// Throws `CancellationError` when the consuming task is cancelled.
    public struct Iterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<JobsEvent, any Error>.Iterator

        public mutating func next() async throws -> JobsEvent? {
            let event = try await base.next()
            if event == nil { try Task.checkCancellation() }
            return event
        }
    }
}

/// The jobs a WatchJobs stream says match its filter, kept exact by
/// ``apply(_:)``: what a dashboard shows and a worker pool picks from.
public struct JobsView: Sendable, Equatable {
    /// The matching jobs by id.
    public private(set) var jobs: [String: Job] = [:]
    /// True once the snapshot or catch-up is complete (after SYNCED), false
    /// again after a RESYNC.
    public private(set) var isSynced = false
    /// The cursor of the last event applied.
    public private(set) var cursor = ""

    public init() {}

    public mutating func apply(_ event: JobsEvent) {
        switch event.type {
        case .resync:
            jobs.removeAll()
            isSynced = false
        case .snapshot, .entered, .changed:
            for job in event.jobs { jobs[job.jobID] = job }
        case .left:
            jobs.removeValue(forKey: event.jobID)
        case .synced:
            isSynced = true
        case .bookmark, .unspecified:
            break
        }
        if !event.cursor.isEmpty { cursor = event.cursor }
    }

    /// How many of the jobs are in each status.
    public var countsByStatus: [JobStatus: Int] {
        jobs.values.reduce(into: [:]) { $0[$1.status, default: 0] += 1 }
    }
}

/// One WatchJobs (see ``ResumingStream``): resumes after the last cursor.
struct JobsWatchDriver: ResumingStream {
    let client: JobWireClient
    let filter: ListJobsRequest
    var cursor: String
    let output: AsyncThrowingStream<JobsEvent, any Error>.Continuation

    var method: Method { .watchJobs }

    func request() -> [UInt8] {
        WatchJobsRequest(filter: filter, cursor: cursor).encode()
    }

    /// Forwards events until the call ends: a retry (whether any was
    /// delivered), or the end's error (retryable ones are retried by `run`).
    mutating func consume(_ signals: AsyncStream<StreamSignal>) async throws -> StreamEnding {
        var delivered = false
        for await signal in signals {
            switch signal {
            case .reply(let message):
                let event = try JobsEvent(decoding: message)
                cursor = event.cursor
                delivered = true
                if event.type != .bookmark { output.yield(event) }
            case .end(let status):
                if status.code == .cancelled, Task.isCancelled { throw CancellationError() }
                // A WatchJobs call never ends OK by itself; any end is retried or final.
                throw JobWireError(status.isOK ? Status(code: .unavailable, reason: Reason.connectionLost,
                                                        message: "the server ended the watch") : status)
            }
        }
        return .retry(delivered: delivered, retryAfter: nil)
    }
}
