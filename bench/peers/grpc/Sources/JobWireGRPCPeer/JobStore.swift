import Foundation
import GRPCCore
import Synchronization

/// The peer's jobs, in memory: a dictionary of `Job` messages behind one lock,
/// and the open watches of each job.
final class JobStore: Sendable {
    typealias Watcher = AsyncStream<Jobwire_V1_WatchEvent>.Continuation

    private struct State {
        var jobs: [String: Jobwire_V1_Job] = [:]
        /// Each job's last log lines, oldest first (at most `logCapacity`).
        var logs: [String: [String]] = [:]
        var watchers: [String: [Int: Watcher]] = [:]
        var nextWatcher = 0
        var closed = false
    }

    /// Log lines kept per job for `log_tail`.
    static let logCapacity = 1_000

    private let state = Mutex(State())

    // MARK: Seeding

    /// The deterministic id of seeded job `index`: UUID-shaped (36 characters,
    /// lower case) like JobWire's, and the same as the REST peer's.
    static func seededID(_ index: Int) -> String {
        let hex = String(index, radix: 16)
        return "00000000-0000-4000-8000-" + String(repeating: "0", count: max(0, 12 - hex.count)) + hex
    }

    /// A job as it reads after JobWire's Configure of the job its benchmark
    /// seeds (bench/load/main.swift): default tenant, PENDING, revision 1.
    static func seededJob(id: String, nowMs: Int64) -> Jobwire_V1_Job {
        var job = Jobwire_V1_Job()
        job.jobID = id
        job.tenant = "default"
        job.type = "das_stream"
        job.labels = ["site": "haifa"]
        job.streamURL = "10.10.100.100"
        job.streamPort = 50051
        job.viewType = 1
        job.frequenciesList = (0..<500).map { Double($0) * 0.25 }
        job.linesDt = 0.001
        job.channelToStreamIndex = Dictionary(uniqueKeysWithValues: (0..<50).map { (UInt32($0 + 1), UInt32($0 % 4)) })
        job.streamAmount = 4
        job.frequenciesAmount = 500
        job.channelAmount = 50
        var metadata = Jobwire_V1_StreamMetadata()
        metadata.dx = 1.02
        metadata.prr = 2000
        metadata.fiberStartMeters = 0
        metadata.fiberLengthMeters = 5000
        metadata.swVersion = "1.4.2"
        job.metadata = metadata
        job.status = .pending
        job.createdAtMs = nowMs
        job.updatedAtMs = nowMs
        job.revision = 1
        return job
    }

    /// Creates `count` seeded jobs and returns their ids in order.
    func seed(count: Int) -> [String] {
        let now = Self.nowMs()
        let ids = (0..<count).map(Self.seededID)
        state.withLock { state in
            state.jobs.reserveCapacity(count)
            for id in ids { state.jobs[id] = Self.seededJob(id: id, nowMs: now) }
        }
        return ids
    }

    // MARK: Calls

    func configure(_ request: Jobwire_V1_ConfigureRequest) -> Jobwire_V1_Job {
        let now = Self.nowMs()
        var job = Jobwire_V1_Job()
        job.jobID = UUID().uuidString.lowercased()
        job.tenant = "default"
        job.type = request.job.type
        job.labels = request.job.labels
        job.priority = request.job.priority
        job.streamURL = request.job.streamURL
        job.streamPort = request.job.streamPort
        job.viewType = request.job.viewType
        job.frequenciesList = request.job.frequenciesList
        job.linesDt = request.job.linesDt
        job.channelToStreamIndex = request.job.channelToStreamIndex
        job.streamAmount = request.job.streamAmount
        job.frequenciesAmount = request.job.frequenciesAmount
        job.channelAmount = request.job.channelAmount
        if request.job.hasMetadata { job.metadata = request.job.metadata }
        job.status = .pending
        job.createdAtMs = now
        job.updatedAtMs = now
        if request.leaseTtlMs > 0 { job.leaseExpiresAtMs = now + Int64(request.leaseTtlMs) }
        job.revision = 1
        let stored = job
        state.withLock { $0.jobs[stored.jobID] = stored }
        return job
    }

    func get(_ id: String, logTail: UInt32) throws(RPCError) -> Jobwire_V1_Job {
        let key = id.lowercased()
        return try state.withLock { (state) throws(RPCError) in
            guard var job = state.jobs[key] else { throw Self.notFound(id) }
            if logTail > 0, let lines = state.logs[key] { job.logTail = Array(lines.suffix(Int(logTail))) }
            return job
        }
    }

