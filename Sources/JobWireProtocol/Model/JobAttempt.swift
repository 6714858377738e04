internal import CJobWireProto

/// How one earlier attempt of a retried job ended (`jobwire.v1.JobAttempt`).
public struct JobAttempt: Sendable, Equatable, Hashable {
    /// The attempt's number, from 1.
    public var attempt: UInt32
    /// FAILED or CANCELLED.
    public var status: JobStatus
    public var error: JobError?
    public var cancelReason: String
    public var completedAtMs: Int64

    public init(attempt: UInt32, status: JobStatus, error: JobError? = nil, cancelReason: String = "",
                completedAtMs: Int64 = 0) {
        self.attempt = attempt
        self.status = status
        self.error = error
        self.cancelReason = cancelReason
        self.completedAtMs = completedAtMs
    }
}

extension JobAttempt: CMessageCodable {
    typealias CStruct = Jobwire__V1__JobAttempt
    static let protoName: StaticString = "JobAttempt"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__job_attempt__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        attempt = c.attempt
        status = try CDecode.enumeration(c.status.rawValue, "JobAttempt.status")
        error = try CDecode.message(c.error)
        cancelReason = try CDecode.string(c.cancel_reason, "JobAttempt.cancel_reason", max: Limits.maxCancelReasonBytes)
        completedAtMs = c.completed_at_ms
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.attempt = attempt
        c.pointee.status = Jobwire__V1__JobStatus(rawValue: numericCast(status.rawValue))
        c.pointee.error = error.map(arena.message)
        c.pointee.cancel_reason = arena.cString(cancelReason)
        c.pointee.completed_at_ms = completedAtMs
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}
