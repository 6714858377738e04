internal import CJobWireProto

/// The output of a COMPLETED job: opaque bytes with a media type
/// (`jobwire.v1.JobResult`).
public struct JobResult: Sendable, Equatable, Hashable {
    /// Media type of ``data``, e.g. `application/json`.
    public var contentType: String
    /// At most ``Limits/maxResultBytes``.
    public var data: [UInt8]

    public init(contentType: String = "", data: [UInt8] = []) {
        self.contentType = contentType
        self.data = data
    }
}

extension JobResult: CMessageCodable {
    typealias CStruct = Jobwire__V1__JobResult
    static let protoName: StaticString = "JobResult"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__job_result__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        contentType = try CDecode.string(c.content_type, "JobResult.content_type")
        data = try CDecode.bytes(c.data, "JobResult.data", max: Limits.maxResultBytes)
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.content_type = arena.cString(contentType)
        c.pointee.data = arena.binary(data)
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}
