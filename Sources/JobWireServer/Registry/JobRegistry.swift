import JobWireProtocol
import JobWireSync
import Synchronization

/// The registry's settings.
public struct RegistryConfiguration: Sendable {
    /// How long a terminal job is served.
    public var retentionMs: Int64 = 24 * 3_600_000
    /// How long after that it answers EXPIRED before it is forgotten.
    public var expiredRetentionMs: Int64 = 24 * 3_600_000
    /// `stream_url` for jobs whose port comes from the pool.
    public var streamHost: String = "127.0.0.1"
    /// The pool Configure allocates `stream_port` from; nil for no pool.
    public var streamPorts: ClosedRange<UInt16>?
    /// Log lines kept per job (the most `log_tail` can return).
    public var logLinesPerJob: Int = Limits.maxLogTail
    /// A restarted server gives workers this long to renew a lease that ran
    /// out (or would run out sooner) while it was down, before failing the job.
    public var leaseGraceMs: Int64 = 10_000
    /// Watch events kept per job for resuming watches…
    public var historyPerJob: Int = 256
    /// …and the bytes they may take (each holds the encoded job).
    public var historyBytesPerJob: Int = 256 * 1024
    /// Jobs one tenant may hold at once (0: no limit); Configure beyond it
    /// gets RESOURCE_EXHAUSTED / TOO_MANY_JOBS.
    public var maxJobsPerTenant: Int = 0
    /// Watches one tenant may have open at once (0: no limit); WatchJob or
    /// WatchJobs beyond it gets RESOURCE_EXHAUSTED / TOO_MANY_WATCHES.
    public var maxWatchesPerTenant: Int = 0
    /// Removals (deletes, expiries) kept for WatchJobs resumes, across all
    /// tenants (about 150 bytes each); a cursor from before the oldest one
    /// kept resyncs.
    public var retainedRemovals: Int = 10_000

    public init() {}
}

/// The owner of every job: lifecycle, revisions, history, idempotency keys,
/// stream ports, watchers and retention.
///
/// All state lives in one `Locked` (a mutex) and every operation is a short critical
/// section, run on the calling connection's loop thread: no hops, no tasks. Writes
/// hand their change to the ``JobStore`` under the lock (so the store sees
/// changes in order) and reply from the store's completion. Watch deliveries
/// are made under the lock too, so each watcher sees revisions in order.
public final class JobRegistry: Sendable {
    let configuration: RegistryConfiguration
    let store: any JobStore
    let state: Locked<RegistryState>
    /// Makes the webhook messages of each change (nil: no webhooks).
    let outbox: (any JobChangeOutbox)?
    /// What the reaper did since start, for `/metrics`.
    let leasesExpiredTotal = Atomic<UInt64>(0)
    let jobsExpiredTotal = Atomic<UInt64>(0)

    public init(configuration: RegistryConfiguration, store: any JobStore, outbox: (any JobChangeOutbox)? = nil) throws(JobWireError) {
        self.configuration = configuration
        self.store = store
        self.outbox = outbox
        var initial = RegistryState(ports: configuration.streamPorts.map(StreamPortPool.init))
        let now = WallClock.nowMs()
        let tombstones = try store.load(expect: { count in
            initial.jobs.reserveCapacity(count)
            initial.deadlines.reserveCapacity(count)
        }, restore: { (stored) throws(JobWireError) in
            try initial.restore(stored, configuration: configuration, now: now)
        })
        for tombstone in tombstones {
            initial.addTombstone(tombstone.jobID, RegistryState.Tombstone(tenant: tombstone.tenant, forgetAtMs: tombstone.forgetAtMs))
        }
        for tenant in initial.tenants.keys {
            initial.tenants[tenant]?.sortIfNeeded()
        }
        try initial.restoreChangeLog(try store.loadChangeLog())
        state = Locked(initial)
    }

    /// Number of jobs held (not counting expired tombstones).
    public var jobCount: Int { state.withLock { $0.jobs.count } }

}

