internal import CJobWireProto

/// Configure: create a job (`jobwire.v1.ConfigureRequest`).
public struct ConfigureRequest: Sendable, Equatable {
    /// Idempotency key (AIP-155), at most ``Limits/maxRequestIDBytes``; empty for none.
    public var requestID: String
    /// The job to create; output-only fields are ignored by the server.
    public var job: Job
    /// Non-zero: the caller is the job's worker and takes a lease this long.
    public var leaseTTLMs: UInt32

    public init(requestID: String = "", job: Job = Job(), leaseTTLMs: UInt32 = 0) {
        self.requestID = requestID
        self.job = job
        self.leaseTTLMs = leaseTTLMs
    }
}

extension ConfigureRequest: CMessageCodable {
    typealias CStruct = Jobwire__V1__ConfigureRequest
    static let protoName: StaticString = "ConfigureRequest"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__configure_request__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        requestID = try CDecode.string(c.request_id, "ConfigureRequest.request_id", max: Limits.maxRequestIDBytes)
        job = try CDecode.message(c.job) ?? Job()
        leaseTTLMs = c.lease_ttl_ms
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.request_id = arena.cString(requestID)
        c.pointee.job = arena.message(job)
        c.pointee.lease_ttl_ms = leaseTTLMs
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}

/// Configure's reply (`jobwire.v1.ConfigureResponse`).
public struct ConfigureResponse: Sendable, Equatable {
    /// The job with every field filled, as GetMetadata returns it.
    public var job: Job
    /// False when the call replayed an earlier Configure with the same request id.
    public var created: Bool

    public init(job: Job = Job(), created: Bool = false) {
        self.job = job
        self.created = created
    }
}

extension ConfigureResponse: CMessageCodable {
    typealias CStruct = Jobwire__V1__ConfigureResponse
    static let protoName: StaticString = "ConfigureResponse"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__configure_response__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        job = try CDecode.message(c.job) ?? Job()
        created = c.created != 0
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.job = arena.message(job)
        c.pointee.created = created ? 1 : 0
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}
