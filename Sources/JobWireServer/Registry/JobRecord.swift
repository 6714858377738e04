import JobWireProtocol

/// One job as the registry holds it: a summary of the job at its current
/// revision, its encoding (made once per revision and spliced into every
/// reply), its log lines, its retained watch history and its lease.
///
/// A job restored at start-up arrives as its summary and stored bytes only:
/// the decoded ``Job`` and the log and history details are loaded the first
/// time something needs them (see ``materialize(from:)``), which keeps a
/// restart with a million stored jobs within seconds.
///
/// Owned by ``JobRegistry`` and only touched under its lock.
struct JobRecord: Sendable {
    private(set) var summary: JobSummary
    /// The job (without log lines) encoded, at `summary.revision`.
    private(set) var encodedJob: [UInt8]
    /// The decoded job; nil until the first change after a restart. Boxed,
    /// like `details`: a million records sit inline in the registry's
    /// dictionary, so what most of them lack must not take room in each.
    private var decodedBox: Box<Job>?
    /// Log lines and watch history; nil while they are still only in the store.
    private var detailsBox: Box<Details>?

    private var decoded: Job? {
        get { decodedBox?.value }
        set { decodedBox = newValue.map(Box.init) }
    }

    private var details: Details? {
        get { detailsBox?.value }
        set { detailsBox = newValue.map(Box.init) }
    }

    /// An immutable heap cell: a change stores a new one, so copies of a
    /// record never see each other's changes.
    private final class Box<Value: Sendable>: Sendable {
        let value: Value
        init(_ value: Value) { self.value = value }
    }
    /// The job's place in creation order; a new job's is set under the lock.
    var sequence: UInt64
    /// The change number (``ChangeCursor``) of the job's newest change; its
    /// creation's is `sequence`. Set under the lock.
    var changeSequence: UInt64 = 0
    let requestID: String
    let requestFingerprint: UInt64
    var leaseTTLMs: UInt32
    /// Set when the port came from the pool and must go back to it.
    var pooledPort: UInt16?
    /// Whether `encodedJob` is known to decode: true for a job made or
    /// changed in this run; a job restored at start-up (bytes only, for speed)
    /// is checked by ``verify()`` the first time it is served, so a damaged
    /// row is answered with DATA_LOSS rather than sent as a broken `Job`.
    private(set) var isVerified: Bool
    /// The job's creation waits for the store and nothing else does (then
    /// ``awaitingBox`` says it): a new job costs no box. Beside `isVerified`
    /// and `awaitingBox`, which GetMetadata's fast path reads with it.
    private var creationWaits = false
    /// What readers see while changes to the job wait for the store; nil when
    /// none waits, which is almost always, so a record pays one pointer for it.
    private var awaitingBox: Box<AwaitingCommit>?
    /// The earliest deadline queued for this job in the registry's
    /// ``DeadlineQueue`` (0: none queued).
    var queuedDeadlineMs: Int64 = 0

    struct Details: Sendable {
        var logs: BoundedRing<String>
        var history: EventHistory
    }

    /// The job at one revision, as a reader is sent it.
    struct Published: Sendable {
        let summary: JobSummary
        let encodedJob: [UInt8]
        /// How many log lines the job had at this revision.
        let logLineCount: UInt64
    }

    /// A job with changes the store has not accepted yet. Readers and new
    /// watches see `visible`, the last accepted revision; writes build on the
    /// newest, which is the record's own state. The store accepts changes in
    /// the order they were made (or stops for good), so `older` is accepted
    /// from its front.
    struct AwaitingCommit: Sendable {
        /// The last revision the store accepted; nil while the job's creation waits.
        var visible: Published?
        /// Waiting revisions older than the newest, oldest first: empty unless
        /// several changes to the job wait at once.
        var older: [Published]
        /// A delete waits for the store: writes see the job gone, readers still see `visible`.
        var removing = false
    }

    struct Capacities {
        var logLines: Int
        var historyEvents: Int
        var historyBytes: Int

        init(logLines: Int, historyEvents: Int, historyBytes: Int) {
            self.logLines = logLines
            self.historyEvents = historyEvents
            self.historyBytes = historyBytes
        }

        init(_ configuration: RegistryConfiguration) {
            self.init(logLines: configuration.logLinesPerJob, historyEvents: configuration.historyPerJob,
                      historyBytes: configuration.historyBytesPerJob)
        }
    }

    private let capacities: Capacities

    /// A new job, with empty log and history.
    init(job: Job, sequence: UInt64, requestID: String, requestFingerprint: UInt64, leaseTTLMs: UInt32,
         pooledPort: UInt16?, capacities: Capacities) {
        self.summary = JobSummary(job)
        self.encodedJob = job.encode()
        self.decodedBox = Box(job)
        self.detailsBox = Box(Details(logs: BoundedRing(capacity: capacities.logLines),
                               history: EventHistory(maxCount: capacities.historyEvents, maxBytes: capacities.historyBytes)))
        self.sequence = sequence
        self.requestID = requestID
        self.requestFingerprint = requestFingerprint
        self.leaseTTLMs = leaseTTLMs
        self.pooledPort = pooledPort
        self.capacities = capacities
        self.isVerified = true
    }

