internal import CJobWireProto

/// RotateWebhookSecret: a new secret, the previous one signing beside it for the overlap
/// (`jobwire.v1.RotateWebhookSecretRequest`).
public struct RotateWebhookSecretRequest: Sendable, Equatable {
    public var endpointID: String
    /// How long the previous secret keeps signing, at most ``Limits/maxWebhookSecretOverlapMs``; nil for 24 hours.
    public var overlapMs: UInt32?

    public init(endpointID: String = "", overlapMs: UInt32? = nil) {
        self.endpointID = endpointID
        self.overlapMs = overlapMs
    }
}

extension RotateWebhookSecretRequest: CMessageCodable {
    typealias CStruct = Jobwire__V1__RotateWebhookSecretRequest
    static let protoName: StaticString = "RotateWebhookSecretRequest"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__rotate_webhook_secret_request__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        endpointID = try CDecode.string(c.endpoint_id, "RotateWebhookSecretRequest.endpoint_id")
        overlapMs = c.overlap_case == JOBWIRE__V1__ROTATE_WEBHOOK_SECRET_REQUEST__OVERLAP_OVERLAP_MS ? c.overlap_ms : nil
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.endpoint_id = arena.cString(endpointID)
        if let overlapMs {
            c.pointee.overlap_case = JOBWIRE__V1__ROTATE_WEBHOOK_SECRET_REQUEST__OVERLAP_OVERLAP_MS
            c.pointee.overlap_ms = overlapMs
        }
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}

/// ListWebhookDeliveries: the endpoint's latest messages with every attempt
/// (`jobwire.v1.ListWebhookDeliveriesRequest`).
public struct ListWebhookDeliveriesRequest: Sendable, Equatable {
    public var endpointID: String
    /// 1 to ``Limits/maxWebhookDeliveries``; 0 for 50.
    public var limit: UInt32

    public init(endpointID: String = "", limit: UInt32 = 0) {
        self.endpointID = endpointID
        self.limit = limit
    }
}

extension ListWebhookDeliveriesRequest: CMessageCodable {
    typealias CStruct = Jobwire__V1__ListWebhookDeliveriesRequest
    static let protoName: StaticString = "ListWebhookDeliveriesRequest"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__list_webhook_deliveries_request__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        endpointID = try CDecode.string(c.endpoint_id, "ListWebhookDeliveriesRequest.endpoint_id")
        limit = c.limit
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.endpoint_id = arena.cString(endpointID)
        c.pointee.limit = limit
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}

/// ListWebhookDeliveries' reply, newest first (`jobwire.v1.ListWebhookDeliveriesResponse`).
public struct ListWebhookDeliveriesResponse: Sendable, Equatable {
    public var deliveries: [WebhookDelivery]

    public init(deliveries: [WebhookDelivery] = []) {
        self.deliveries = deliveries
    }
}

extension ListWebhookDeliveriesResponse: CMessageCodable {
    typealias CStruct = Jobwire__V1__ListWebhookDeliveriesResponse
    static let protoName: StaticString = "ListWebhookDeliveriesResponse"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__list_webhook_deliveries_response__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        deliveries = try CDecode.messages(c.n_deliveries, c.deliveries, "ListWebhookDeliveriesResponse.deliveries",
                                          maxCount: Limits.maxWebhookDeliveries)
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        (c.pointee.n_deliveries, c.pointee.deliveries) = arena.messages(deliveries)
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}

/// RedeliverWebhook: sends a delivered or given-up message again, with its `webhook-id`
/// (`jobwire.v1.RedeliverWebhookRequest`); the reply is the ``WebhookDelivery``.
public struct RedeliverWebhookRequest: Sendable, Equatable {
    /// `msg_…`.
    public var messageID: String
    /// Empty to find the endpoint by the message.
    public var endpointID: String

    public init(messageID: String = "", endpointID: String = "") {
        self.messageID = messageID
        self.endpointID = endpointID
    }
}

extension RedeliverWebhookRequest: CMessageCodable {
    typealias CStruct = Jobwire__V1__RedeliverWebhookRequest
    static let protoName: StaticString = "RedeliverWebhookRequest"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__redeliver_webhook_request__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        messageID = try CDecode.string(c.message_id, "RedeliverWebhookRequest.message_id")
        endpointID = try CDecode.string(c.endpoint_id, "RedeliverWebhookRequest.endpoint_id")
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.message_id = arena.cString(messageID)
        c.pointee.endpoint_id = arena.cString(endpointID)
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}
