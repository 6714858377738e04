internal import CJobWireProto

/// Retry: a FAILED or CANCELLED job starts a new attempt under the same id
/// (`jobwire.v1.RetryRequest`). The reply is the ``Job``.
public struct RetryRequest: Sendable, Equatable {
    public var jobID: String
    /// When non-zero, retry only if the job is still at this revision.
    public var expectedRevision: UInt64

    public init(jobID: String, expectedRevision: UInt64 = 0) {
        self.jobID = jobID
        self.expectedRevision = expectedRevision
    }
}

extension RetryRequest: CMessageCodable {
    typealias CStruct = Jobwire__V1__RetryRequest
    static let protoName: StaticString = "RetryRequest"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__retry_request__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        jobID = try CDecode.jobID(c.job_id, "RetryRequest.job_id")
        expectedRevision = c.expected_revision
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.job_id = arena.cString(jobID)
        c.pointee.expected_revision = expectedRevision
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}

/// SetPriority: changes the priority of a job that has not ended
/// (`jobwire.v1.SetPriorityRequest`). The reply is the ``Job``.
public struct SetPriorityRequest: Sendable, Equatable {
    public var jobID: String
    public var priority: Int32
    /// When non-zero, apply only if the job is still at this revision.
    public var expectedRevision: UInt64

    public init(jobID: String, priority: Int32, expectedRevision: UInt64 = 0) {
        self.jobID = jobID
        self.priority = priority
        self.expectedRevision = expectedRevision
    }
}

extension SetPriorityRequest: CMessageCodable {
    typealias CStruct = Jobwire__V1__SetPriorityRequest
    static let protoName: StaticString = "SetPriorityRequest"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__set_priority_request__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        jobID = try CDecode.jobID(c.job_id, "SetPriorityRequest.job_id")
        priority = c.priority
        expectedRevision = c.expected_revision
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.job_id = arena.cString(jobID)
        c.pointee.priority = priority
        c.pointee.expected_revision = expectedRevision
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}