/// Everything the registry's lock protects.
struct RegistryState: ~Copyable {
    struct RequestKey: Hashable {
        var tenant: String
        var requestID: String
    }

    struct Tombstone {
        var tenant: String
        var forgetAtMs: Int64
    }

    struct Watcher {
        let sink: any WatchSink
        let streamID: UInt32
        let tenant: String
    }

    var jobs = JobTable()
    /// Each tenant's jobs in creation order, for ListJobs and Stats.
    var tenants: [String: TenantJobs] = [:]
    /// Each tenant's changes in change order, and the WatchJobs watchers
    /// (see JobRegistry+WatchJobs.swift).
    var changes: [String: TenantChanges] = [:]
    var jobsWatchers: [String: [UInt64: JobsWatcher]] = [:]
    /// For each tenant with WatchJobs watchers, the first change number made
    /// since it has had them: changes from there on carry what their watchers
    /// are pushed; earlier ones, made with no watcher to tell, do not.
    var jobsWatchedSince: [String: UInt64] = [:]
    /// The change numbers of retained removals, oldest first from `removalsHead`.
    var removals: [UInt64] = []
    var removalsHead = 0
    /// Removals numbered at or below it are no longer kept.
    var removalHorizon: UInt64 = 0
    /// Names this server's change history (``ChangeCursor``).
    var epoch = ""
    /// When each job and tombstone next needs the reaper.
    var deadlines = DeadlineQueue()
    var nextSequence: UInt64 = 1
    var requestIDs: [RequestKey: String] = [:]
    /// Jobs whose retention is over: answered EXPIRED until forgotten.
    var tombstones: [String: Tombstone] = [:]
    var ports: StreamPortPool?
    var watchers: [String: [UInt64: Watcher]] = [:]
    /// Jobs and open watches per tenant, for the per-tenant limits.
    var jobsPerTenant: [String: Int] = [:]
    var watchesPerTenant: [String: Int] = [:]
    var nextWatcherID: UInt64 = 1
    /// Completions to run once the lock is released (see ``JobRegistry/runAfterUnlock(_:)``):
    /// a completion may call back into the registry, so none runs under the lock.
    var afterUnlock: [DeferredReply] = []
    /// Takes what ``afterUnlock`` holds, for ``JobRegistry/runAfterUnlock(_:)``.
    mutating func takeAfterUnlock() -> [DeferredReply] {
        defer { afterUnlock.removeAll() }
        return afterUnlock
    }

    /// Replies waiting for a job's revision to be accepted by the store (a
    /// write that changed nothing answers with the job once the store has
    /// all of it), by job id.
    var acceptanceWaiters: [String: [(revision: UInt64, completion: @Sendable (Result<Void, JobWireError>) -> Void)]] = [:]

    init(ports: StreamPortPool?) {
        self.ports = ports
    }

    /// The record for `jobID` if `tenant` may change it, else the error a
    /// write answers. Writes build on the newest revision, accepted by the
    /// store or not; a job whose delete waits for the store is gone.
    func lookup(_ jobID: String, tenant: String) throws(JobWireError) -> JobRecord {
        if let record = jobs[jobID], record.summary.tenant == tenant, !record.isBeingRemoved {
            // Past its retention but not yet reaped (the reaper runs every
            // `--reaper-interval`, and first only after a restart has loaded
            // everything): already EXPIRED, exactly as once it is reaped.
            // The status first: only terminal jobs expire, so a live job's
            // lookup (the GetMetadata hot path) never reads the clock.
            if record.summary.status.isTerminal && record.isPastRetention(nowMs: WallClock.nowMs()) {
                throw Self.expired(jobID)
            }
            return record
        }
        try Self.absent(jobID, tenant: tenant, tombstones: tombstones)
    }

