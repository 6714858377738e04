internal import CJobWireProto

/// What went wrong with a FAILED job (`jobwire.v1.JobError`). A description
/// of the job's failure, not a Swift error: failures of calls are
/// ``JobWireError``.
public struct JobError: Sendable, Equatable, Hashable {
    public var message: String
    /// The task that failed, if the worker knew it.
    public var failedTask: String
    public var retryCount: UInt32
    /// Machine-readable cause; ``Reason/leaseExpired`` when the lease ran out.
    public var reason: String

    public init(message: String = "", failedTask: String = "", retryCount: UInt32 = 0, reason: String = "") {
        self.message = message
        self.failedTask = failedTask
        self.retryCount = retryCount
        self.reason = reason
    }
}

extension JobError: CMessageCodable {
    typealias CStruct = Jobwire__V1__JobError
    static let protoName: StaticString = "JobError"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__job_error__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        message = try CDecode.string(c.message, "JobError.message", max: Limits.maxMessageStringBytes)
        failedTask = try CDecode.string(c.failed_task, "JobError.failed_task")
        retryCount = c.retry_count
        reason = try CDecode.string(c.reason, "JobError.reason")
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.message = arena.cString(message)
        c.pointee.failed_task = arena.cString(failedTask)
        c.pointee.retry_count = retryCount
        c.pointee.reason = arena.cString(reason)
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}
