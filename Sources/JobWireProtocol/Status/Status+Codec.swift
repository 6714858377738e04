internal import CJobWireProto

extension Status: CMessageCodable {
    typealias CStruct = Jobwire__V1__Status
    static let protoName: StaticString = "Status"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__status__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        // gRPC's rule: a code this side does not know is read as UNKNOWN,
        // so a newer peer's codes never make a reply undecodable.
        code = Int32(exactly: c.code.rawValue).flatMap(StatusCode.init(rawValue:)) ?? .unknown
        reason = try CDecode.string(c.reason, "Status.reason")
        message = try CDecode.string(c.message, "Status.message", max: Limits.maxMessageStringBytes)
        retryAfterMs = c.retry_after_ms
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.code = Jobwire__V1__StatusCode(rawValue: numericCast(code.rawValue))
        c.pointee.reason = arena.cString(reason)
        c.pointee.message = arena.cString(message)
        c.pointee.retry_after_ms = retryAfterMs
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}
