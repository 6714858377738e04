import JobWireProtocol

/// One job as the registry holds it: the job itself at its current revision,
/// its encoding (made once per revision and spliced into every reply), its
/// log lines, its retained watch history and its lease.
///
/// Owned by ``JobRegistry`` and only touched under its lock.
struct JobRecord {
    /// The job without log lines (`logTail` is always empty here).
    private(set) var job: Job
    /// `job` encoded, at `job.revision`.
    private(set) var encodedJob: [UInt8]
    var logs: BoundedRing<String>
    var history: EventHistory
    let sequence: UInt64
    let requestID: String
    let requestFingerprint: UInt64
    var leaseTTLMs: UInt32
    /// Set when the port came from the pool and must go back to it.
    var pooledPort: UInt16?

    init(job: Job, encodedJob: [UInt8]? = nil, sequence: UInt64, requestID: String, requestFingerprint: UInt64,
         leaseTTLMs: UInt32, pooledPort: UInt16?, logCapacity: Int, historyCapacity: Int, historyBytes: Int) {
        self.job = job
        self.encodedJob = encodedJob ?? job.encode()
        self.logs = BoundedRing(capacity: logCapacity)
        self.history = EventHistory(maxCount: historyCapacity, maxBytes: historyBytes)
        self.sequence = sequence
        self.requestID = requestID
        self.requestFingerprint = requestFingerprint
        self.leaseTTLMs = leaseTTLMs
        self.pooledPort = pooledPort
    }

    /// Applies `change` to the job, advances the revision, re-encodes it and
    /// records the watch event. Returns the event.
    mutating func commit(now: Int64, newLogLines: [String], _ change: (inout Job) -> Void) -> StoredEvent {
        let previousStatus = job.status
        change(&job)
        job.revision += 1
        job.updatedAtMs = now
        for line in newLogLines {
            logs.append(line)
        }
        job.logLineCount += UInt64(newLogLines.count)
        encodedJob = job.encode()
        let event = StoredEvent(
            revision: job.revision,
            encodedEvent: WatchEvents.encode(type: .change, revision: job.revision, encodedJob: encodedJob,
                                             logLines: newLogLines),
            isStatusTransition: job.status != previousStatus)
        history.append(event)
        return event
    }

    /// The job with its last `logTail` lines, encoded by splicing the lines
    /// onto the cached encoding (a repeated field may be appended).
    func encoded(logTail: UInt32) -> [UInt8] {
        guard logTail > 0, !logs.isEmpty else { return encodedJob }
        var bytes = encodedJob
        for line in logs.suffix(Int(logTail)) {
            ProtobufWriter.appendString(WatchEvents.jobLogTailField, line, to: &bytes)
        }
        return bytes
    }

    func leaseIsLive(now: Int64) -> Bool {
        job.leaseExpiresAtMs > now
    }

    /// This record's state after a change that appended `logLines` and `event`.
    func storedChange(appendedLogLines logLines: [String], event: StoredEvent) -> StoredChange {
        .put(StoredJobChange(job: job, encodedJob: encodedJob, sequence: sequence, requestID: requestID, requestFingerprint: requestFingerprint,
                             leaseTTLMs: leaseTTLMs, appendedLogLines: logLines, appendedEvent: event))
    }
}

/// Encoded `WatchEvent`s, built around a job's cached encoding.
enum WatchEvents {
    static let jobLogTailField: UInt64 = 50
    private static let typeField: UInt64 = 1
    private static let revisionField: UInt64 = 2
    private static let jobField: UInt64 = 3
    private static let newLogLinesField: UInt64 = 4

    static func encode(type: WatchEventType, revision: UInt64, encodedJob: [UInt8]?, logLines: [String]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity((encodedJob?.count ?? 0) + 16)
        ProtobufWriter.appendVarintField(typeField, UInt64(type.rawValue), to: &bytes)
        ProtobufWriter.appendVarintField(revisionField, revision, to: &bytes)
        if let encodedJob {
            ProtobufWriter.appendLengthDelimited(jobField, encodedJob, to: &bytes)
        }
        for line in logLines {
            ProtobufWriter.appendString(newLogLinesField, line, to: &bytes)
        }
        return bytes
    }
}
