internal import CJobWireProto

/// Health: is the server serving? (`jobwire.v1.HealthRequest`)
public struct HealthRequest: Sendable, Equatable {
    /// Also report each component.
    public var detailed: Bool

    public init(detailed: Bool = false) {
        self.detailed = detailed
    }
}

extension HealthRequest: CMessageCodable {
    typealias CStruct = Jobwire__V1__HealthRequest
    static let protoName: StaticString = "HealthRequest"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__health_request__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        detailed = c.detailed != 0
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.detailed = detailed ? 1 : 0
    }

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
    /// Each component, for a detailed request; empty otherwise.
    public var components: [ComponentHealth]

    public init(status: ServingStatus = .unspecified, store: String = "", storeState: String = "",
                serverVersion: String = "", uptimeMs: Int64 = 0, components: [ComponentHealth] = []) {
        self.status = status
        self.store = store
        self.storeState = storeState
        self.serverVersion = serverVersion
        self.uptimeMs = uptimeMs
        self.components = components
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
        components = try CDecode.messages(c.n_components, c.components, "HealthResponse.components",
                                          maxCount: Limits.maxStatsEntries)
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.status = Jobwire__V1__ServingStatus(rawValue: numericCast(status.rawValue))
        c.pointee.store = arena.cString(store)
        c.pointee.store_state = arena.cString(storeState)
        c.pointee.server_version = arena.cString(serverVersion)
        c.pointee.uptime_ms = uptimeMs
        (c.pointee.n_components, c.pointee.components) = arena.messages(components)
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}

/// The state of one component of the server (`jobwire.v1.ComponentState`).
public enum ComponentState: Int32, Sendable, Equatable, Hashable, CaseIterable {
    case unspecified = 0
    case ok = 1
    /// Working, but needs attention soon.
    case warning = 2
    /// Not working: the server is NOT_SERVING because of it.
    case failing = 3

    /// `ok`, `warning`, `failing` (`unspecified` for 0).
    public var name: String {
        switch self {
        case .unspecified: "unspecified"
        case .ok: "ok"
        case .warning: "warning"
        case .failing: "failing"
        }
    }
}

/// One component in a detailed Health reply (`jobwire.v1.ComponentHealth`).
public struct ComponentHealth: Sendable, Equatable {
    /// `store`, `disk`, `event_loops`, …
    public var name: String
    public var state: ComponentState
    /// What is wrong or worth knowing; empty when all is well.
    public var message: String
    /// Measurements by name; docs/PROTOCOL.md lists them with their units.
    public var measures: [String: Double]

    public init(name: String, state: ComponentState, message: String = "", measures: [String: Double] = [:]) {
        self.name = name
        self.state = state
        self.message = message
        self.measures = measures
    }
}

extension ComponentHealth: CMessageCodable {
    typealias CStruct = Jobwire__V1__ComponentHealth
    static let protoName: StaticString = "ComponentHealth"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__component_health__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        name = try CDecode.string(c.name, "ComponentHealth.name")
        state = try CDecode.enumeration(c.state.rawValue, "ComponentHealth.state")
        message = try CDecode.string(c.message, "ComponentHealth.message", max: Limits.maxMessageStringBytes)
        measures = try CDecode.map(c.n_measures, c.measures, "ComponentHealth.measures",
                                   maxCount: Limits.maxStatsEntries) { (entry) throws(JobWireError) in
            (try CDecode.string(entry.key, "ComponentHealth.measures"), entry.value)
        }
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.name = arena.cString(name)
        c.pointee.state = Jobwire__V1__ComponentState(rawValue: numericCast(state.rawValue))
        c.pointee.message = arena.cString(message)
        (c.pointee.n_measures, c.pointee.measures) = arena.messages(
            measures.sorted { $0.key < $1.key },
            { measure, entry in
                entry.pointee.key = arena.cString(measure.key)
                entry.pointee.value = measure.value
            },
            initializer: { jobwire__v1__component_health__measures_entry__init($0) })
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}
