internal import CJobWireProto

/// Cancel: ask a job to stop; best-effort and idempotent
/// (`jobwire.v1.CancelRequest`). The reply is the ``Job``.
public struct CancelRequest: Sendable, Equatable {
    public var jobID: String
    /// Why, for people; at most ``Limits/maxCancelReasonBytes``.
    public var reason: String

    public init(jobID: String, reason: String = "") {
        self.jobID = jobID
        self.reason = reason
    }
}

extension CancelRequest: CMessageCodable {
    typealias CStruct = Jobwire__V1__CancelRequest
    static let protoName: StaticString = "CancelRequest"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__cancel_request__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        jobID = try CDecode.jobID(c.job_id, "CancelRequest.job_id")
        reason = try CDecode.string(c.reason, "CancelRequest.reason", max: Limits.maxCancelReasonBytes)
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.job_id = arena.cString(jobID)
        c.pointee.reason = arena.cString(reason)
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}
