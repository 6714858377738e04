internal import CJobWireProto

/// One of a tenant's webhook endpoints (`jobwire.v1.WebhookEndpoint`): where
/// the messages of its jobs' changes are POSTed. Its secrets are never in it.
public struct WebhookEndpoint: Sendable, Equatable, Hashable {
    /// `ep_` and 32 hexadecimal digits.
    public var endpointID: String
    public var url: String
    /// The event types it receives, sorted; empty for every type.
    public var events: [String]
    /// Only jobs with all of these labels.
    public var labels: [String: String]
    public var createdAtMs: Int64
    /// False once disabled (410 Gone, or failing too long).
    public var enabled: Bool
    public var disabledAtMs: Int64
    /// Starts with `GONE:` or `FAILING:`; empty while enabled.
    public var disabledReason: String
    /// Since when every delivery has failed; 0 while the last one succeeded.
    public var failingSinceMs: Int64
    /// After a rotation, until when the previous secret signs too; 0 when only one secret ever signed.
    public var previousSecretExpiresAtMs: Int64

    public init(endpointID: String = "", url: String = "", events: [String] = [], labels: [String: String] = [:],
                createdAtMs: Int64 = 0, enabled: Bool = true, disabledAtMs: Int64 = 0, disabledReason: String = "",
                failingSinceMs: Int64 = 0, previousSecretExpiresAtMs: Int64 = 0) {
        self.endpointID = endpointID
        self.url = url
        self.events = events
        self.labels = labels
        self.createdAtMs = createdAtMs
        self.enabled = enabled
        self.disabledAtMs = disabledAtMs
        self.disabledReason = disabledReason
        self.failingSinceMs = failingSinceMs
        self.previousSecretExpiresAtMs = previousSecretExpiresAtMs
    }
}

extension WebhookEndpoint: CMessageCodable {
    typealias CStruct = Jobwire__V1__WebhookEndpoint
    static let protoName: StaticString = "WebhookEndpoint"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__webhook_endpoint__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        endpointID = try CDecode.string(c.endpoint_id, "WebhookEndpoint.endpoint_id")
        url = try CDecode.string(c.url, "WebhookEndpoint.url")
        events = try CDecode.strings(c.n_events, c.events, "WebhookEndpoint.events", maxCount: Limits.maxWebhookEventTypes)
        labels = try CDecode.map(c.n_labels, c.labels, "WebhookEndpoint.labels", maxCount: Limits.maxLabels) { (entry) throws(JobWireError) in
            try Labels.entry(key: entry.key, value: entry.value, "WebhookEndpoint.labels")
        }
        createdAtMs = c.created_at_ms
        enabled = c.enabled != 0
        disabledAtMs = c.disabled_at_ms
        disabledReason = try CDecode.string(c.disabled_reason, "WebhookEndpoint.disabled_reason")
        failingSinceMs = c.failing_since_ms
        previousSecretExpiresAtMs = c.previous_secret_expires_at_ms
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.endpoint_id = arena.cString(endpointID)
        c.pointee.url = arena.cString(url)
        (c.pointee.n_events, c.pointee.events) = arena.cStrings(events)
        (c.pointee.n_labels, c.pointee.labels) = Labels.pack(labels, arena: arena,
                                                             initializer: { jobwire__v1__webhook_endpoint__labels_entry__init($0) },
                                                             set: { $0.pointee.key = $1; $0.pointee.value = $2 })
        c.pointee.created_at_ms = createdAtMs
        c.pointee.enabled = enabled ? 1 : 0
        c.pointee.disabled_at_ms = disabledAtMs
        c.pointee.disabled_reason = arena.cString(disabledReason)
        c.pointee.failing_since_ms = failingSinceMs
        c.pointee.previous_secret_expires_at_ms = previousSecretExpiresAtMs
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}