    /// The record for `jobID` if `tenant` may read it, else the error a read
    /// answers. Readers see only what the store accepted: a job whose
    /// creation waits is not there yet, one whose delete waits still is.
    func readableRecord(_ jobID: String, tenant: String) throws(JobWireError) -> JobRecord {
        if let record = jobs[jobID], let visible = record.visible, visible.summary.tenant == tenant {
            if visible.summary.status.isTerminal,
               JobRecord.isPastRetention(status: visible.summary.status, expiresAtMs: visible.summary.expiresAtMs,
                                         nowMs: WallClock.nowMs()) {
                throw Self.expired(jobID)
            }
            return record
        }
        try Self.absent(jobID, tenant: tenant, tombstones: tombstones)
    }

    /// The answer for a job `tenant` has no record of: EXPIRED for its
    /// tombstone, NOT_FOUND otherwise (another tenant's job included).
    private static func absent(_ jobID: String, tenant: String,
                               tombstones: [String: Tombstone]) throws(JobWireError) -> Never {
        if let tombstone = tombstones[jobID], tombstone.tenant == tenant {
            throw expired(jobID)
        }
        // Another tenant's job answers exactly like an unknown one.
        throw JobWireError(.notFound, Reason.jobNotFound, "job \(jobID) not found")
    }

    private static func expired(_ jobID: String) -> JobWireError {
        JobWireError(.notFound, Reason.expired, "job \(jobID) has expired")
    }

    /// Like ``readableRecord(_:tenant:)``, with the record's log lines and
    /// history (and, when `decode`, its decoded job) loaded from `store` if a
    /// restart left them there.
    mutating func loadedRecord(_ jobID: String, tenant: String, store: any JobStore,
                               decode: Bool = false) throws(JobWireError) -> JobRecord {
        var record = try readableRecord(jobID, tenant: tenant)
        if !record.hasDetails || decode || !record.isVerified {
            try record.materialize(from: store, decode: decode)
            try record.verify()
            jobs[jobID] = record
        }
        return record
    }

    /// Like ``readableRecord(_:tenant:)``, for a record about to be served: a
    /// restored job's stored bytes are checked to decode the first time.
    mutating func servable(_ jobID: String, tenant: String) throws(JobWireError) -> JobRecord {
        try verified(readableRecord(jobID, tenant: tenant))
    }

    /// `record`, checked to decode the first time it is served (DATA_LOSS /
    /// STORE_DAMAGED when it does not).
    mutating func verified(_ record: JobRecord) throws(JobWireError) -> JobRecord {
        guard !record.isVerified else { return record }
        var record = record
        try record.verify()
        jobs[record.summary.jobID] = record
        return record
    }

    /// Stores a changed `record` over its previous version and queues its
    /// next deadline for the reaper.
    mutating func replace(_ record: JobRecord) {
        var record = record
        schedule(&record)
        jobs[record.summary.jobID] = record
    }

    /// Queues `record`'s deadline unless an earlier one is already queued for
    /// it (the reaper re-queues the real deadline when it pops the early one).
    mutating func schedule(_ record: inout JobRecord) {
        guard let deadline = record.reaperDeadlineMs,
              record.queuedDeadlineMs == 0 || deadline < record.queuedDeadlineMs else { return }
        deadlines.push(DeadlineQueue.Entry(atMs: deadline, jobID: record.summary.jobID, kind: .job))
        record.queuedDeadlineMs = deadline
    }

    mutating func addTombstone(_ jobID: String, _ tombstone: Tombstone) {
        tombstones[jobID] = tombstone
        deadlines.push(DeadlineQueue.Entry(atMs: tombstone.forgetAtMs, jobID: jobID, kind: .tombstone))
    }

    /// Rebuilds the deadline queue from the live jobs and tombstones once
    /// entries of deleted jobs (skipped when popped) make up most of it.
    mutating func compactDeadlinesIfBloated() {
        guard deadlines.count > 2 * (jobs.count + tombstones.count) + 1024 else { return }
        var entries: [DeadlineQueue.Entry] = []
        jobs.updateEach { record in
            let deadline = record.reaperDeadlineMs
            record.queuedDeadlineMs = deadline ?? 0
            if let deadline {
                entries.append(DeadlineQueue.Entry(atMs: deadline, jobID: record.summary.jobID, kind: .job))
            }
        }
        for (jobID, tombstone) in tombstones {
            entries.append(DeadlineQueue.Entry(atMs: tombstone.forgetAtMs, jobID: jobID, kind: .tombstone))
        }
        deadlines.rebuild(entries)
    }

