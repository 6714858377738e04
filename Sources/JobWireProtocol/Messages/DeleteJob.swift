internal import CJobWireProto

/// DeleteJob: forget a job (`jobwire.v1.DeleteJobRequest`).
public struct DeleteJobRequest: Sendable, Equatable {
    public var jobID: String

    public init(jobID: String) {
        self.jobID = jobID
    }
}

extension DeleteJobRequest: CMessageCodable {
    typealias CStruct = Jobwire__V1__DeleteJobRequest
    static let protoName: StaticString = "DeleteJobRequest"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__delete_job_request__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        jobID = try CDecode.jobID(c.job_id, "DeleteJobRequest.job_id")
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.job_id = arena.cString(jobID)
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}

/// DeleteJob's reply (`jobwire.v1.DeleteJobResponse`).
public struct DeleteJobResponse: Sendable, Equatable {
    /// The job's revision when it was deleted.
    public var revision: UInt64

    public init(revision: UInt64 = 0) {
        self.revision = revision
    }
}

extension DeleteJobResponse: CMessageCodable {
    typealias CStruct = Jobwire__V1__DeleteJobResponse
    static let protoName: StaticString = "DeleteJobResponse"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__delete_job_response__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        revision = c.revision
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.revision = revision
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}
