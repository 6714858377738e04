internal import CJobWireProto

/// Usage: what each API key of a tenant has done since the server started
/// (`jobwire.v1.UsageRequest`).
public struct UsageRequest: Sendable, Equatable {
    /// Admin keys only: the tenant to report; empty for the caller's own.
    public var tenant: String

    public init(tenant: String = "") {
        self.tenant = tenant
    }
}

extension UsageRequest: CMessageCodable {
    typealias CStruct = Jobwire__V1__UsageRequest
    static let protoName: StaticString = "UsageRequest"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__usage_request__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        tenant = try CDecode.string(c.tenant, "UsageRequest.tenant")
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.tenant = arena.cString(tenant)
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}

/// How often calls ended with one status code (`jobwire.v1.CodeCount`).
public struct CodeCount: Sendable, Equatable, Hashable {
    public var code: StatusCode
    public var count: UInt64

    public init(code: StatusCode, count: UInt64) {
        self.code = code
        self.count = count
    }
}

extension CodeCount: CMessageCodable {
    typealias CStruct = Jobwire__V1__CodeCount
    static let protoName: StaticString = "CodeCount"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__code_count__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        code = try CDecode.enumeration(c.code.rawValue, "CodeCount.code")
        count = c.count
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.code = Jobwire__V1__StatusCode(rawValue: numericCast(code.rawValue))
        c.pointee.count = count
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}

/// One key's calls of one method (`jobwire.v1.MethodUsage`).
public struct MethodUsage: Sendable, Equatable, Hashable {
    /// The method's full name.
    public var method: String
    public var calls: UInt64
    /// Calls that ended with an error, by code, in code order.
    public var errors: [CodeCount]

    public init(method: String, calls: UInt64 = 0, errors: [CodeCount] = []) {
        self.method = method
        self.calls = calls
        self.errors = errors
    }
}

extension MethodUsage: CMessageCodable {
    typealias CStruct = Jobwire__V1__MethodUsage
    static let protoName: StaticString = "MethodUsage"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__method_usage__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        method = try CDecode.string(c.method, "MethodUsage.method")
        calls = c.calls
        errors = try CDecode.messages(c.n_errors, c.errors, "MethodUsage.errors", maxCount: Limits.maxStatsEntries)
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.method = arena.cString(method)
        c.pointee.calls = calls
        (c.pointee.n_errors, c.pointee.errors) = arena.messages(errors)
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}

/// One API key's usage since the server started (`jobwire.v1.KeyUsage`).
public struct KeyUsage: Sendable, Equatable, Hashable {
    /// The key's public id; `development` without keys.
    public var keyID: String
    public var role: String
    /// By method, in method-name order.
    public var methods: [MethodUsage]
    /// Calls refused with RATE_LIMITED.
    public var rateLimited: UInt64
    public var bytesIn: UInt64
    public var bytesOut: UInt64
    /// 0 if the key never made a call.
    public var lastUsedAtMs: Int64

    public init(keyID: String, role: String, methods: [MethodUsage] = [], rateLimited: UInt64 = 0, bytesIn: UInt64 = 0,
                bytesOut: UInt64 = 0, lastUsedAtMs: Int64 = 0) {
        self.keyID = keyID
        self.role = role
        self.methods = methods
        self.rateLimited = rateLimited
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
        self.lastUsedAtMs = lastUsedAtMs
    }
}

extension KeyUsage: CMessageCodable {
    typealias CStruct = Jobwire__V1__KeyUsage
    static let protoName: StaticString = "KeyUsage"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__key_usage__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        keyID = try CDecode.string(c.key_id, "KeyUsage.key_id")
        role = try CDecode.string(c.role, "KeyUsage.role")
        methods = try CDecode.messages(c.n_methods, c.methods, "KeyUsage.methods", maxCount: Limits.maxStatsEntries)
        rateLimited = c.rate_limited
        bytesIn = c.bytes_in
        bytesOut = c.bytes_out
        lastUsedAtMs = c.last_used_at_ms
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.key_id = arena.cString(keyID)
        c.pointee.role = arena.cString(role)
        (c.pointee.n_methods, c.pointee.methods) = arena.messages(methods)
        c.pointee.rate_limited = rateLimited
        c.pointee.bytes_in = bytesIn
        c.pointee.bytes_out = bytesOut
        c.pointee.last_used_at_ms = lastUsedAtMs
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}

/// Usage's reply (`jobwire.v1.UsageResponse`): one entry per key of the
/// tenant that connected since the server started, by key id.
public struct UsageResponse: Sendable, Equatable {
    public var tenant: String
    public var keys: [KeyUsage]

    public init(tenant: String = "", keys: [KeyUsage] = []) {
        self.tenant = tenant
        self.keys = keys
    }
}

extension UsageResponse: CMessageCodable {
    typealias CStruct = Jobwire__V1__UsageResponse
    static let protoName: StaticString = "UsageResponse"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__usage_response__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        tenant = try CDecode.string(c.tenant, "UsageResponse.tenant")
        keys = try CDecode.messages(c.n_keys, c.keys, "UsageResponse.keys", maxCount: Limits.maxUsageKeys)
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.tenant = arena.cString(tenant)
        (c.pointee.n_keys, c.pointee.keys) = arena.messages(keys)
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}