    /// Adds a new job under `key`, its id's ``JobKey``; returns its slot.
    @discardableResult
    mutating func insert(_ record: consuming JobRecord, key: JobKey) -> JobSlot {
        schedule(&record)
        let jobID = record.summary.jobID
        let tenant = record.summary.tenant
        if !record.requestID.isEmpty {
            requestIDs[RequestKey(tenant: tenant, requestID: record.requestID)] = jobID
        }
        let slot = jobs.insertNew(record, key: key)
        tenants[tenant, default: TenantJobs()].append(slot)
        jobsPerTenant[tenant, default: 0] += 1
        return slot
    }

    /// Drops a job and everything that points at it; returns it.
    @discardableResult
    mutating func remove(_ jobID: String) -> JobRecord? {
        guard let slot = jobs.slot(jobID), let record = jobs.removeValue(forKey: jobID) else { return nil }
        let tenant = record.summary.tenant
        Self.decrement(&jobsPerTenant, tenant)
        slot.isRemoved = true
        slot.record.releaseForRemoval()
        tenants[tenant]?.noteRemoved()
        if tenants[tenant]?.isEmpty == true {
            tenants.removeValue(forKey: tenant)
        }
        let requestKey = RequestKey(tenant: record.summary.tenant, requestID: record.requestID)
        // The id may name a newer job by now, made while this one's delete waited for the store.
        if !record.requestID.isEmpty, requestIDs[requestKey] == jobID {
            requestIDs.removeValue(forKey: requestKey)
        }
        if let port = record.pooledPort {
            ports?.release(port)
        }
        return record
    }

    /// The store accepted the change that made `jobID`'s `revision`: readers
    /// and new watches see it, and replies that waited for it go out.
    mutating func accept(_ jobID: String, revision: UInt64) {
        jobs.modify(jobID) { record in
            if !record.isSettled { record.accept(revision: revision) }
        }
        guard !acceptanceWaiters.isEmpty, var waiting = acceptanceWaiters.removeValue(forKey: jobID) else { return }
        for waiter in waiting where waiter.revision <= revision {
            afterUnlock.append(DeferredReply(completion: waiter.completion, result: .success(())))
        }
        waiting.removeAll { $0.revision <= revision }
        if !waiting.isEmpty { acceptanceWaiters[jobID] = waiting }
    }

    /// Runs `completion` once the store accepted `jobID`'s `revision`: at
    /// once (after the lock) when it already has.
    mutating func whenAccepted(_ jobID: String, revision: UInt64,
                               _ completion: @escaping @Sendable (Result<Void, JobWireError>) -> Void) {
        // From here on the store's answers for this job come through the lock, where the waiter is.
        jobs.slot(jobID)?.requireLock()
        let pending = jobs[jobID].map { record in
            !record.isSettled && (record.visible?.summary.revision ?? 0) < revision
        } ?? false
        guard pending else {
            afterUnlock.append(DeferredReply(completion: completion, result: .success(())))
            return
        }
        acceptanceWaiters[jobID, default: []].append((revision, completion))
    }

    /// A write's error that depends on changes to `jobID` the store has not
    /// accepted yet (a revision check against the newest revision, a job
    /// whose delete waits) is answered once they are accepted, so no caller
    /// learns of a write before it is durable (a read right after the error
    /// then shows why). False when nothing of the job waits: the caller
    /// throws the error at once.
    mutating func deferError(_ error: JobWireError, of jobID: String, tenant: String,
                             completion: @escaping WriteCompletion) -> Bool {
        guard let record = jobs[jobID], record.summary.tenant == tenant, !record.isSettled else { return false }
        let revision = record.isBeingRemoved ? UInt64.max : record.summary.revision
        whenAccepted(jobID, revision: revision) { result in
            completion(result.flatMap { Result<[UInt8], JobWireError>.failure(error) })
        }
        return true
    }

