internal import CJobWireProto

/// One job (`jobwire.v1.Job`): identity, stream endpoint and configuration,
/// lifecycle, times, outcome and log tail. The `.proto` documents each field;
/// times are Unix epoch milliseconds, 0 meaning "not set".
public struct Job: Sendable, Equatable, Hashable {
    // Identity.
    /// Server-assigned UUID in canonical lower-case form; empty in a job that
    /// is not created yet.
    public var jobID: String
    public var tenant: String
    public var type: String
    public var labels: [String: String]
    public var priority: Int32

    // Stream endpoint and configuration.
    public var streamURL: String
    public var streamPort: UInt32
    public var viewType: Int32
    public var frequenciesList: [Double]
    public var linesDt: Double
    public var channelToStreamIndex: [UInt32: UInt32]
    public var streamAmount: UInt32
    public var frequenciesAmount: UInt32
    public var channelAmount: UInt32
    public var metadata: StreamMetadata?

    // Lifecycle.
    public var status: JobStatus
    public var progress: Double
    public var currentTask: String
    /// nil when the worker gave no estimate.
    public var etaSeconds: Double?
    /// 1 until the job is retried; each Retry adds one.
    public var attempt: UInt32

    // Time.
    public var createdAtMs: Int64
    public var updatedAtMs: Int64
    public var completedAtMs: Int64
    public var expiresAtMs: Int64
    public var leaseExpiresAtMs: Int64

    // Outcome.
    public var result: JobResult?
    public var error: JobError?
    public var cancelReason: String
    /// How the earlier attempts ended, oldest first (the last ``Limits/maxPreviousAttempts``).
    public var previousAttempts: [JobAttempt]

    // Log.
    public var logTail: [String]
    public var logLineCount: UInt64

    public var revision: UInt64

    public init(jobID: String = "", tenant: String = "", type: String = "", labels: [String: String] = [:],
                priority: Int32 = 0, streamURL: String = "", streamPort: UInt32 = 0, viewType: Int32 = 0,
                frequenciesList: [Double] = [], linesDt: Double = 0, channelToStreamIndex: [UInt32: UInt32] = [:],
                streamAmount: UInt32 = 0, frequenciesAmount: UInt32 = 0, channelAmount: UInt32 = 0,
                metadata: StreamMetadata? = nil, status: JobStatus = .unspecified, progress: Double = 0,
                currentTask: String = "", etaSeconds: Double? = nil, attempt: UInt32 = 0, createdAtMs: Int64 = 0, updatedAtMs: Int64 = 0,
                completedAtMs: Int64 = 0, expiresAtMs: Int64 = 0, leaseExpiresAtMs: Int64 = 0,
                result: JobResult? = nil, error: JobError? = nil, cancelReason: String = "",
                previousAttempts: [JobAttempt] = [], logTail: [String] = [], logLineCount: UInt64 = 0, revision: UInt64 = 0) {
        self.jobID = jobID
        self.tenant = tenant
        self.type = type
        self.labels = labels
        self.priority = priority
        self.streamURL = streamURL
        self.streamPort = streamPort
        self.viewType = viewType
        self.frequenciesList = frequenciesList
        self.linesDt = linesDt
        self.channelToStreamIndex = channelToStreamIndex
        self.streamAmount = streamAmount
        self.frequenciesAmount = frequenciesAmount
        self.channelAmount = channelAmount
        self.metadata = metadata
        self.status = status
        self.progress = progress
        self.currentTask = currentTask
        self.etaSeconds = etaSeconds
        self.attempt = attempt
        self.createdAtMs = createdAtMs
        self.updatedAtMs = updatedAtMs
        self.completedAtMs = completedAtMs
        self.expiresAtMs = expiresAtMs
        self.leaseExpiresAtMs = leaseExpiresAtMs
        self.result = result
        self.error = error
        self.cancelReason = cancelReason
        self.previousAttempts = previousAttempts
        self.logTail = logTail
        self.logLineCount = logLineCount
        self.revision = revision
    }
}

