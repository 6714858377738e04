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

/// Runs one watch: opens the call, forwards events, and on a retryable end
/// reconnects and resumes after the last delivered revision.
struct WatchDriver: Sendable {
    let client: JobWireClient
    let jobID: String
    let logTail: UInt32
    var lastRevision: UInt64
    let output: AsyncThrowingStream<JobEvent, any Error>.Continuation

    /// What the connection's handler passes to the driver.
    enum Signal: Sendable {
        case reply([UInt8])
        case end(Status)
    }

    init(client: JobWireClient, jobID: String, logTail: UInt32, lastRevision: UInt64,
         output: AsyncThrowingStream<JobEvent, any Error>.Continuation) {
        self.client = client
        self.jobID = jobID
        self.logTail = logTail
        self.lastRevision = lastRevision
        self.output = output
    }

    mutating func run() async {
        var attempt = 0
        while !Task.isCancelled {
            do {
                let connection = try await client.manager.connection(deadline: .now + .seconds(3600))
                let (signals, feed) = AsyncStream<Signal>.makeStream()
                let handler = ClientConnection.CallHandler(onReply: { feed.yield(.reply($0)) },
                                                           onEnd: { feed.yield(.end($0)); feed.finish() })
                let request = WatchJobRequest(jobID: jobID, afterRevision: lastRevision, logTail: logTail)
                guard let streamID = await connection.startCall(method: .watchJob, request: request.encode(), timeoutMs: 0,
                                                                tenant: client.configuration.tenant ?? "",
                                                                handler: handler) else {
                    continue
                }
                let ended = try await withTaskCancellationHandler {
                    try await consume(signals)
                } onCancel: {
                    connection.cancel(streamID: streamID)
                }
                switch ended {
                case .finished:
                    output.finish()
                    return
                case .retry(let delivered, let retryAfter):
                    if delivered { attempt = 0 }
                    var pause = attempt == 0 ? Duration.milliseconds(50) : client.configuration.backoff.delay(forAttempt: attempt - 1)
                    if let retryAfter, retryAfter > pause { pause = retryAfter }
                    attempt += 1
                    try await Task.sleep(for: pause)
                }
            } catch is CancellationError {
                break
            } catch let error as JobWireError where RetryPolicy.watchEndIsRetryable(error) {
                attempt += 1
                var pause = client.configuration.backoff.delay(forAttempt: attempt - 1)
                if let wait = error.retryAfter, wait > pause { pause = wait }
                try? await Task.sleep(for: pause)
            } catch {
                output.finish(throwing: error)
                return
            }
        }
        output.finish(throwing: CancellationError())
    }

    enum Ending {
        /// The job ended: the watch is complete.
        case finished
        /// Reconnect and resume; `delivered` says whether this attempt delivered anything,
        /// `retryAfter` how long the server asked to wait (a rate limit), if it did.
        case retry(delivered: Bool, retryAfter: Duration?)
    }

    private mutating func consume(_ signals: AsyncStream<Signal>) async throws -> Ending {
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
