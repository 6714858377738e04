internal import CJobWireProto

/// The protocol version this implementation speaks.
public enum ProtocolVersion {
    public static let current: UInt32 = 1
}

/// First frame from the client (`jobwire.v1.Hello`).
public struct Hello: Sendable, Equatable {
    public var protocolVersion: UInt32
    /// Empty when the server runs without keys.
    public var apiKey: String
    /// For logs, e.g. `jobwire-cli/1.0`.
    public var clientName: String
    /// The largest frame the client accepts; 0 means the default.
    public var maxFrameBytes: UInt32

    public init(protocolVersion: UInt32 = ProtocolVersion.current, apiKey: String = "", clientName: String = "",
                maxFrameBytes: UInt32 = 0) {
        self.protocolVersion = protocolVersion
        self.apiKey = apiKey
        self.clientName = clientName
        self.maxFrameBytes = maxFrameBytes
    }
}

extension Hello: CMessageCodable {
    typealias CStruct = Jobwire__V1__Hello
    static let protoName: StaticString = "Hello"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__hello__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        protocolVersion = c.protocol_version
        apiKey = try CDecode.string(c.api_key, "Hello.api_key", max: Limits.maxAPIKeyBytes)
        clientName = try CDecode.string(c.client_name, "Hello.client_name")
        maxFrameBytes = c.max_frame_bytes
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.protocol_version = protocolVersion
        c.pointee.api_key = arena.cString(apiKey)
        c.pointee.client_name = arena.cString(clientName)
        c.pointee.max_frame_bytes = maxFrameBytes
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}

/// The server's answer to Hello: the connection's limits (`jobwire.v1.HelloAck`).
public struct HelloAck: Sendable, Equatable {
    public var protocolVersion: UInt32
    public var serverName: String
    public var maxFrameBytes: UInt32
    public var maxConcurrentStreams: UInt32
    public var pingIntervalMs: UInt32
    public var tenant: String
    /// reader, client, worker or admin.
    public var role: String

    public init(protocolVersion: UInt32 = ProtocolVersion.current, serverName: String = "", maxFrameBytes: UInt32 = 0,
                maxConcurrentStreams: UInt32 = 0, pingIntervalMs: UInt32 = 0, tenant: String = "", role: String = "") {
        self.protocolVersion = protocolVersion
        self.serverName = serverName
        self.maxFrameBytes = maxFrameBytes
        self.maxConcurrentStreams = maxConcurrentStreams
        self.pingIntervalMs = pingIntervalMs
        self.tenant = tenant
        self.role = role
    }
}

extension HelloAck: CMessageCodable {
    typealias CStruct = Jobwire__V1__HelloAck
    static let protoName: StaticString = "HelloAck"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__hello_ack__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        protocolVersion = c.protocol_version
        serverName = try CDecode.string(c.server_name, "HelloAck.server_name")
        maxFrameBytes = c.max_frame_bytes
        maxConcurrentStreams = c.max_concurrent_streams
        pingIntervalMs = c.ping_interval_ms
        tenant = try CDecode.string(c.tenant, "HelloAck.tenant")
        role = try CDecode.string(c.role, "HelloAck.role")
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.protocol_version = protocolVersion
        c.pointee.server_name = arena.cString(serverName)
        c.pointee.max_frame_bytes = maxFrameBytes
        c.pointee.max_concurrent_streams = maxConcurrentStreams
        c.pointee.ping_interval_ms = pingIntervalMs
        c.pointee.tenant = arena.cString(tenant)
        c.pointee.role = arena.cString(role)
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}
