internal import CJobWireProto

/// Where a webhook message stands (`jobwire.v1.DeliveryState`).
public enum DeliveryState: Int32, Sendable, Equatable, Hashable, CaseIterable {
    case unspecified = 0
    /// Being sent, or waiting for its next attempt.
    case pending = 1
    /// A 2xx answer ended it.
    case delivered = 2
    /// Its attempts were used up, or its endpoint was disabled; it may be redelivered.
    case givenUp = 3

    /// As the HTTP API and the CLI spell it, e.g. `given_up`.
    public var name: String {
        switch self {
        case .unspecified: "unspecified"
        case .pending: "pending"
        case .delivered: "delivered"
        case .givenUp: "given_up"
        }
    }
}

/// One try at delivering a message (`jobwire.v1.WebhookAttempt`).
public struct WebhookAttempt: Sendable, Equatable, Hashable {
    /// 1 for the first.
    public var attempt: UInt32
    public var atMs: Int64
    /// 0 when there was no answer (refused, timed out, not allowed).
    public var httpStatus: UInt32
    public var latencyMicros: UInt64
    /// What went wrong; empty on success.
    public var error: String

    public init(attempt: UInt32 = 0, atMs: Int64 = 0, httpStatus: UInt32 = 0, latencyMicros: UInt64 = 0, error: String = "") {
        self.attempt = attempt
        self.atMs = atMs
        self.httpStatus = httpStatus
        self.latencyMicros = latencyMicros
        self.error = error
    }
}

extension WebhookAttempt: CMessageCodable {
    typealias CStruct = Jobwire__V1__WebhookAttempt
    static let protoName: StaticString = "WebhookAttempt"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__webhook_attempt__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        attempt = c.attempt
        atMs = c.at_ms
        httpStatus = c.http_status
        latencyMicros = c.latency_us
        error = try CDecode.string(c.error, "WebhookAttempt.error")
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.attempt = attempt
        c.pointee.at_ms = atMs
        c.pointee.http_status = httpStatus
        c.pointee.latency_us = latencyMicros
        c.pointee.error = arena.cString(error)
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}

/// A message about one revision of one job, for one endpoint, with its attempts (`jobwire.v1.WebhookDelivery`).
public struct WebhookDelivery: Sendable, Equatable, Hashable {
    /// `msg_…`: the `webhook-id` of every attempt.
    public var messageID: String
    public var endpointID: String
    /// E.g. `job.completed`.
    public var type: String
    public var jobID: String
    public var revision: UInt64
    /// The body's `timestamp`.
    public var changedAtMs: Int64
    public var state: DeliveryState
    /// When pending: when the next attempt is due.
    public var nextAttemptAtMs: Int64
    /// Oldest first.
    public var attempts: [WebhookAttempt]

    public init(messageID: String = "", endpointID: String = "", type: String = "", jobID: String = "", revision: UInt64 = 0,
                changedAtMs: Int64 = 0, state: DeliveryState = .unspecified, nextAttemptAtMs: Int64 = 0, attempts: [WebhookAttempt] = []) {
        self.messageID = messageID
        self.endpointID = endpointID
        self.type = type
        self.jobID = jobID
        self.revision = revision
        self.changedAtMs = changedAtMs
        self.state = state
        self.nextAttemptAtMs = nextAttemptAtMs
        self.attempts = attempts
    }
}

extension WebhookDelivery: CMessageCodable {
    typealias CStruct = Jobwire__V1__WebhookDelivery
    static let protoName: StaticString = "WebhookDelivery"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__webhook_delivery__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        messageID = try CDecode.string(c.message_id, "WebhookDelivery.message_id")
        endpointID = try CDecode.string(c.endpoint_id, "WebhookDelivery.endpoint_id")
        type = try CDecode.string(c.type, "WebhookDelivery.type")
        jobID = try CDecode.optionalJobID(c.job_id, "WebhookDelivery.job_id")
        revision = c.revision
        changedAtMs = c.changed_at_ms
        state = try CDecode.enumeration(c.state.rawValue, "WebhookDelivery.state")
        nextAttemptAtMs = c.next_attempt_at_ms
        attempts = try CDecode.messages(c.n_attempts, c.attempts, "WebhookDelivery.attempts", maxCount: Limits.maxWebhookAttempts)
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.message_id = arena.cString(messageID)
        c.pointee.endpoint_id = arena.cString(endpointID)
        c.pointee.type = arena.cString(type)
        c.pointee.job_id = arena.cString(jobID)
        c.pointee.revision = revision
        c.pointee.changed_at_ms = changedAtMs
        c.pointee.state = Jobwire__V1__DeliveryState(rawValue: numericCast(state.rawValue))
        c.pointee.next_attempt_at_ms = nextAttemptAtMs
        (c.pointee.n_attempts, c.pointee.attempts) = arena.messages(attempts)
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}