    /// A job as a store saved it; its details may still be on disk.
    init(stored: StoredJob, pooledPort: UInt16?, capacities: Capacities) {
        self.summary = stored.summary
        self.encodedJob = stored.encodedJob
        self.decodedBox = nil
        self.sequence = stored.sequence
        self.changeSequence = stored.changeSequence
        self.requestID = stored.requestID
        self.requestFingerprint = stored.requestFingerprint
        self.leaseTTLMs = stored.leaseTTLMs
        self.pooledPort = pooledPort
        self.capacities = capacities
        self.detailsBox = stored.details.map(Self.details(capacities)).map(Box.init)
        self.isVerified = false
    }

    /// Checks once that the stored bytes decode (DATA_LOSS / STORE_DAMAGED if not).
    mutating func verify() throws(JobWireError) {
        guard !isVerified else { return }
        if decodedBox == nil {
            _ = try decodeStored()
        }
        isVerified = true
    }

    private static func details(_ capacities: Capacities) -> (StoredDetails) -> Details {
        { stored in
            var details = Details(logs: BoundedRing(capacity: capacities.logLines),
                                  history: EventHistory(maxCount: capacities.historyEvents, maxBytes: capacities.historyBytes))
            stored.logLines.forEach { details.logs.append($0) }
            stored.history.forEach { details.history.append($0) }
            return details
        }
    }

    var hasDetails: Bool { detailsBox != nil }

    // MARK: Accepted and waiting revisions

    /// The newest revision, as readers would be sent it once accepted.
    private var newest: Published {
        Published(summary: summary, encodedJob: encodedJob, logLineCount: decoded?.logLineCount ?? 0)
    }

    /// Whether every change to the job has been accepted by the store.
    var isSettled: Bool { awaitingBox == nil && !creationWaits }

    /// What readers see: nil while the job's creation waits for the store.
    var visible: Published? {
        if let awaiting = awaitingBox?.value { return awaiting.visible }
        return creationWaits ? nil : newest
    }

    /// The oldest revision that waits for the store, if any.
    var oldestWaiting: Published? {
        if let awaiting = awaitingBox?.value { return awaiting.older.first ?? newest }
        return creationWaits ? newest : nil
    }

    /// Whether a delete of the job waits for the store (writes then see it gone).
    var isBeingRemoved: Bool { awaitingBox?.value.removing == true }

    /// Records that the newest revision waits for the store; `before` is the
    /// revision it replaced.
    private mutating func markWaiting(replacing before: Published) {
        if var awaiting = awaitingBox?.value {
            awaiting.older.append(before)
            awaitingBox = Box(awaiting)
        } else if creationWaits {
            awaitingBox = Box(AwaitingCommit(visible: nil, older: [before]))
            creationWaits = false
        } else {
            awaitingBox = Box(AwaitingCommit(visible: before, older: []))
        }
    }

    /// A new job: nothing is visible until the store accepted its creation.
    mutating func awaitCreation() {
        creationWaits = true
    }

    /// A delete waits for the store; readers keep seeing the job until then.
    mutating func awaitRemoval() {
        var awaiting = awaitingBox?.value ?? AwaitingCommit(visible: creationWaits ? nil : newest, older: [])
        if creationWaits {
            awaiting.older = [newest]
            creationWaits = false
        }
        awaiting.removing = true
        awaitingBox = Box(awaiting)
    }

    /// The store accepted the change that made `revision`: readers see it now.
    mutating func accept(revision: UInt64) {
        guard var awaiting = awaitingBox?.value else {
            if revision >= summary.revision { creationWaits = false }
            return
        }
        while let first = awaiting.older.first, first.summary.revision <= revision {
            awaiting.visible = first
            awaiting.older.removeFirst()
        }
        guard revision >= summary.revision else {
            awaitingBox = Box(awaiting)
            return
        }
        if awaiting.removing {
            awaiting.visible = newest
            awaitingBox = Box(awaiting)
        } else {
            awaitingBox = nil
        }
    }

    /// Loads what a restored record left in the store: the log lines and
    /// history always, and the decoded job when `decode` is set. Cheap when
    /// already done. Throws DATA_LOSS when the stored job does not decode.
    mutating func materialize(from store: any JobStore, decode: Bool = true) throws(JobWireError) {
        if details == nil {
            details = Self.details(capacities)(try store.loadDetails(sequence: sequence))
        }
        if decode && decodedBox == nil {
            decoded = try decodeStored()
            isVerified = true
        }
    }

    private func decodeStored() throws(JobWireError) -> Job {
        do {
            return try Job(decoding: encodedJob)
        } catch {
            throw JobWireError(.dataLoss, Reason.storeDamaged, "the stored job \(summary.jobID) does not decode: \(error.message)")
        }
    }

