internal import CJobWireProto

/// Health: is the server serving? (`jobwire.v1.HealthRequest`)
public struct HealthRequest: Sendable, Equatable {
    public init() {}
}

extension HealthRequest: CMessageCodable {
    typealias CStruct = Jobwire__V1__HealthRequest
    static let protoName: StaticString = "HealthRequest"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__health_request__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {}

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {}

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}

/// Serving state of the server (`jobwire.v1.ServingStatus`).
public enum ServingStatus: Int32, Sendable, Equatable, Hashable, CaseIterable {
    case unspecified = 0
    case serving = 1
    case notServing = 2
    case draining = 3
}

/// Health's reply (`jobwire.v1.HealthResponse`).
public struct HealthResponse: Sendable, Equatable {
    public var status: ServingStatus
    /// e.g. `memory`, `sqlite`.
    public var store: String
    /// e.g. `ok`, or what is wrong.
    public var storeState: String
    public var serverVersion: String
    public var uptimeMs: Int64

    public init(status: ServingStatus = .unspecified, store: String = "", storeState: String = "",
                serverVersion: String = "", uptimeMs: Int64 = 0) {
        self.status = status
        self.store = store
        self.storeState = storeState
        self.serverVersion = serverVersion
        self.uptimeMs = uptimeMs
    }
}

extension HealthResponse: CMessageCodable {
    typealias CStruct = Jobwire__V1__HealthResponse
    static let protoName: StaticString = "HealthResponse"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__health_response__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        status = try CDecode.enumeration(c.status.rawValue, "HealthResponse.status")
        store = try CDecode.string(c.store, "HealthResponse.store")
        storeState = try CDecode.string(c.store_state, "HealthResponse.store_state")
        serverVersion = try CDecode.string(c.server_version, "HealthResponse.server_version")
        uptimeMs = c.uptime_ms
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.status = Jobwire__V1__ServingStatus(rawValue: numericCast(status.rawValue))
        c.pointee.store = arena.cString(store)
        c.pointee.store_state = arena.cString(storeState)
        c.pointee.server_version = arena.cString(serverVersion)
        c.pointee.uptime_ms = uptimeMs
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}
