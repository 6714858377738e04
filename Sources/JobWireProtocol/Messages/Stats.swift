internal import CJobWireProto

/// Stats: the tenant's jobs in numbers, and counters for operators
/// (`jobwire.v1.StatsRequest`).
public struct StatsRequest: Sendable, Equatable {
    /// Admin keys only: the tenant to count; empty for the caller's own.
    public var tenant: String
    /// Only jobs created at or after this time; 0 for no bound.
    public var createdAfterMs: Int64
    /// Only jobs created before this time; 0 for no bound.
    public var createdBeforeMs: Int64

    public init(tenant: String = "", createdAfterMs: Int64 = 0, createdBeforeMs: Int64 = 0) {
        self.tenant = tenant
        self.createdAfterMs = createdAfterMs
        self.createdBeforeMs = createdBeforeMs
    }
}

extension StatsRequest: CMessageCodable {
    typealias CStruct = Jobwire__V1__StatsRequest
    static let protoName: StaticString = "StatsRequest"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__stats_request__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        tenant = try CDecode.string(c.tenant, "StatsRequest.tenant")
        createdAfterMs = c.created_after_ms
        createdBeforeMs = c.created_before_ms
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.tenant = arena.cString(tenant)
        c.pointee.created_after_ms = createdAfterMs
        c.pointee.created_before_ms = createdBeforeMs
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}

/// Number of jobs in one status (`jobwire.v1.StatusCount`).
public struct StatusCount: Sendable, Equatable, Hashable {
    public var status: JobStatus
    public var count: UInt64

    public init(status: JobStatus, count: UInt64) {
        self.status = status
        self.count = count
    }
}

extension StatusCount: CMessageCodable {
    typealias CStruct = Jobwire__V1__StatusCount
    static let protoName: StaticString = "StatusCount"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__status_count__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        status = try CDecode.enumeration(c.status.rawValue, "StatusCount.status")
        count = c.count
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.status = Jobwire__V1__JobStatus(rawValue: numericCast(status.rawValue))
        c.pointee.count = count
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}

/// Calls and latency of one method (`jobwire.v1.MethodStats`).
public struct MethodStats: Sendable, Equatable, Hashable {
    /// Full name, e.g. `/jobwire.v1.JobService/GetMetadata`.
    public var method: String
    public var calls: UInt64
    public var errors: UInt64
    public var p50Us: UInt64
    public var p99Us: UInt64
    public var p999Us: UInt64

    public init(method: String, calls: UInt64 = 0, errors: UInt64 = 0, p50Us: UInt64 = 0, p99Us: UInt64 = 0,
                p999Us: UInt64 = 0) {
        self.method = method
        self.calls = calls
        self.errors = errors
        self.p50Us = p50Us
        self.p99Us = p99Us
        self.p999Us = p999Us
    }
}

extension MethodStats: CMessageCodable {
    typealias CStruct = Jobwire__V1__MethodStats
    static let protoName: StaticString = "MethodStats"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__method_stats__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        method = try CDecode.string(c.method, "MethodStats.method")
        calls = c.calls
        errors = c.errors
        p50Us = c.p50_us
        p99Us = c.p99_us
        p999Us = c.p999_us
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.method = arena.cString(method)
        c.pointee.calls = calls
        c.pointee.errors = errors
        c.pointee.p50_us = p50Us
        c.pointee.p99_us = p99Us
        c.pointee.p999_us = p999Us
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}

/// Stats' reply (`jobwire.v1.StatsResponse`). The job figures cover the
/// tenant's jobs created in the requested range; the server-wide counters
/// (connections, streams, methods) are filled for admin keys only.
public struct StatsResponse: Sendable, Equatable {
    public var jobs: [StatusCount]
    public var connections: UInt32
    public var streams: UInt32
    public var methods: [MethodStats]
    public var uptimeMs: Int64
    /// Jobs counted, in every status.
    public var totalJobs: UInt64
    /// COMPLETED / (COMPLETED + FAILED + CANCELLED), from 0 to 1; 0 when none finished.
    public var successRate: Double
    /// Mean creation-to-completion time of the COMPLETED jobs; 0 when none completed.
    public var averageRunTimeMs: Double
    /// The tenant's webhook outbox, whatever the time range.
    public var webhooks: WebhookOutboxStats

    public init(jobs: [StatusCount] = [], connections: UInt32 = 0, streams: UInt32 = 0, methods: [MethodStats] = [],
                uptimeMs: Int64 = 0, totalJobs: UInt64 = 0, successRate: Double = 0, averageRunTimeMs: Double = 0,
                webhooks: WebhookOutboxStats = WebhookOutboxStats()) {
        self.jobs = jobs
        self.connections = connections
        self.streams = streams
        self.methods = methods
        self.uptimeMs = uptimeMs
        self.totalJobs = totalJobs
        self.successRate = successRate
        self.averageRunTimeMs = averageRunTimeMs
        self.webhooks = webhooks
    }
}

extension StatsResponse: CMessageCodable {
    typealias CStruct = Jobwire__V1__StatsResponse
    static let protoName: StaticString = "StatsResponse"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__stats_response__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        jobs = try CDecode.messages(c.n_jobs, c.jobs, "StatsResponse.jobs", maxCount: Limits.maxStatsEntries)
        connections = c.connections
        streams = c.streams
        methods = try CDecode.messages(c.n_methods, c.methods, "StatsResponse.methods", maxCount: Limits.maxStatsEntries)
        uptimeMs = c.uptime_ms
        totalJobs = c.total_jobs
        successRate = c.success_rate
        averageRunTimeMs = c.average_run_time_ms
        webhooks = WebhookOutboxStats(pendingMessages: c.webhook_pending_messages, oldestPendingAgeMs: c.webhook_oldest_pending_age_ms,
                                      endpoints: c.webhook_endpoints, failingEndpoints: c.webhook_failing_endpoints,
                                      disabledEndpoints: c.webhook_disabled_endpoints, skippedMessages: c.webhook_skipped_messages)
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        (c.pointee.n_jobs, c.pointee.jobs) = arena.messages(jobs)
        c.pointee.connections = connections
        c.pointee.streams = streams
        (c.pointee.n_methods, c.pointee.methods) = arena.messages(methods)
        c.pointee.uptime_ms = uptimeMs
        c.pointee.total_jobs = totalJobs
        c.pointee.success_rate = successRate
        c.pointee.average_run_time_ms = averageRunTimeMs
        c.pointee.webhook_pending_messages = webhooks.pendingMessages
        c.pointee.webhook_oldest_pending_age_ms = webhooks.oldestPendingAgeMs
        c.pointee.webhook_endpoints = webhooks.endpoints
        c.pointee.webhook_failing_endpoints = webhooks.failingEndpoints
        c.pointee.webhook_disabled_endpoints = webhooks.disabledEndpoints
        c.pointee.webhook_skipped_messages = webhooks.skippedMessages
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}
