internal import CJobWireProto

/// CreateWebhook: a new endpoint of the caller's tenant (`jobwire.v1.CreateWebhookRequest`).
public struct CreateWebhookRequest: Sendable, Equatable {
    public var url: String
    /// Event types; empty for every type.
    public var events: [String]
    /// Only jobs with all of these labels.
    public var labels: [String: String]

    public init(url: String = "", events: [String] = [], labels: [String: String] = [:]) {
        self.url = url
        self.events = events
        self.labels = labels
    }
}

extension CreateWebhookRequest: CMessageCodable {
    typealias CStruct = Jobwire__V1__CreateWebhookRequest
    static let protoName: StaticString = "CreateWebhookRequest"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__create_webhook_request__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        url = try CDecode.string(c.url, "CreateWebhookRequest.url")
        events = try CDecode.strings(c.n_events, c.events, "CreateWebhookRequest.events", maxCount: Limits.maxWebhookEventTypes)
        labels = try CDecode.map(c.n_labels, c.labels, "CreateWebhookRequest.labels", maxCount: Limits.maxLabels) { (entry) throws(JobWireError) in
            try Labels.entry(key: entry.key, value: entry.value, "CreateWebhookRequest.labels")
        }
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.url = arena.cString(url)
        (c.pointee.n_events, c.pointee.events) = arena.cStrings(events)
        (c.pointee.n_labels, c.pointee.labels) = Labels.pack(labels, arena: arena,
                                                             initializer: { jobwire__v1__create_webhook_request__labels_entry__init($0) },
                                                             set: { $0.pointee.key = $1; $0.pointee.value = $2 })
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}

/// CreateWebhook's and RotateWebhookSecret's reply (`jobwire.v1.WebhookSecretResponse`): the endpoint and its new
/// secret, shown this once.
public struct WebhookSecretResponse: Sendable, Equatable {
    public var endpoint: WebhookEndpoint
    /// `whsec_…`.
    public var secret: String

    public init(endpoint: WebhookEndpoint = WebhookEndpoint(), secret: String = "") {
        self.endpoint = endpoint
        self.secret = secret
    }
}

extension WebhookSecretResponse: CMessageCodable {
    typealias CStruct = Jobwire__V1__WebhookSecretResponse
    static let protoName: StaticString = "WebhookSecretResponse"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__webhook_secret_response__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        endpoint = try CDecode.message(c.endpoint) ?? WebhookEndpoint()
        secret = try CDecode.string(c.secret, "WebhookSecretResponse.secret")
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.endpoint = arena.message(endpoint)
        c.pointee.secret = arena.cString(secret)
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}

/// ListWebhooks: the tenant's endpoints (`jobwire.v1.ListWebhooksRequest`, no fields).
public struct ListWebhooksRequest: Sendable, Equatable {
    public init() {}
}

extension ListWebhooksRequest: CMessageCodable {
    typealias CStruct = Jobwire__V1__ListWebhooksRequest
    static let protoName: StaticString = "ListWebhooksRequest"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__list_webhooks_request__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {}

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {}

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}

/// ListWebhooks' reply, in creation order (`jobwire.v1.ListWebhooksResponse`).
public struct ListWebhooksResponse: Sendable, Equatable {
    public var endpoints: [WebhookEndpoint]

    public init(endpoints: [WebhookEndpoint] = []) {
        self.endpoints = endpoints
    }
}

extension ListWebhooksResponse: CMessageCodable {
    typealias CStruct = Jobwire__V1__ListWebhooksResponse
    static let protoName: StaticString = "ListWebhooksResponse"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__list_webhooks_response__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        endpoints = try CDecode.messages(c.n_endpoints, c.endpoints, "ListWebhooksResponse.endpoints",
                                         maxCount: Limits.maxWebhookEndpoints)
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        (c.pointee.n_endpoints, c.pointee.endpoints) = arena.messages(endpoints)
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}

/// GetWebhook: one endpoint (`jobwire.v1.GetWebhookRequest`); the reply is the ``WebhookEndpoint``.
public struct GetWebhookRequest: Sendable, Equatable {
    public var endpointID: String

    public init(endpointID: String = "") {
        self.endpointID = endpointID
    }
}

extension GetWebhookRequest: CMessageCodable {
    typealias CStruct = Jobwire__V1__GetWebhookRequest
    static let protoName: StaticString = "GetWebhookRequest"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__get_webhook_request__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        endpointID = try CDecode.string(c.endpoint_id, "GetWebhookRequest.endpoint_id")
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.endpoint_id = arena.cString(endpointID)
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}

/// DeleteWebhook: the endpoint and its messages go (`jobwire.v1.DeleteWebhookRequest`).
public struct DeleteWebhookRequest: Sendable, Equatable {
    public var endpointID: String

    public init(endpointID: String = "") {
        self.endpointID = endpointID
    }
}

extension DeleteWebhookRequest: CMessageCodable {
    typealias CStruct = Jobwire__V1__DeleteWebhookRequest
    static let protoName: StaticString = "DeleteWebhookRequest"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__delete_webhook_request__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        endpointID = try CDecode.string(c.endpoint_id, "DeleteWebhookRequest.endpoint_id")
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.endpoint_id = arena.cString(endpointID)
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}

/// DeleteWebhook's reply (`jobwire.v1.DeleteWebhookResponse`, no fields).
public struct DeleteWebhookResponse: Sendable, Equatable {
    public init() {}
}

extension DeleteWebhookResponse: CMessageCodable {
    typealias CStruct = Jobwire__V1__DeleteWebhookResponse
    static let protoName: StaticString = "DeleteWebhookResponse"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__delete_webhook_response__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {}

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {}

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}
