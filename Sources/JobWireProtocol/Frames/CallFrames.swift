internal import CJobWireProto

/// Opens a call on a new stream (`jobwire.v1.Call`).
public struct Call: Sendable, Equatable {
    /// At least 1, not in use by another open call on the connection.
    public var streamID: UInt32
    /// Full method name; see ``Method``.
    public var method: String
    /// The encoded request message.
    public var request: [UInt8]
    /// Relative deadline; 0 for none.
    public var timeoutMs: UInt32
    /// Admin keys only: the tenant to act for; empty for the key's own.
    public var tenant: String

    public init(streamID: UInt32, method: String, request: [UInt8], timeoutMs: UInt32 = 0, tenant: String = "") {
        self.streamID = streamID
        self.method = method
        self.request = request
        self.timeoutMs = timeoutMs
        self.tenant = tenant
    }
}

extension Call: CMessageCodable {
    typealias CStruct = Jobwire__V1__Call
    static let protoName: StaticString = "Call"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__call__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        streamID = c.stream_id
        method = try CDecode.string(c.method, "Call.method")
        // Bounded by the frame that carries it.
        request = try CDecode.bytes(c.request, "Call.request", max: .max)
        timeoutMs = c.timeout_ms
        tenant = try CDecode.string(c.tenant, "Call.tenant")
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.stream_id = streamID
        c.pointee.method = arena.cString(method)
        c.pointee.request = arena.binary(request)
        c.pointee.timeout_ms = timeoutMs
        c.pointee.tenant = arena.cString(tenant)
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}

/// One reply message of a call (`jobwire.v1.Reply`).
public struct Reply: Sendable, Equatable {
    public var streamID: UInt32
    /// The encoded reply message.
    public var message: [UInt8]

    public init(streamID: UInt32, message: [UInt8]) {
        self.streamID = streamID
        self.message = message
    }
}

extension Reply: CMessageCodable {
    typealias CStruct = Jobwire__V1__Reply
    static let protoName: StaticString = "Reply"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__reply__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        streamID = c.stream_id
        message = try CDecode.bytes(c.message, "Reply.message", max: .max)
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.stream_id = streamID
        c.pointee.message = arena.binary(message)
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}

/// The last frame of a call: its status (`jobwire.v1.End`).
public struct End: Sendable, Equatable {
    public var streamID: UInt32
    public var status: Status

    public init(streamID: UInt32, status: Status) {
        self.streamID = streamID
        self.status = status
    }
}

extension End: CMessageCodable {
    typealias CStruct = Jobwire__V1__End
    static let protoName: StaticString = "End"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__end__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        streamID = c.stream_id
        // An absent status is OK, as an empty Status message would be.
        status = try CDecode.message(c.status) ?? .ok
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.stream_id = streamID
        c.pointee.status = arena.message(status)
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}

/// The client gives up on a call (`jobwire.v1.CancelCall`).
public struct CancelCall: Sendable, Equatable {
    public var streamID: UInt32

    public init(streamID: UInt32) {
        self.streamID = streamID
    }
}

extension CancelCall: CMessageCodable {
    typealias CStruct = Jobwire__V1__CancelCall
    static let protoName: StaticString = "CancelCall"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__cancel_call__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        streamID = c.stream_id
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.stream_id = streamID
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}