    /// The delete of `jobID` was accepted: every reply that waited on the job goes out.
    mutating func releaseWaiters(of jobID: String) {
        for waiter in acceptanceWaiters.removeValue(forKey: jobID) ?? [] {
            afterUnlock.append(DeferredReply(completion: waiter.completion, result: .success(())))
        }
    }

    /// The store failed a commit and stopped: no waiting revision will ever
    /// be accepted, so every reply still waiting fails with its reason.
    mutating func failWaiters(_ error: JobWireError) {
        for waiter in acceptanceWaiters.values.joined() {
            afterUnlock.append(DeferredReply(completion: waiter.completion, result: .failure(error)))
        }
        acceptanceWaiters.removeAll()
    }

    /// Sends `delivery` to every watcher of `jobID`.
    func notify(_ jobID: String, _ delivery: WatchDelivery) {
        guard let watching = watchers[jobID] else { return }
        for (watcherID, watcher) in watching {
            watcher.sink.deliver(streamID: watcher.streamID, watcherID: watcherID, delivery)
        }
    }

    /// Delivers a committed event; a terminal event ends every watch of the job.
    mutating func publish(_ event: StoredEvent, jobID: String, terminal: Bool) {
        notify(jobID, .event(revision: event.revision, encodedEvent: event.encodedEvent,
                             isStatusTransition: event.isStatusTransition, isTerminal: terminal))
        if terminal {
            removeWatchers(of: jobID)
        }
    }

    mutating func addWatcher(_ watcher: Watcher, id: UInt64, jobID: String) {
        watchers[jobID, default: [:]][id] = watcher
        watchesPerTenant[watcher.tenant, default: 0] += 1
    }

    mutating func removeWatcher(_ id: UInt64, jobID: String) {
        guard let watcher = watchers[jobID]?.removeValue(forKey: id) else { return }
        Self.decrement(&watchesPerTenant, watcher.tenant)
        if watchers[jobID]?.isEmpty == true {
            watchers.removeValue(forKey: jobID)
        }
    }

    mutating func removeWatchers(of jobID: String) {
        for watcher in (watchers.removeValue(forKey: jobID) ?? [:]).values {
            Self.decrement(&watchesPerTenant, watcher.tenant)
        }
    }

    private static func decrement(_ counts: inout [String: Int], _ tenant: String) {
        if let count = counts[tenant], count > 1 {
            counts[tenant] = count - 1
        } else {
            counts.removeValue(forKey: tenant)
        }
    }

    mutating func restore(_ stored: StoredJob, configuration: RegistryConfiguration, now: Int64) throws(JobWireError) {
        guard let key = JobKey(stored.summary.jobID) else {
            throw JobWireError(.dataLoss, Reason.storeDamaged, "a stored job's id \"\(stored.summary.jobID.prefix(64))\" is not a UUID")
        }
        var pooled: UInt16?
        if let port = UInt16(exactly: stored.summary.streamPort), ports?.contains(port) == true,
           !stored.summary.status.isTerminal, ports?.claim(port) == true {
            pooled = port
        }
        var record = JobRecord(stored: stored, pooledPort: pooled, capacities: JobRecord.Capacities(configuration))
        nextSequence = max(nextSequence, stored.changeSequence + 1)
        // Leases that ran out while the server was down get a grace period:
        // the worker may simply not have been able to reach us.
        let lease = stored.summary.leaseExpiresAtMs
        if lease != 0 && lease < now + configuration.leaseGraceMs {
            try record.extendLease(until: now + configuration.leaseGraceMs)
        }
        let revision = record.summary.revision
        let changeSequence = record.changeSequence
        let slot = insert(record, key: key)
        changes[stored.summary.tenant, default: TenantChanges()]
            .append(ChangeEntry(sequence: changeSequence, slot: slot, revision: revision))
        nextSequence = max(nextSequence, stored.sequence + 1)
    }
}
