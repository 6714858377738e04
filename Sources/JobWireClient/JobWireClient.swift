import JobWireProtocol
import JobWireSync
import Synchronization

/// A client of a JobWire server: every RPC as an `async` call over one
/// multiplexed connection that is opened on first use and reopened, with
/// backoff, when it breaks.
///
/// ```swift
/// let client = JobWireClient(configuration: .init(host: "127.0.0.1", port: 7420))
/// let job = try await client.configure(Job(type: "das_stream"), requestID: "run-42").job
/// for try await event in client.watch(job.jobID) {
///     print(event.revision, event.job.status, event.job.progress)
/// }
/// ```
///
/// Errors: every call throws ``JobWireError`` (a gRPC code, a reason, a
/// message and a retry hint) or, when the calling task is cancelled,
/// `CancellationError`; a cancelled task also cancels its call on the wire.
///
/// Retries: when the connection drops or the server drains, calls that are
/// safe to repeat (reads, Cancel, Configure with a request id) are sent again
/// on a new connection until their deadline; UpdateJob and DeleteJob fail
/// with `UNAVAILABLE` / `CONNECTION_LOST` instead, since they may have been
/// applied. A call the server never processed (above a GoAway's last stream
/// id) is always sent again.
public final class JobWireClient: Sendable {
    /// The library's version, sent in Hello's default client name.
    public static let version = "0.1.0"

    /// The settings this client was made with.
    public let configuration: Configuration
    let manager: ConnectionManager

