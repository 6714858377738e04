internal import CJobWireProto

/// UpdateJob: the worker reports (`jobwire.v1.UpdateJobRequest`). Fields that
/// are nil (or empty, for log lines) leave the job as it is. The reply is the
/// ``Job`` after the update.
public struct UpdateJobRequest: Sendable, Equatable {
    public var jobID: String
    /// ``JobStatus/unspecified`` keeps the status.
    public var status: JobStatus
    /// Percent, finite, from 0 to 100.
    public var progress: Double?
    public var currentTask: String?
    /// A negative value clears the estimate.
    public var etaSeconds: Double?
    /// At most ``Limits/maxLogLinesPerUpdate`` lines of ``Limits/maxLogLineBytes``.
    public var logLines: [String]
    /// Only with status COMPLETED.
    public var result: JobResult?
    /// Only with status FAILED.
    public var error: JobError?
    /// Take or renew the lease for this long; 0 renews with the previous length.
    public var leaseTTLMs: UInt32
    /// Non-zero: apply only at this revision (else ABORTED, REVISION_MISMATCH).
    public var expectedRevision: UInt64

    public init(jobID: String, status: JobStatus = .unspecified, progress: Double? = nil, currentTask: String? = nil,
                etaSeconds: Double? = nil, logLines: [String] = [], result: JobResult? = nil, error: JobError? = nil,
                leaseTTLMs: UInt32 = 0, expectedRevision: UInt64 = 0) {
        self.jobID = jobID
        self.status = status
        self.progress = progress
        self.currentTask = currentTask
        self.etaSeconds = etaSeconds
        self.logLines = logLines
        self.result = result
        self.error = error
        self.leaseTTLMs = leaseTTLMs
        self.expectedRevision = expectedRevision
    }
}

extension UpdateJobRequest: CMessageCodable {
    typealias CStruct = Jobwire__V1__UpdateJobRequest
    static let protoName: StaticString = "UpdateJobRequest"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__update_job_request__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        jobID = try CDecode.jobID(c.job_id, "UpdateJobRequest.job_id")
        status = try CDecode.enumeration(c.status.rawValue, "UpdateJobRequest.status")
        if c.progress_update_case == JOBWIRE__V1__UPDATE_JOB_REQUEST__PROGRESS_UPDATE_PROGRESS {
            guard c.progress.isFinite, (0...100).contains(c.progress) else {
                throw .invalidArgument(Reason.valueOutOfRange,
                                       "UpdateJobRequest.progress: \(c.progress) is not a percentage from 0 to 100")
            }
            progress = c.progress
        } else {
            progress = nil
        }
        currentTask = c.current_task_update_case == JOBWIRE__V1__UPDATE_JOB_REQUEST__CURRENT_TASK_UPDATE_CURRENT_TASK
            ? try CDecode.string(c.current_task, "UpdateJobRequest.current_task") : nil
        if c.eta_update_case == JOBWIRE__V1__UPDATE_JOB_REQUEST__ETA_UPDATE_ETA_SECONDS {
            guard c.eta_seconds.isFinite else {
                throw .invalidArgument(Reason.valueOutOfRange, "UpdateJobRequest.eta_seconds: must be a finite number")
            }
            etaSeconds = c.eta_seconds
        } else {
            etaSeconds = nil
        }
        logLines = try CDecode.strings(c.n_log_lines, c.log_lines, "UpdateJobRequest.log_lines",
                                       maxCount: Limits.maxLogLinesPerUpdate, maxEach: Limits.maxLogLineBytes)
        result = try CDecode.message(c.result)
        error = try CDecode.message(c.error)
        leaseTTLMs = c.lease_ttl_ms
        expectedRevision = c.expected_revision
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.job_id = arena.cString(jobID)
        c.pointee.status = Jobwire__V1__JobStatus(rawValue: numericCast(status.rawValue))
        if let progress {
            c.pointee.progress_update_case = JOBWIRE__V1__UPDATE_JOB_REQUEST__PROGRESS_UPDATE_PROGRESS
            c.pointee.progress = progress
        }
        if let currentTask {
            c.pointee.current_task_update_case = JOBWIRE__V1__UPDATE_JOB_REQUEST__CURRENT_TASK_UPDATE_CURRENT_TASK
            c.pointee.current_task = arena.cString(currentTask)
        }
        if let etaSeconds {
            c.pointee.eta_update_case = JOBWIRE__V1__UPDATE_JOB_REQUEST__ETA_UPDATE_ETA_SECONDS
            c.pointee.eta_seconds = etaSeconds
        }
        (c.pointee.n_log_lines, c.pointee.log_lines) = arena.cStrings(logLines)
        c.pointee.result = result.map(arena.message)
        c.pointee.error = error.map(arena.message)
        c.pointee.lease_ttl_ms = leaseTTLMs
        c.pointee.expected_revision = expectedRevision
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}
