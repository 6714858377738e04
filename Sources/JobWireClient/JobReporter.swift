import JobWireProtocol
import JobWireSync

/// The worker's side of a job: report progress, task, ETA, log lines and the
/// outcome, keep the lease alive in the background, and learn when someone
/// asked for the job to be cancelled.
///
/// ```swift
/// let reporter = try await JobReporter.create(client: client, job: spec, lease: .seconds(30))
/// try await reporter.report(status: .running, task: "encoding")
/// for chunk in chunks {
///     if reporter.isCancellationRequested { try await reporter.cancelled(); return }
///     try await reporter.report(progress: chunk.percent, log: ["chunk \(chunk.index) done"])
/// }
/// try await reporter.complete(result: JobResult(contentType: "application/json", data: output))
/// ```
public final class JobReporter: Sendable {
    /// The job this reporter reports for.
    public let jobID: String
    private let client: JobWireClient
    private let lease: Duration
    private let state = Locked(State())

    private struct State {
        var job: Job?
        var cancellationRequested = false
        var cancellationWaiters: [CheckedContinuation<Void, Never>] = []
        var heartbeat: Task<Void, Never>?
    }

    /// Reports for an existing job, holding a lease of `lease` renewed in the
    /// background every third of it.
    public init(client: JobWireClient, jobID: String, lease: Duration = .seconds(30)) {
        self.client = client
        self.jobID = jobID
        self.lease = lease
    }

    /// Creates the job with a lease held by this worker and returns its reporter.
    public static func create(client: JobWireClient, job: Job, requestID: String = "",
                              lease: Duration = .seconds(30)) async throws -> JobReporter {
        let created = try await client.configure(job, requestID: requestID, leaseTTL: lease)
        let reporter = JobReporter(client: client, jobID: created.job.jobID, lease: lease)
        reporter.observe(created.job)
        reporter.startHeartbeat()
        return reporter
    }

    /// Claims a PENDING job found by listing or watching (the worker-pool
    /// pattern, ``JobWireClient/claim(_:revision:lease:timeout:)``) and returns
    /// its reporter, renewing the lease in the background. Throws ABORTED /
    /// REVISION_MISMATCH when another worker claimed it first.
    public static func claim(client: JobWireClient, jobID: String, revision: UInt64,
                             lease: Duration = .seconds(30)) async throws -> JobReporter {
        let claimed = try await client.claim(jobID, revision: revision, lease: lease)
        let reporter = JobReporter(client: client, jobID: jobID, lease: lease)
        reporter.observe(claimed)
        reporter.startHeartbeat()
        return reporter
    }

    deinit {
        state.withLock { $0.heartbeat?.cancel() }
    }

    /// The job as of the last report or heartbeat.
    public var job: Job? { state.withLock { $0.job } }

    /// True once the job went to CANCELLING: stop and call ``cancelled()``.
    public var isCancellationRequested: Bool { state.withLock { $0.cancellationRequested } }

    /// Returns when cancellation has been requested.
    public func waitForCancellation() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                if state.cancellationRequested { return true }
                state.cancellationWaiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Sends whatever is given; nil fields are left as they are. Renews the lease.
    @discardableResult
    public func report(status: JobStatus = .unspecified, progress: Double? = nil, task: String? = nil,
                       eta: Duration? = nil, log lines: [String] = []) async throws -> Job {
        try await send(UpdateJobRequest(jobID: jobID, status: status, progress: progress, currentTask: task,
                                        etaSeconds: eta.map(\.seconds), logLines: lines))
    }

    /// The job finished: COMPLETED, with its result.
    @discardableResult
    public func complete(result: JobResult? = nil, log lines: [String] = []) async throws -> Job {
        defer { stopHeartbeat() }
        return try await send(UpdateJobRequest(jobID: jobID, status: .completed, progress: 100, logLines: lines, result: result))
    }

    /// The job failed: FAILED, with what went wrong.
    @discardableResult
    public func fail(_ error: JobError, log lines: [String] = []) async throws -> Job {
        defer { stopHeartbeat() }
        return try await send(UpdateJobRequest(jobID: jobID, status: .failed, logLines: lines, error: error))
    }

    /// Acknowledges a cancel request: CANCELLED.
    @discardableResult
    public func cancelled(log lines: [String] = []) async throws -> Job {
        defer { stopHeartbeat() }
        return try await send(UpdateJobRequest(jobID: jobID, status: .cancelled, logLines: lines))
    }

    /// Starts renewing the lease every third of its length (``create(client:job:requestID:lease:)`` does this).
    public func startHeartbeat() {
        let interval = lease / 3
        let task = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self, !Task.isCancelled else { return }
                _ = try? await self.send(UpdateJobRequest(jobID: self.jobID))
            }
        }
        state.withLock { state in
            state.heartbeat?.cancel()
            state.heartbeat = task
        }
    }

    /// Stops renewing the lease.
    public func stopHeartbeat() {
        state.withLock { state in
            state.heartbeat?.cancel()
            state.heartbeat = nil
        }
    }

    private func send(_ request: UpdateJobRequest) async throws -> Job {
        var request = request
        request.leaseTTLMs = lease.wireMilliseconds
        let job = try await client.update(request)
        observe(job)
        return job
    }

    private func observe(_ job: Job) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.job = job
            guard job.status == .cancelling, !state.cancellationRequested else { return [] }
            state.cancellationRequested = true
            defer { state.cancellationWaiters.removeAll() }
            return state.cancellationWaiters
        }
        waiters.forEach { $0.resume() }
    }
}
