internal import CJobWireProto

/// WatchJob: a server stream of one job's changes (`jobwire.v1.WatchJobRequest`).
public struct WatchJobRequest: Sendable, Equatable {
    public var jobID: String
    /// 0 starts with a snapshot; otherwise every change after this revision
    /// follows, or a resync when that history is gone.
    public var afterRevision: UInt64
    /// Log lines in the first snapshot or resync event.
    public var logTail: UInt32

    public init(jobID: String, afterRevision: UInt64 = 0, logTail: UInt32 = 0) {
        self.jobID = jobID
        self.afterRevision = afterRevision
        self.logTail = logTail
    }
}

extension WatchJobRequest: CMessageCodable {
    typealias CStruct = Jobwire__V1__WatchJobRequest
    static let protoName: StaticString = "WatchJobRequest"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__watch_job_request__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        jobID = try CDecode.jobID(c.job_id, "WatchJobRequest.job_id")
        afterRevision = c.after_revision
        logTail = try LogTail.check(c.log_tail, "WatchJobRequest.log_tail")
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.job_id = arena.cString(jobID)
        c.pointee.after_revision = afterRevision
        c.pointee.log_tail = logTail
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}

/// What a ``WatchEvent`` means (`jobwire.v1.WatchEventType`).
public enum WatchEventType: Int32, Sendable, Equatable, Hashable, CaseIterable {
    case unspecified = 0
    /// The current state; first event of a watch that did not resume.
    case snapshot = 1
    /// The job changed.
    case change = 2
    /// The resume point is no longer retained: the full current state, with a gap before it.
    case resync = 3
    /// Nothing changed; carries the current revision only.
    case bookmark = 4
}

/// One event of WatchJob (`jobwire.v1.WatchEvent`).
public struct WatchEvent: Sendable, Equatable {
    public var type: WatchEventType
    /// Resume from here.
    public var revision: UInt64
    /// nil for bookmarks.
    public var job: Job?
    /// Log lines appended in this change, oldest first.
    public var newLogLines: [String]

    public init(type: WatchEventType, revision: UInt64, job: Job? = nil, newLogLines: [String] = []) {
        self.type = type
        self.revision = revision
        self.job = job
        self.newLogLines = newLogLines
    }
}

extension WatchEvent: CMessageCodable {
    typealias CStruct = Jobwire__V1__WatchEvent
    static let protoName: StaticString = "WatchEvent"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__watch_event__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        type = try CDecode.enumeration(c.type.rawValue, "WatchEvent.type")
        revision = c.revision
        job = try CDecode.message(c.job)
        newLogLines = try CDecode.strings(c.n_new_log_lines, c.new_log_lines, "WatchEvent.new_log_lines",
                                          maxCount: Limits.maxLogLinesPerUpdate, maxEach: Limits.maxLogLineBytes)
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.type = Jobwire__V1__WatchEventType(rawValue: numericCast(type.rawValue))
        c.pointee.revision = revision
        c.pointee.job = job.map(arena.message)
        (c.pointee.n_new_log_lines, c.pointee.new_log_lines) = arena.cStrings(newLogLines)
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}
