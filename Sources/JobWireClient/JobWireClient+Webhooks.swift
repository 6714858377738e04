import JobWireProtocol

/// Webhook endpoints of the client's tenant (docs/WEBHOOKS.md): reader keys
/// may look, client keys and up may change them.
extension JobWireClient {
    /// A new endpoint (CreateWebhook). The reply holds its `whsec_…` secret, shown this once: keep it for the receiver.
    /// Not repeated after a lost connection (a second call would make a second endpoint).
    public func createWebhook(url: String, events: [String] = [], labels: [String: String] = [:],
                              timeout: Duration? = nil) async throws -> WebhookSecretResponse {
        try await unary(.createWebhook, CreateWebhookRequest(url: url, events: events, labels: labels),
                        as: WebhookSecretResponse.self, timeout: timeout, retryable: false)
    }

    /// The tenant's endpoints, in creation order (ListWebhooks).
    public func webhooks(timeout: Duration? = nil) async throws -> [WebhookEndpoint] {
        try await unary(.listWebhooks, ListWebhooksRequest(), as: ListWebhooksResponse.self, timeout: timeout,
                        retryable: true).endpoints
    }

    /// One endpoint (GetWebhook).
    public func webhook(_ endpointID: String, timeout: Duration? = nil) async throws -> WebhookEndpoint {
        try await unary(.getWebhook, GetWebhookRequest(endpointID: endpointID), as: WebhookEndpoint.self, timeout: timeout,
                        retryable: true)
    }

    /// Deletes an endpoint and its messages (DeleteWebhook).
    public func deleteWebhook(_ endpointID: String, timeout: Duration? = nil) async throws {
        _ = try await unary(.deleteWebhook, DeleteWebhookRequest(endpointID: endpointID), as: DeleteWebhookResponse.self,
                            timeout: timeout, retryable: false)
    }

    /// A new secret, shown this once; the previous one signs beside it for `overlap` (nil: 24 hours, at most 7 days).
    /// Not repeated after a lost connection (its secret would be lost with the first answer).
    public func rotateWebhookSecret(_ endpointID: String, overlap: Duration? = nil,
                                    timeout: Duration? = nil) async throws -> WebhookSecretResponse {
        try await unary(.rotateWebhookSecret, RotateWebhookSecretRequest(endpointID: endpointID, overlapMs: overlap?.wireMilliseconds),
                        as: WebhookSecretResponse.self, timeout: timeout, retryable: false)
    }

    /// The endpoint's latest messages, newest first, with every attempt (ListWebhookDeliveries); `limit` 1 to 500.
    public func webhookDeliveries(_ endpointID: String, limit: Int = 50, timeout: Duration? = nil) async throws -> [WebhookDelivery] {
        try await unary(.listWebhookDeliveries, ListWebhookDeliveriesRequest(endpointID: endpointID, limit: UInt32(clamping: limit)),
                        as: ListWebhookDeliveriesResponse.self, timeout: timeout, retryable: true).deliveries
    }

    /// Sends a delivered or given-up message again, now, with the same `webhook-id` (RedeliverWebhook); `endpointID`
    /// may be left empty. Not repeated after a lost connection (the repeat would answer DELIVERY_PENDING).
    public func redeliverWebhook(_ messageID: String, endpointID: String = "", timeout: Duration? = nil) async throws -> WebhookDelivery {
        try await unary(.redeliverWebhook, RedeliverWebhookRequest(messageID: messageID, endpointID: endpointID),
                        as: WebhookDelivery.self, timeout: timeout, retryable: false)
    }
}