    /// A client for `configuration`. Nothing is connected until the first
    /// call or ``connect()``.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.manager = ConnectionManager(configuration: configuration)
    }

    /// A client for `host:port`.
    public convenience init(host: String, port: Int = 7420, apiKey: String? = nil) {
        self.init(configuration: Configuration(host: host, port: port, apiKey: apiKey))
    }

    /// Connects now (instead of on the first call) and returns the server's
    /// HelloAck: its name, limits, and the tenant and role of the key.
    @discardableResult
    public func connect(timeout: Duration? = nil) async throws -> HelloAck {
        let connection = try await manager.connection(deadline: .now + (timeout ?? configuration.defaultTimeout))
        return connection.helloAck ?? HelloAck()
    }

    /// Closes the connection; calls in progress fail and later calls throw.
    public func close() async {
        await manager.close()
    }

    // MARK: RPCs

    /// Creates a job (Configure). With a `requestID`, repeating the call
    /// returns the job the first call created (`created` is then false).
    /// - Parameters:
    ///   - job: the job's type, labels, priority and stream fields; output-only fields are ignored.
    ///   - requestID: an idempotency key, or empty for none.
    ///   - leaseTTL: when set, the caller is the job's worker and holds a lease this long.
    public func configure(_ job: Job, requestID: String = "", leaseTTL: Duration? = nil,
                          timeout: Duration? = nil) async throws -> ConfigureResponse {
        let request = ConfigureRequest(requestID: requestID, job: job, leaseTTLMs: leaseTTL?.wireMilliseconds ?? 0)
        return try await unary(.configure, request, as: ConfigureResponse.self, timeout: timeout,
                               retryable: !requestID.isEmpty)
    }

    /// One job's metadata (GetMetadata), with its last `logTail` log lines.
    public func metadata(for jobID: String, logTail: Int = 0, timeout: Duration? = nil) async throws -> Job {
        try await unary(.getMetadata, GetMetadataRequest(jobID: jobID, logTail: UInt32(clamping: logTail)), as: Job.self,
                        timeout: timeout, retryable: true)
    }

    /// Many jobs at once (BatchGetMetadata): one result per id, in order.
    public func batchMetadata(_ jobIDs: [String], logTail: Int = 0, timeout: Duration? = nil) async throws -> [BatchGetResult] {
        try await unary(.batchGetMetadata, BatchGetMetadataRequest(jobIDs: jobIDs, logTail: UInt32(clamping: logTail)),
                        as: BatchGetMetadataResponse.self, timeout: timeout, retryable: true).results
    }

    /// One page of ListJobs.
    public func listPage(_ request: ListJobsRequest, timeout: Duration? = nil) async throws -> ListJobsResponse {
        try await unary(.listJobs, request, as: ListJobsResponse.self, timeout: timeout, retryable: true)
    }

    /// Every job matching `request`'s filters, newest first, fetching pages as
    /// the sequence is consumed.
    public func list(_ request: ListJobsRequest = ListJobsRequest(), timeout: Duration? = nil) -> JobList {
        JobList(client: self, request: request, timeout: timeout)
    }

    /// Asks a job to stop (Cancel): best-effort and idempotent.
    public func cancel(_ jobID: String, reason: String = "", timeout: Duration? = nil) async throws -> Job {
        try await unary(.cancel, CancelRequest(jobID: jobID, reason: reason), as: Job.self, timeout: timeout, retryable: true)
    }

    /// The worker's report (UpdateJob); renews its lease. Returns the job after the update.
    public func update(_ request: UpdateJobRequest, timeout: Duration? = nil) async throws -> Job {
        try await unary(.updateJob, request, as: Job.self, timeout: timeout, retryable: false)
    }

    /// Starts a new attempt of a FAILED or CANCELLED job under the same id
    /// (Retry): PENDING again, `attempt` one higher, the ended attempt in
    /// `previousAttempts`. Not repeated after a lost connection (a second
    /// retry could start another attempt); with `expectedRevision` it only
    /// applies to the job as the caller saw it.
    public func retry(_ jobID: String, expectedRevision: UInt64 = 0, timeout: Duration? = nil) async throws -> Job {
        try await unary(.retry, RetryRequest(jobID: jobID, expectedRevision: expectedRevision), as: Job.self,
                        timeout: timeout, retryable: false)
    }

    /// Changes the priority of a job that has not ended (SetPriority). Safe
    /// to repeat, so repeated after a lost connection unless conditional.
    public func setPriority(_ jobID: String, to priority: Int32, expectedRevision: UInt64 = 0,
                            timeout: Duration? = nil) async throws -> Job {
        try await unary(.setPriority, SetPriorityRequest(jobID: jobID, priority: priority, expectedRevision: expectedRevision),
                        as: Job.self, timeout: timeout, retryable: expectedRevision == 0)
    }

    /// Claims a PENDING job for this worker, the worker-pool pattern: RUNNING
    /// with a lease, only if the job is still at `revision` (the one the
    /// worker saw when it found the job). Exactly one of several claimers
    /// wins; the others get ABORTED / REVISION_MISMATCH (or FAILED_PRECONDITION
    /// when the job moved on). Use ``JobReporter/claim(client:jobID:revision:lease:)``
    /// to also keep the lease alive.
    public func claim(_ jobID: String, revision: UInt64, lease: Duration, timeout: Duration? = nil) async throws -> Job {
        try await update(UpdateJobRequest(jobID: jobID, status: .running, leaseTTLMs: lease.wireMilliseconds,
                                          expectedRevision: revision), timeout: timeout)
    }

    /// Forgets a job (DeleteJob).
    @discardableResult
    public func delete(_ jobID: String, timeout: Duration? = nil) async throws -> DeleteJobResponse {
        try await unary(.deleteJob, DeleteJobRequest(jobID: jobID), as: DeleteJobResponse.self, timeout: timeout,
                        retryable: false)
    }

    /// The server's serving status and store state; with `detailed`, each
    /// component (store, disk, event loops).
    public func health(detailed: Bool = false, timeout: Duration? = nil) async throws -> HealthResponse {
        try await unary(.health, HealthRequest(detailed: detailed), as: HealthResponse.self, timeout: timeout,
                        retryable: true)
    }

    /// The tenant's jobs in numbers (by status, success rate, average run
    /// time) over jobs created in `[createdAfterMs, createdBeforeMs)` (0: no
    /// bound); for admin keys also connections, streams and per-method latencies.
    public func stats(tenant: String = "", createdAfterMs: Int64 = 0, createdBeforeMs: Int64 = 0,
                      timeout: Duration? = nil) async throws -> StatsResponse {
        try await unary(.stats, StatsRequest(tenant: tenant, createdAfterMs: createdAfterMs, createdBeforeMs: createdBeforeMs),
                        as: StatsResponse.self, timeout: timeout, retryable: true)
    }

    /// What each API key of the tenant did since the server started (Usage).
    public func usage(tenant: String = "", timeout: Duration? = nil) async throws -> UsageResponse {
        try await unary(.usage, UsageRequest(tenant: tenant), as: UsageResponse.self, timeout: timeout, retryable: true)
    }

    /// Follows a job: its current state, then every change, resuming by
    /// itself after disconnects and server restarts. See ``JobWatch``.
    public func watch(_ jobID: String, after revision: UInt64 = 0, logTail: Int = 0) -> JobWatch {
        JobWatch(client: self, jobID: jobID, afterRevision: revision, logTail: UInt32(clamping: logTail))
    }

    /// Follows every job of the tenant that matches `filter` (its statuses,
    /// type, labels, created and priority ranges and query; `pageSize` is the
    /// jobs per snapshot event): the matching jobs, then every change, resuming
    /// by itself. Pass a saved `cursor` to continue where an earlier watch
    /// stopped. See ``JobsWatch`` and ``JobsView``.
    public func watchJobs(_ filter: ListJobsRequest = ListJobsRequest(), cursor: String = "") -> JobsWatch {
        JobsWatch(client: self, filter: filter, cursor: cursor)
    }

    // MARK: The call path

    /// Sends a unary call and decodes its reply, retrying on a new connection
    /// where that is safe, until the deadline.
    func unary<Reply: WireMessage>(_ method: Method, _ request: some WireMessage, as type: Reply.Type,
                                   timeout: Duration?, retryable: Bool) async throws -> Reply {
        let deadline = ContinuousClock.now + (timeout ?? configuration.defaultTimeout)
        let payload = request.encode()
        var attempt = 0
        while true {
            let connection = try await manager.connection(deadline: deadline)
            let remaining = deadline - .now
            guard remaining > .zero else { throw Self.deadlineError(method) }
            let outcome = try await call(connection, method, payload, timeoutMs: remaining.wireMilliseconds)
            switch outcome {
            case .success(let message):
                return try Reply(decoding: message)
            case .failure(let error):
                let lost = error.reason == Reason.connectionLost
                if RetryPolicy.wasNotProcessed(error) || (lost && retryable) {
                    // At once the first time (a new connection is the usual cure), then spaced
                    // by the backoff, so a server that keeps refusing is not called in a loop.
                    let pause = attempt == 0 ? Duration.zero : configuration.backoff.delay(forAttempt: attempt - 1)
                    attempt += 1
                    // As the Python client does: when the wait does not fit, the caller learns why.
                    guard ContinuousClock.now + pause < deadline else { throw error }
                    if pause > .zero { try await Task.sleep(for: pause) }
                    continue
                }
                // The server refuses a rate-limited call before doing anything, so
                // waiting as it asks and sending it again is safe for every call.
                if error.reason == Reason.rateLimited, let wait = error.retryAfter, ContinuousClock.now + wait < deadline {
                    try await Task.sleep(for: wait)
                    continue
                }
                throw error
            }
        }
    }

    /// One attempt of a unary call on `connection`. Task cancellation sends a
    /// CancelCall and throws `CancellationError`.
    private func call(_ connection: ClientConnection, _ method: Method, _ payload: [UInt8],
                      timeoutMs: UInt32) async throws -> Result<[UInt8], JobWireError> {
        let state = CallBox()
        let result: Result<[UInt8], JobWireError> = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<[UInt8], JobWireError>, Never>) in
                state.withLock { $0.continuation = continuation }
                let reply = ReplyBox()
                let handler = ClientConnection.CallHandler(
                    onReply: { message in reply.message.withLock { $0 = message } },
                    onEnd: { status in
                        let outcome: Result<[UInt8], JobWireError> = status.isOK
                            ? .success(reply.message.withLock { $0 } ?? [])
                            : .failure(JobWireError(status))
                        state.withLock { $0.take() }?.resume(returning: outcome)
                    })
                connection.startCall(method: method, request: payload, timeoutMs: timeoutMs,
                                     tenant: configuration.tenant ?? "", handler: handler) { streamID in
                    let cancelNow = state.withLock { state -> Bool in
                        state.streamID = streamID
                        return state.cancelled
                    }
                    if let streamID, cancelNow {
                        connection.cancel(streamID: streamID)
                    } else if streamID == nil {
                        state.withLock { $0.take() }?.resume(returning: .failure(JobWireError(
                            .unavailable, ClientConnection.notProcessedReason, "the connection takes no new calls")))
                    }
                }
            }
        } onCancel: {
            let streamID = state.withLock { state -> UInt32? in
                state.cancelled = true
                return state.streamID
            }
            if let streamID { connection.cancel(streamID: streamID) }
        }
        if state.withLock({ $0.cancelled }), case .failure(let error) = result, error.code == .cancelled {
            throw CancellationError()
        }
        return result
    }

    static func deadlineError(_ method: Method) -> JobWireError {
        JobWireError(.deadlineExceeded, Reason.deadlineExceeded, "\(method.rawValue) did not finish before its deadline")
    }
}

/// The shared state of one call between its continuation, the connection's
/// handler and the cancellation handler; always accessed under its Mutex.
final class CallBox: Sendable {
    private let state = Locked(CallState())

    func withLock<R>(_ body: (inout CallState) -> R) -> R {
        state.withLock { body(&$0) }
    }
}

/// A unary call's reply message, set on the connection's queue before its End.
final class ReplyBox: Sendable {
    let message = Locked<[UInt8]?>(nil)
}

struct CallState {
    var continuation: CheckedContinuation<Result<[UInt8], JobWireError>, Never>?
    var streamID: UInt32?
    var cancelled = false

    /// The continuation, once: whoever takes it resumes it.
    mutating func take() -> CheckedContinuation<Result<[UInt8], JobWireError>, Never>? {
        defer { continuation = nil }
        return continuation
    }
}