extension Job: CMessageCodable {
    typealias CStruct = Jobwire__V1__Job
    static let protoName: StaticString = "Job"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__job__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        jobID = try CDecode.optionalJobID(c.job_id, "Job.job_id")
        tenant = try CDecode.string(c.tenant, "Job.tenant")
        type = try CDecode.string(c.type, "Job.type")
        labels = try CDecode.map(c.n_labels, c.labels, "Job.labels", maxCount: Limits.maxLabels) { (entry) throws(JobWireError) in
            try Labels.entry(key: entry.key, value: entry.value, "Job.labels")
        }
        priority = c.priority
        streamURL = try CDecode.string(c.stream_url, "Job.stream_url")
        streamPort = c.stream_port
        guard streamPort <= UInt32(UInt16.max) else {
            throw .invalidArgument(Reason.valueOutOfRange, "Job.stream_port: \(streamPort) is not a TCP port")
        }
        viewType = c.view_type
        frequenciesList = try CDecode.doubles(c.n_frequencies_list, c.frequencies_list, "Job.frequencies_list",
                                              maxCount: Limits.maxFrequencies)
        linesDt = c.lines_dt
        channelToStreamIndex = try CDecode.map(c.n_channel_to_stream_index, c.channel_to_stream_index,
                                               "Job.channel_to_stream_index",
                                               maxCount: Limits.maxChannelMapEntries) { entry in (entry.key, entry.value) }
        streamAmount = c.stream_amount
        frequenciesAmount = c.frequencies_amount
        channelAmount = c.channel_amount
        metadata = try CDecode.message(c.metadata)
        status = try CDecode.enumeration(c.status.rawValue, "Job.status")
        progress = c.progress
        currentTask = try CDecode.string(c.current_task, "Job.current_task")
        etaSeconds = c.eta_case == JOBWIRE__V1__JOB__ETA_ETA_SECONDS ? c.eta_seconds : nil
        attempt = c.attempt
        createdAtMs = c.created_at_ms
        updatedAtMs = c.updated_at_ms
        completedAtMs = c.completed_at_ms
        expiresAtMs = c.expires_at_ms
        leaseExpiresAtMs = c.lease_expires_at_ms
        result = try CDecode.message(c.result)
        error = try CDecode.message(c.error)
        cancelReason = try CDecode.string(c.cancel_reason, "Job.cancel_reason", max: Limits.maxCancelReasonBytes)
        previousAttempts = try CDecode.messages(c.n_previous_attempts, c.previous_attempts, "Job.previous_attempts",
                                                maxCount: Limits.maxPreviousAttempts)
        logTail = try CDecode.strings(c.n_log_tail, c.log_tail, "Job.log_tail", maxCount: Limits.maxLogTail,
                                      maxEach: Limits.maxLogLineBytes)
        logLineCount = c.log_line_count
        revision = c.revision
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.job_id = arena.cString(jobID)
        c.pointee.tenant = arena.cString(tenant)
        c.pointee.type = arena.cString(type)
        (c.pointee.n_labels, c.pointee.labels) = Labels.pack(labels, arena: arena,
                                                             initializer: { jobwire__v1__job__labels_entry__init($0) },
                                                             set: { $0.pointee.key = $1; $0.pointee.value = $2 })
        c.pointee.priority = priority
        c.pointee.stream_url = arena.cString(streamURL)
        c.pointee.stream_port = streamPort
        c.pointee.view_type = viewType
        (c.pointee.n_frequencies_list, c.pointee.frequencies_list) = arena.doubles(frequenciesList)
        c.pointee.lines_dt = linesDt
        // Key order (for deterministic bytes), sorted as packed key<<32|value
        // integers: a plain integer sort, cheaper than sorting tuples.
        var packed = channelToStreamIndex.map { UInt64($0.key) << 32 | UInt64($0.value) }
        packed.sort()
        (c.pointee.n_channel_to_stream_index, c.pointee.channel_to_stream_index) = arena.messages(
            packed,
            { pair, entry in
                entry.pointee.key = UInt32(truncatingIfNeeded: pair >> 32)
                entry.pointee.value = UInt32(truncatingIfNeeded: pair)
            },
            initializer: { jobwire__v1__job__channel_to_stream_index_entry__init($0) })
        c.pointee.stream_amount = streamAmount
        c.pointee.frequencies_amount = frequenciesAmount
        c.pointee.channel_amount = channelAmount
        c.pointee.metadata = metadata.map(arena.message)
        c.pointee.status = Jobwire__V1__JobStatus(rawValue: numericCast(status.rawValue))
        c.pointee.progress = progress
        c.pointee.current_task = arena.cString(currentTask)
        if let etaSeconds {
            c.pointee.eta_case = JOBWIRE__V1__JOB__ETA_ETA_SECONDS
            c.pointee.eta_seconds = etaSeconds
        }
        c.pointee.attempt = attempt
        c.pointee.created_at_ms = createdAtMs
        c.pointee.updated_at_ms = updatedAtMs
        c.pointee.completed_at_ms = completedAtMs
        c.pointee.expires_at_ms = expiresAtMs
        c.pointee.lease_expires_at_ms = leaseExpiresAtMs
        c.pointee.result = result.map(arena.message)
        c.pointee.error = error.map(arena.message)
        c.pointee.cancel_reason = arena.cString(cancelReason)
        (c.pointee.n_previous_attempts, c.pointee.previous_attempts) = arena.messages(previousAttempts)
        (c.pointee.n_log_tail, c.pointee.log_tail) = arena.cStrings(logTail)
        c.pointee.log_line_count = logLineCount
        c.pointee.revision = revision
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}
