internal import CJobWireProto

/// GetMetadata: one job (`jobwire.v1.GetMetadataRequest`). The reply is a ``Job``.
public struct GetMetadataRequest: Sendable, Equatable {
    /// A UUID; decoding refuses anything else (INVALID_JOB_ID).
    public var jobID: String
    /// How many of the last log lines to include; 0 for none, at most ``Limits/maxLogTail``.
    public var logTail: UInt32

    public init(jobID: String, logTail: UInt32 = 0) {
        self.jobID = jobID
        self.logTail = logTail
    }
}

extension GetMetadataRequest: CMessageCodable {
    typealias CStruct = Jobwire__V1__GetMetadataRequest
    static let protoName: StaticString = "GetMetadataRequest"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__get_metadata_request__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        jobID = try CDecode.jobID(c.job_id, "GetMetadataRequest.job_id")
        logTail = try LogTail.check(c.log_tail, "GetMetadataRequest.log_tail")
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.job_id = arena.cString(jobID)
        c.pointee.log_tail = logTail
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}

/// `log_tail` request fields: at most ``Limits/maxLogTail`` lines.
enum LogTail {
    static func check(_ value: UInt32, _ field: StaticString) throws(JobWireError) -> UInt32 {
        guard value <= Limits.maxLogTail else {
            throw .invalidArgument(Reason.valueOutOfRange, "\(field): \(value) exceeds the limit of \(Limits.maxLogTail)")
        }
        return value
    }
}
