import JobWireProtocol

/// What the registry must know of a job without decoding it: who owns it,
/// what ListJobs filters, searches and sorts on, what Stats counts, and the
/// clocks the reaper watches.
///
/// A durable store keeps these as columns beside the encoded job, so a
/// restart builds the registry from them and the stored bytes alone; the full
/// ``Job`` is decoded only when the job next changes. Decoding a million
/// stored jobs at start-up would take seconds, and most of them are finished
/// and never change again.
public struct JobSummary: Sendable, Equatable {
    public var jobID: String
    public var tenant: String
    public var type: String
    public var labels: [String: String]
    public var priority: Int32
    public var status: JobStatus
    /// What ListJobs' query searches besides the type and label values.
    public var currentTask: String
    public var createdAtMs: Int64
    public var updatedAtMs: Int64
    public var completedAtMs: Int64
    public var expiresAtMs: Int64
    public var leaseExpiresAtMs: Int64
    public var streamPort: UInt32
    public var logLineCount: UInt64
    public var revision: UInt64

    public init(jobID: String, tenant: String, type: String, labels: [String: String], priority: Int32, status: JobStatus,
                currentTask: String, createdAtMs: Int64, updatedAtMs: Int64, completedAtMs: Int64, expiresAtMs: Int64,
                leaseExpiresAtMs: Int64, streamPort: UInt32, logLineCount: UInt64, revision: UInt64) {
        self.jobID = jobID
        self.tenant = tenant
        self.type = type
        self.labels = labels
        self.priority = priority
        self.status = status
        self.currentTask = currentTask
        self.createdAtMs = createdAtMs
        self.updatedAtMs = updatedAtMs
        self.completedAtMs = completedAtMs
        self.expiresAtMs = expiresAtMs
        self.leaseExpiresAtMs = leaseExpiresAtMs
        self.streamPort = streamPort
        self.logLineCount = logLineCount
        self.revision = revision
    }

    public init(_ job: Job) {
        self.init(jobID: job.jobID, tenant: job.tenant, type: job.type, labels: job.labels, priority: job.priority,
                  status: job.status, currentTask: job.currentTask, createdAtMs: job.createdAtMs,
                  updatedAtMs: job.updatedAtMs, completedAtMs: job.completedAtMs, expiresAtMs: job.expiresAtMs,
                  leaseExpiresAtMs: job.leaseExpiresAtMs, streamPort: job.streamPort, logLineCount: job.logLineCount,
                  revision: job.revision)
    }
}
