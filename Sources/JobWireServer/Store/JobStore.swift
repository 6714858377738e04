import JobWireProtocol

/// Where the registry makes its changes durable.
///
/// The registry calls ``persist(_:completion:)`` under its lock, in the order
/// the changes happened, and sends the caller's reply only from `completion`:
/// an acknowledged write is durable first. A durable store may batch several
/// changes into one commit (group commit) and call their completions
/// together, from its own queue; the in-memory store completes at once.
public protocol JobStore: Sendable {
    /// `memory`, `sqlite`, …; shown by Health.
    var kind: String { get }

    /// Human-readable state for Health, e.g. `ok`.
    var state: String { get }

    /// What an earlier run saved, for the registry to start from.
    func load() throws(JobWireError) -> StoredState

    func persist(_ change: StoredChange, completion: @escaping @Sendable (Result<Void, JobWireError>) -> Void)
}

/// Everything a store gives back at start-up.
public struct StoredState: Sendable {
    public var jobs: [StoredJob]
    /// Expired jobs that still answer EXPIRED, with when they are forgotten.
    public var tombstones: [StoredTombstone]

    public init(jobs: [StoredJob] = [], tombstones: [StoredTombstone] = []) {
        self.jobs = jobs
        self.tombstones = tombstones
    }
}

/// An expired job: it answers NOT_FOUND / EXPIRED to its tenant until `forgetAtMs`.
public struct StoredTombstone: Sendable, Equatable {
    public var jobID: String
    public var tenant: String
    public var forgetAtMs: Int64

    public init(jobID: String, tenant: String, forgetAtMs: Int64) {
        self.jobID = jobID
        self.tenant = tenant
        self.forgetAtMs = forgetAtMs
    }
}

/// Everything about a job that must survive a restart.
public struct StoredJob: Sendable, Equatable {
    /// The job without log lines, at its current revision.
    public var job: Job
    /// `job` encoded, when the store has it (saves encoding every job again at start-up).
    public var encodedJob: [UInt8]?
    /// Retained log lines, oldest first.
    public var logLines: [String]
    /// Creation order, for ListJobs paging.
    public var sequence: UInt64
    /// Idempotency key of the Configure that created it, and its fingerprint.
    public var requestID: String
    public var requestFingerprint: UInt64
    /// The worker's lease length; 0 when no worker holds a lease.
    public var leaseTTLMs: UInt32
    /// Retained watch history: encoded `WatchEvent`s, oldest first.
    public var history: [StoredEvent]

    public init(job: Job, encodedJob: [UInt8]? = nil, logLines: [String], sequence: UInt64, requestID: String,
                requestFingerprint: UInt64, leaseTTLMs: UInt32, history: [StoredEvent]) {
        self.job = job
        self.encodedJob = encodedJob
        self.logLines = logLines
        self.sequence = sequence
        self.requestID = requestID
        self.requestFingerprint = requestFingerprint
        self.leaseTTLMs = leaseTTLMs
        self.history = history
    }
}

/// A job's new state and what one change appended to its log and history:
/// a store applies it as a delta, never rewriting the whole log.
public struct StoredJobChange: Sendable, Equatable {
    public var job: Job
    /// `job` encoded (the registry's cached encoding), so the store need not encode it again.
    public var encodedJob: [UInt8]
    public var sequence: UInt64
    public var requestID: String
    public var requestFingerprint: UInt64
    public var leaseTTLMs: UInt32
    public var appendedLogLines: [String]
    public var appendedEvent: StoredEvent

    public init(job: Job, encodedJob: [UInt8], sequence: UInt64, requestID: String, requestFingerprint: UInt64,
                leaseTTLMs: UInt32, appendedLogLines: [String], appendedEvent: StoredEvent) {
        self.job = job
        self.encodedJob = encodedJob
        self.sequence = sequence
        self.requestID = requestID
        self.requestFingerprint = requestFingerprint
        self.leaseTTLMs = leaseTTLMs
        self.appendedLogLines = appendedLogLines
        self.appendedEvent = appendedEvent
    }
}

/// One retained watch event.
public struct StoredEvent: Sendable, Equatable {
    public var revision: UInt64
    public var encodedEvent: [UInt8]
    public var isStatusTransition: Bool

    public init(revision: UInt64, encodedEvent: [UInt8], isStatusTransition: Bool) {
        self.revision = revision
        self.encodedEvent = encodedEvent
        self.isStatusTransition = isStatusTransition
    }
}

/// One change, in registry order.
public enum StoredChange: Sendable {
    /// The job was created or changed: its new state and what the change appended.
    case put(StoredJobChange)
    /// The job was deleted. `sequence` is its creation sequence (stores may key rows by it).
    case remove(jobID: String, sequence: UInt64)
    /// The job's retention is over: it is dropped and answers EXPIRED until `forgetAtMs`.
    case expire(StoredTombstone, sequence: UInt64)
    /// An expired job's tombstone is dropped: it now answers plain NOT_FOUND.
    case forget(jobID: String)
}

/// Keeps nothing: for tests and `--store memory`. Every change is
/// "durable" at once, and a restart starts empty.
public struct InMemoryJobStore: JobStore {
    public init() {}

    public var kind: String { "memory" }
    public var state: String { "ok" }

    public func load() throws(JobWireError) -> StoredState { StoredState() }

    public func persist(_ change: StoredChange, completion: @escaping @Sendable (Result<Void, JobWireError>) -> Void) {
        completion(.success(()))
    }
}