    /// The oldest retained watch event and the events after `revision`
    /// (``materialize(from:decode:)`` first).
    var oldestEvent: StoredEvent? { detailsBox?.value.history.first }

    func events(after revision: UInt64) -> ArraySlice<StoredEvent> {
        detailsBox?.value.history.events(after: revision) ?? []
    }

    /// Applies `change` to the job, advances the revision, re-encodes it and
    /// records the watch event. Returns the event.
    mutating func commit(now: Int64, newLogLines: [String], store: any JobStore,
                         _ change: (inout Job) -> Void) throws(JobWireError) -> StoredEvent {
        try materialize(from: store)
        guard var job = decoded, var details else {
            throw JobWireError(.internal, Reason.internal, "job \(summary.jobID) could not be loaded")
        }
        let previousStatus = job.status
        let before = newest
        change(&job)
        job.revision += 1
        job.updatedAtMs = now
        for line in newLogLines {
            details.logs.append(line)
        }
        job.logLineCount += UInt64(newLogLines.count)
        encodedJob = job.encode()
        summary = JobSummary(job)
        let event = StoredEvent(
            revision: job.revision,
            encodedEvent: WatchEvents.encode(type: .change, revision: job.revision, encodedJob: encodedJob,
                                             logLines: newLogLines),
            isStatusTransition: job.status != previousStatus)
        details.history.append(event)
        decoded = job
        self.details = details
        markWaiting(replacing: before)
        return event
    }

    /// The job left the registry: its encoding, decoded job, log, history and
    /// waiting revisions go. Its slot may stay a while in its tenant's lists
    /// (``TenantJobs``, ``TenantChanges``), which skip removed slots and read
    /// at most its summary and sequence; without this each such entry kept a
    /// deleted job's whole record, its history included, until compacted.
    mutating func releaseForRemoval() {
        encodedJob = []
        decodedBox = nil
        detailsBox = nil
        awaitingBox = nil
        creationWaits = false
    }

    /// Records the creation event of a new job.
    mutating func recordCreation(_ event: StoredEvent) {
        details?.history.append(event)
    }


    /// Replaces the lease deadline of a restored job (start-up grace).
    mutating func extendLease(until deadline: Int64) throws(JobWireError) {
        var job: Job
        if let decoded {
            job = decoded
        } else {
            job = try decodeStored()
        }
        job.leaseExpiresAtMs = deadline
        encodedJob = job.encode()
        summary = JobSummary(job)
        decoded = job
        isVerified = true
    }

    /// The job as readers see it (its last accepted revision) with its last
    /// `logTail` lines, encoded by splicing the lines onto the cached
    /// encoding (a repeated field may be appended); nil while the job's
    /// creation waits for the store. The lines come from the details:
    /// ``materialize(from:decode:)`` first when `logTail` is not 0.
    func visibleEncoded(logTail: UInt32) -> [UInt8]? {
        guard let visible else { return nil }
        guard logTail > 0, let logs = detailsBox?.value.logs, !logs.isEmpty else { return visible.encodedJob }
        // Lines appended by changes the store has not accepted are left out.
        let unaccepted = Int(clamping: (decoded?.logLineCount ?? visible.logLineCount) - visible.logLineCount)
        let accepted = logs.suffix(logs.count).dropLast(unaccepted)
        var bytes = visible.encodedJob
        for line in accepted.suffix(Int(logTail)) {
            ProtobufWriter.appendString(WireFields.Job.logTail, line, to: &bytes)
        }
        return bytes
    }

    func leaseIsLive(now: Int64) -> Bool {
        summary.leaseExpiresAtMs > now
    }

    /// A terminal job whose retention is over: EXPIRED to every call (and
    /// left out of ListJobs) from `expires_at_ms` on, even before the reaper
    /// turns it into a tombstone.
    func isPastRetention(nowMs: Int64) -> Bool {
        Self.isPastRetention(status: summary.status, expiresAtMs: summary.expiresAtMs, nowMs: nowMs)
    }

    static func isPastRetention(status: JobStatus, expiresAtMs: Int64, nowMs: Int64) -> Bool {
        status.isTerminal && expiresAtMs > 0 && expiresAtMs <= nowMs
    }

    /// When the reaper must look at this job next: the end of its retention
    /// once it is terminal, else its lease deadline; nil when neither is set.
    var reaperDeadlineMs: Int64? {
        let deadline = summary.status.isTerminal ? summary.expiresAtMs : summary.leaseExpiresAtMs
        return deadline != 0 ? deadline : nil
    }

    /// This record's state after a change that appended `logLines` and `event`.
    func storedChange(appendedLogLines logLines: [String], event: StoredEvent, outbox: [StoredOutboxMessage] = []) -> StoredChange {
        .put(StoredJobChange(summary: summary, encodedJob: encodedJob, sequence: sequence, changeSequence: changeSequence,
                             requestID: requestID,
                             requestFingerprint: requestFingerprint, leaseTTLMs: leaseTTLMs, appendedLogLines: logLines,
                             appendedEvent: event, outbox: outbox))
    }
}
