import JobWireProtocol
import Synchronization

/// Where the registry makes its changes durable: the contract every store
/// keeps, embedded or networked.
///
/// - **Order.** The registry calls ``persist(_:completion:)`` under its lock,
///   in the order the changes happened. The store completes them in that
///   order: each with success once it is durable, or with the failure that
///   stopped the store.
/// - **Visibility.** Nobody sees a change before its completion reports
///   success: the registry keeps serving readers and new watches the job's
///   last accepted revision, sends watch events and the writer's reply only
///   from the completion, and a change whose completion failed is never
///   shown. So a store may also *refuse* a change it cannot apply, e.g. a
///   networked store whose conditional update lost a race to another node:
///   it completes with the failure and stops, and the server restarts from
///   what the store holds.
/// - **Threads.** A completion may run before `persist` returns (the memory
///   store) or later on any thread (SQLite's queue); the registry handles
///   both and never runs a caller's completion under its lock. The store must
///   not call into the registry from `persist` or ``loadDetails(sequence:)``.
/// - **Stopping.** After its first failure a store fails every later change
///   at once, reports why in ``stoppedBecause`` and calls the ``onStop(_:)``
///   handler once, so what it holds stays exactly the changes it acknowledged.
///
/// A durable store may batch several changes into one commit (group commit)
/// and complete them together.
public protocol JobStore: Sendable {
    /// `memory`, `sqlite`, …; shown by Health.
    var kind: String { get }

    /// Human-readable state for Health, e.g. `ok`.
    var state: String { get }

    /// What an earlier run saved, for the registry to start from: first how
    /// many jobs there are to `expect` (so the registry sizes its tables
    /// once), then every job in creation order to `restore` (streamed, so a
    /// million jobs are never held twice); returns the tombstones.
    func load(expect: (Int) -> Void, restore: (StoredJob) throws(JobWireError) -> Void) throws(JobWireError) -> [StoredTombstone]

    /// The log lines and history of a job that ``load()`` returned without
    /// them. The registry asks before the job's first change after start-up,
    /// so the stored rows are still exactly what was loaded. Called under the
    /// registry's lock: it must not call back into the registry.
    func loadDetails(sequence: UInt64) throws(JobWireError) -> StoredDetails

    /// What WatchJobs resumes from after a restart: the history's epoch, the
    /// retained removals and the horizon below which removals were dropped.
    /// Called once, after ``load(expect:restore:)``. A store that keeps none
    /// (the default) starts a new history: every earlier cursor resyncs.
    func loadChangeLog() throws(JobWireError) -> StoredChangeLog

    func persist(_ change: StoredChange, completion: @escaping @Sendable (Result<Void, JobWireError>) -> Void)

    /// The webhook endpoints and the outbox's pending messages, for start-up.
    /// A store that keeps none (the default) starts with none.
    func loadWebhooks() throws(JobWireError) -> StoredWebhooks

    /// An endpoint's latest messages, newest first, at most `limit`, with their attempts (the deliveries list); and
    /// one message whole (a redelivery). Read on the store's own queue; `completion` runs there. A store that keeps
    /// no webhook history (the default, and the memory store) answers none.
    func webhookDeliveries(endpointID: String, limit: Int,
                           completion: @escaping @Sendable (Result<[StoredDelivery], JobWireError>) -> Void)
    func webhookMessage(messageID: String, completion: @escaping @Sendable (Result<StoredOutboxMessage?, JobWireError>) -> Void)

    /// Why the store stopped, once a commit failed; nil while it works. A
    /// stopped store fails every later change at once, so what it holds stays
    /// exactly the changes it acknowledged, in order; the registry then
    /// refuses every call (see ``JobRegistry/checkStore()``).
    var stoppedBecause: JobWireError? { get }
    /// Sets the handler run once when the store stops (on any thread); the
    /// server's owner uses it to restart from what was committed.
    func onStop(_ handler: @escaping @Sendable (JobWireError) -> Void)
    /// Commits made so far (a group commit counts once), for logs and stats.
    var commits: Int { get }
    /// Where the store keeps its files, for detailed Health's free-space
    /// check; nil when it keeps none.
    var dataDirectory: String? { get }
    /// How long the last commit took, in microseconds (0 before the first),
    /// for detailed Health.
    var lastCommitMicros: UInt64 { get }
    /// The store's families for `/metrics` (commits; a durable store adds their latency and size).
    func writeMetrics(into text: inout PrometheusText)
}

extension JobStore {
    public func writeMetrics(into text: inout PrometheusText) {
        text.family("jobwire_store_commits_total", .counter, "Transactions the store committed.")
        text.sample("jobwire_store_commits_total", commits)
    }
}

extension JobStore {
    public func loadChangeLog() throws(JobWireError) -> StoredChangeLog { StoredChangeLog(epoch: StoredChangeLog.newEpoch()) }
    public var dataDirectory: String? { nil }
    public var lastCommitMicros: UInt64 { 0 }
    public func loadWebhooks() throws(JobWireError) -> StoredWebhooks { StoredWebhooks() }
    public func webhookDeliveries(endpointID: String, limit: Int,
                                  completion: @escaping @Sendable (Result<[StoredDelivery], JobWireError>) -> Void) {
        completion(.success([]))
    }
    public func webhookMessage(messageID: String,
                               completion: @escaping @Sendable (Result<StoredOutboxMessage?, JobWireError>) -> Void) {
        completion(.success(nil))
    }
}

/// A job's removal from the registry (deleted or expired), kept so that a
/// WatchJobs client resuming from before it learns that the job left.
public struct StoredRemoval: Sendable, Equatable {
    /// The removal's change number.
    public var sequence: UInt64
    public var tenant: String
    public var jobID: String

