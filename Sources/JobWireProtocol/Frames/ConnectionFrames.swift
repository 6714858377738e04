internal import CJobWireProto

/// Liveness check (`jobwire.v1.Ping`); answered by a ``Pong`` with the same payload.
public struct Ping: Sendable, Equatable {
    public var payload: UInt64

    public init(payload: UInt64) {
        self.payload = payload
    }
}

extension Ping: CMessageCodable {
    typealias CStruct = Jobwire__V1__Ping
    static let protoName: StaticString = "Ping"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__ping__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        payload = c.payload
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.payload = payload
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}

/// The answer to a ``Ping`` (`jobwire.v1.Pong`).
public struct Pong: Sendable, Equatable {
    public var payload: UInt64

    public init(payload: UInt64) {
        self.payload = payload
    }
}

extension Pong: CMessageCodable {
    typealias CStruct = Jobwire__V1__Pong
    static let protoName: StaticString = "Pong"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__pong__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        payload = c.payload
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.payload = payload
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}

/// The server accepts no new calls on this connection (`jobwire.v1.GoAway`);
/// with a non-OK status it also says why the connection closes.
public struct GoAway: Sendable, Equatable {
    /// Calls up to this stream id are finished; later ones were not processed.
    public var lastStreamID: UInt32
    public var status: Status

    public init(lastStreamID: UInt32, status: Status = .ok) {
        self.lastStreamID = lastStreamID
        self.status = status
    }
}

extension GoAway: CMessageCodable {
    typealias CStruct = Jobwire__V1__GoAway
    static let protoName: StaticString = "GoAway"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__go_away__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        lastStreamID = c.last_stream_id
        status = try CDecode.message(c.status) ?? .ok
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.last_stream_id = lastStreamID
        c.pointee.status = arena.message(status)
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}