    /// UpdateJob: applies the fields that are present, bumps the revision and
    /// tells the job's watchers.
    func update(_ request: Jobwire_V1_UpdateJobRequest) throws(RPCError) -> Jobwire_V1_Job {
        let key = request.jobID.lowercased()
        let now = Self.nowMs()
        return try state.withLock { (state) throws(RPCError) in
            guard var job = state.jobs[key] else { throw Self.notFound(request.jobID) }
            if request.expectedRevision != 0 && request.expectedRevision != job.revision {
                throw RPCError(code: .aborted, message: "the job is at revision \(job.revision), not \(request.expectedRevision)")
            }
            let newStatus = try Self.workerTransition(from: job.status, to: request.status)
            let finalStatus = newStatus ?? job.status
            if request.hasResult && finalStatus != .completed {
                throw RPCError(code: .invalidArgument, message: "a result goes with status COMPLETED only")
            }
            if request.hasError && finalStatus != .failed {
                throw RPCError(code: .invalidArgument, message: "an error goes with status FAILED only")
            }
            if let newStatus {
                job.status = newStatus
                if Self.isTerminal(newStatus) { job.completedAtMs = now }
            }
            if case .progress(let progress)? = request.progressUpdate { job.progress = progress }
            if case .currentTask(let task)? = request.currentTaskUpdate { job.currentTask = task }
            if case .etaSeconds(let eta)? = request.etaUpdate {
                if eta < 0 { job.eta = nil } else { job.etaSeconds = eta }
            }
            if request.hasResult { job.result = request.result }
            if request.hasError { job.error = request.error }
            if request.leaseTtlMs > 0 { job.leaseExpiresAtMs = now + Int64(request.leaseTtlMs) }
            if !request.logLines.isEmpty {
                var lines = state.logs[key, default: []]
                lines.append(contentsOf: request.logLines)
                if lines.count > Self.logCapacity { lines.removeFirst(lines.count - Self.logCapacity) }
                state.logs[key] = lines
                job.logLineCount += UInt64(request.logLines.count)
            }
            job.updatedAtMs = now
            job.revision += 1
            state.jobs[key] = job

            if let watchers = state.watchers[key], !watchers.isEmpty {
                var event = Jobwire_V1_WatchEvent()
                event.type = .change
                event.revision = job.revision
                event.job = job
                event.newLogLines = request.logLines
                for watcher in watchers.values { watcher.yield(event) }
            }
            return job
        }
    }

    // MARK: Watches

    /// Opens a watch of a job: returns the first event (SNAPSHOT when
    /// `afterRevision` is 0, RESYNC when it is older than the job's revision,
    /// none when it is the job's revision) and the stream of later changes,
    /// both taken under the lock so no change falls between them.
    func watch(_ request: Jobwire_V1_WatchJobRequest) throws(RPCError) -> (first: Jobwire_V1_WatchEvent?, changes: AsyncStream<Jobwire_V1_WatchEvent>) {
        let key = request.jobID.lowercased()
        let (changes, continuation) = AsyncStream.makeStream(of: Jobwire_V1_WatchEvent.self, bufferingPolicy: .unbounded)
        let first = try state.withLock { (state) throws(RPCError) -> Jobwire_V1_WatchEvent? in
            guard var job = state.jobs[key] else { throw Self.notFound(request.jobID) }
            if request.afterRevision > job.revision {
                throw RPCError(code: .outOfRange, message: "the job is at revision \(job.revision), before \(request.afterRevision)")
            }
            let token = state.nextWatcher
            state.nextWatcher += 1
            if state.closed {
                continuation.finish()
            } else {
                state.watchers[key, default: [:]][token] = continuation
                continuation.onTermination = { [weak self] _ in self?.removeWatcher(key, token) }
            }
            guard request.afterRevision != job.revision else { return nil }
            if request.logTail > 0, let lines = state.logs[key] { job.logTail = Array(lines.suffix(Int(request.logTail))) }
            var event = Jobwire_V1_WatchEvent()
            event.type = request.afterRevision == 0 ? .snapshot : .resync
            event.revision = job.revision
            event.job = job
            return event
        }
        return (first, changes)
    }

    private func removeWatcher(_ key: String, _ token: Int) {
        state.withLock { state in
            state.watchers[key]?[token] = nil
            if state.watchers[key]?.isEmpty == true { state.watchers[key] = nil }
        }
    }

    /// Ends every watch (at shutdown) and refuses new ones.
    func closeWatches() {
        let watchers = state.withLock { state in
            state.closed = true
            return state.watchers.values.flatMap(\.values)
        }
        for watcher in watchers { watcher.finish() }
    }

    // MARK: Helpers

    static func isTerminal(_ status: Jobwire_V1_JobStatus) -> Bool {
        status == .completed || status == .failed || status == .cancelled
    }

    /// JobWire's worker transitions (Sources/JobWireServer/Lifecycle/JobLifecycle.swift).
    static func workerTransition(from current: Jobwire_V1_JobStatus, to requested: Jobwire_V1_JobStatus) throws(RPCError) -> Jobwire_V1_JobStatus? {
        if isTerminal(current) {
            throw RPCError(code: .failedPrecondition, message: "the job is \(current) and no longer changes")
        }
        if requested == .unspecified || requested == current { return nil }
        let allowed: Bool = switch (current, requested) {
        case (.pending, .running), (.pending, .failed), (.pending, .cancelled): true
        case (.running, .completed), (.running, .failed), (.running, .cancelled): true
        case (.cancelling, .cancelled): true
        default: false
        }
        guard allowed else { throw RPCError(code: .failedPrecondition, message: "a job cannot go from \(current) to \(requested)") }
        return requested
    }

    static func notFound(_ id: String) -> RPCError {
        RPCError(code: .notFound, message: "job \(id) not found")
    }

    static func nowMs() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }
}