    public init(sequence: UInt64, tenant: String, jobID: String) {
        self.sequence = sequence
        self.tenant = tenant
        self.jobID = jobID
    }
}

/// What a store kept of the change history for WatchJobs (see ``ChangeCursor``).
public struct StoredChangeLog: Sendable, Equatable {
    /// Names this history: cursors with another epoch resync.
    public var epoch: String
    /// Retained removals, in change order.
    public var removals: [StoredRemoval]
    /// Removals numbered at or below it were dropped: a cursor below it resyncs.
    public var horizon: UInt64

    public init(epoch: String, removals: [StoredRemoval] = [], horizon: UInt64 = 0) {
        self.epoch = epoch
        self.removals = removals
        self.horizon = horizon
    }

    /// 16 random hexadecimal digits.
    public static func newEpoch() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
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
    /// What the registry needs of the job without decoding it.
    public var summary: JobSummary
    /// The job without log lines, encoded, at its current revision.
    public var encodedJob: [UInt8]
    /// Retained log lines and watch history; nil when the store left them on
    /// disk, for ``JobStore/loadDetails(sequence:)`` to read on first use.
    public var details: StoredDetails?
    /// Creation order, for ListJobs paging.
    public var sequence: UInt64
    /// The change number of the job's latest change (its creation's is `sequence`).
    public var changeSequence: UInt64
    /// Idempotency key of the Configure that created it, and its fingerprint.
    public var requestID: String
    public var requestFingerprint: UInt64
    /// The worker's lease length; 0 when no worker holds a lease.
    public var leaseTTLMs: UInt32

    public init(summary: JobSummary, encodedJob: [UInt8], details: StoredDetails?, sequence: UInt64, changeSequence: UInt64 = 0,
                requestID: String, requestFingerprint: UInt64, leaseTTLMs: UInt32) {
        self.summary = summary
        self.encodedJob = encodedJob
        self.details = details
        self.sequence = sequence
        self.changeSequence = max(changeSequence, sequence)
        self.requestID = requestID
        self.requestFingerprint = requestFingerprint
        self.leaseTTLMs = leaseTTLMs
    }
}

/// A job's retained log lines and watch history.
public struct StoredDetails: Sendable, Equatable {
    /// Oldest first.
    public var logLines: [String]
    /// Encoded `WatchEvent`s, oldest first.
    public var history: [StoredEvent]

    public init(logLines: [String] = [], history: [StoredEvent] = []) {
        self.logLines = logLines
        self.history = history
    }
}

/// A job's new state and what one change appended to its log and history:
/// a store applies it as a delta, never rewriting the whole log.
public struct StoredJobChange: Sendable, Equatable {
    /// The job's summary at its new revision (a durable store keeps it as columns).
    public var summary: JobSummary
    /// The job encoded (the registry's cached encoding), so the store need not encode it again.
    public var encodedJob: [UInt8]
    public var sequence: UInt64
    /// This change's number.
    public var changeSequence: UInt64
    public var requestID: String
    public var requestFingerprint: UInt64
    public var leaseTTLMs: UInt32
    public var appendedLogLines: [String]
    public var appendedEvent: StoredEvent
    /// The webhook messages this change makes, stored in the same transaction.
    public var outbox: [StoredOutboxMessage]

    public init(summary: JobSummary, encodedJob: [UInt8], sequence: UInt64, changeSequence: UInt64 = 0, requestID: String,
                requestFingerprint: UInt64, leaseTTLMs: UInt32, appendedLogLines: [String], appendedEvent: StoredEvent,
                outbox: [StoredOutboxMessage] = []) {
        self.summary = summary
        self.encodedJob = encodedJob
        self.sequence = sequence
        self.changeSequence = max(changeSequence, sequence)
        self.requestID = requestID
        self.requestFingerprint = requestFingerprint
        self.leaseTTLMs = leaseTTLMs
        self.appendedLogLines = appendedLogLines
        self.appendedEvent = appendedEvent
        self.outbox = outbox
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
    case remove(jobID: String, sequence: UInt64, removal: StoredRemoval)
    /// The job's retention is over: it is dropped and answers EXPIRED until `forgetAtMs`.
    case expire(StoredTombstone, sequence: UInt64, removal: StoredRemoval)
    /// Removals numbered at or below this are no longer kept (the new horizon).
    case pruneRemovals(through: UInt64)
    /// An expired job's tombstone is dropped: it now answers plain NOT_FOUND.
    case forget(jobID: String)
    /// Webhook endpoints and deliveries.
    case webhook(StoredWebhookChange)
}

/// Keeps nothing: for tests and `--store memory`. Every change is
/// "durable" at once, and a restart starts empty. It never stops.
public final class InMemoryJobStore: JobStore {
    private let changes = Atomic<Int>(0)

    public init() {}

    public var kind: String { "memory" }
    public var state: String { "ok" }

    public func load(expect: (Int) -> Void,
                     restore: (StoredJob) throws(JobWireError) -> Void) throws(JobWireError) -> [StoredTombstone] { [] }

    public func loadDetails(sequence: UInt64) throws(JobWireError) -> StoredDetails { StoredDetails() }

    public func persist(_ change: StoredChange, completion: @escaping @Sendable (Result<Void, JobWireError>) -> Void) {
        changes.add(1, ordering: .relaxed)
        completion(.success(()))
    }

    public var stoppedBecause: JobWireError? { nil }

    /// The memory store never stops, so the handler is never run.
    public func onStop(_ handler: @escaping @Sendable (JobWireError) -> Void) {}

    /// Every change counts as one commit.
    public var commits: Int { changes.load(ordering: .relaxed) }
}
