import JobWireProtocol

/// Managing a tenant's webhook endpoints, as every front end sees it: the
/// binary port's webhook methods and the HTTP API's `/v1/webhooks` both call
/// it, after the job service has admitted the caller (``Role/required(for:)``
/// names the role each method needs). JobWireWebhooks implements it; the
/// server only holds it, so the core keeps no HTTP client.
///
/// Every change is in the store before it is answered or takes effect; an
/// endpoint of another tenant reads as unknown (NOT_FOUND, WEBHOOK_NOT_FOUND).
public protocol WebhookAdministration: Sendable {
    typealias Completion<Value> = @Sendable (Result<Value, JobWireError>) -> Void

    /// The tenant's endpoints, in creation order.
    func list(tenant: String) -> [WebhookEndpoint]

    func endpoint(_ endpointID: String, tenant: String) throws(JobWireError) -> WebhookEndpoint

    /// A new endpoint and its first secret, shown this once.
    func create(_ request: CreateWebhookRequest, tenant: String,
                completion: @escaping Completion<WebhookSecretResponse>) throws(JobWireError)

    /// The endpoint and its messages go.
    func delete(_ endpointID: String, tenant: String, completion: @escaping Completion<Void>) throws(JobWireError)

    /// A new secret, shown this once; the previous one signs beside it for the overlap.
    func rotateSecret(_ request: RotateWebhookSecretRequest, tenant: String,
                      completion: @escaping Completion<WebhookSecretResponse>) throws(JobWireError)

    /// The endpoint's latest messages, newest first, with every attempt.
    func deliveries(_ request: ListWebhookDeliveriesRequest, tenant: String,
                    completion: @escaping Completion<[WebhookDelivery]>) throws(JobWireError)

    /// Sends a delivered or given-up message again, with its `webhook-id`.
    func redeliver(_ request: RedeliverWebhookRequest, tenant: String,
                   completion: @escaping Completion<WebhookDelivery>) throws(JobWireError)

    /// The tenant's outbox in numbers, for Stats.
    func outboxStats(tenant: String) -> WebhookOutboxStats
}

extension JobService {
    /// The webhook endpoints' manager, or UNIMPLEMENTED / WEBHOOKS_OFF on a server that sends none.
    public func webhooks() throws(JobWireError) -> any WebhookAdministration {
        guard let webhookAdministration else {
            throw JobWireError(.unimplemented, Reason.webhooksOff, "this server sends no webhooks")
        }
        return webhookAdministration
    }
}
