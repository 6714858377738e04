internal import CJobWireProto

/// WatchJobs: a stream of the changes to every job of the caller's tenant
/// that matches a filter (`jobwire.v1.WatchJobsRequest`).
public struct WatchJobsRequest: Sendable, Equatable {
    /// The filter, as ListJobs takes it; `pageSize` is jobs per SNAPSHOT
    /// event; `pageToken`, `orderBy` and `ascending` stay at their defaults.
    public var filter: ListJobsRequest
    /// Empty for a snapshot first; otherwise the last processed event's cursor.
    public var cursor: String

    public init(filter: ListJobsRequest = ListJobsRequest(), cursor: String = "") {
        self.filter = filter
        self.cursor = cursor
    }
}

extension WatchJobsRequest: CMessageCodable {
    typealias CStruct = Jobwire__V1__WatchJobsRequest
    static let protoName: StaticString = "WatchJobsRequest"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__watch_jobs_request__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        filter = try CDecode.message(c.filter) ?? ListJobsRequest()
        cursor = try CDecode.string(c.cursor, "WatchJobsRequest.cursor")
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.filter = arena.message(filter)
        c.pointee.cursor = arena.cString(cursor)
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}

/// What a ``JobsEvent`` means (`jobwire.v1.JobsEventType`).
public enum JobsEventType: Int32, Sendable, Equatable, Hashable, CaseIterable {
    case unspecified = 0
    /// Matching jobs as they are: the first events of a watch without a cursor, and after a resync.
    case snapshot = 1
    /// The snapshot or the catch-up is complete; live changes follow.
    case synced = 2
    /// A job now matches (created, or changed into the filter).
    case entered = 3
    /// A matching job changed and still matches.
    case changed = 4
    /// A job no longer matches (changed out of the filter, deleted, expired).
    case left = 5
    /// The cursor cannot be resumed: forget every job; a snapshot follows.
    case resync = 6
    /// Nothing changed; the cursor is current.
    case bookmark = 7

    /// `snapshot`, `synced`, `entered`, …: the CLI's and JSON's name.
    public var name: String {
        switch self {
        case .unspecified: "unspecified"
        case .snapshot: "snapshot"
        case .synced: "synced"
        case .entered: "entered"
        case .changed: "changed"
        case .left: "left"
        case .resync: "resync"
        case .bookmark: "bookmark"
        }
    }
}

/// One event of WatchJobs (`jobwire.v1.JobsEvent`).
public struct JobsEvent: Sendable, Equatable {
    public var type: JobsEventType
    /// Send it back in ``WatchJobsRequest/cursor`` to continue after this event.
    public var cursor: String
    /// The jobs the event is about.
    public var jobs: [Job]
    /// ENTERED, CHANGED, LEFT: the job's id.
    public var jobID: String

    public init(type: JobsEventType, cursor: String, jobs: [Job] = [], jobID: String = "") {
        self.type = type
        self.cursor = cursor
        self.jobs = jobs
        self.jobID = jobID
    }
}

extension JobsEvent: CMessageCodable {
    typealias CStruct = Jobwire__V1__JobsEvent
    static let protoName: StaticString = "JobsEvent"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__jobs_event__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        type = try CDecode.enumeration(c.type.rawValue, "JobsEvent.type")
        cursor = try CDecode.string(c.cursor, "JobsEvent.cursor")
        jobs = try CDecode.messages(c.n_jobs, c.jobs, "JobsEvent.jobs", maxCount: Limits.maxPageSize)
        jobID = try CDecode.optionalJobID(c.job_id, "JobsEvent.job_id")
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.type = Jobwire__V1__JobsEventType(rawValue: numericCast(type.rawValue))
        c.pointee.cursor = arena.cString(cursor)
        (c.pointee.n_jobs, c.pointee.jobs) = arena.messages(jobs)
        c.pointee.job_id = arena.cString(jobID)
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}
