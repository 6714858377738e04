import JobWireProtocol
import JobWireServer
import JobWireSync
import JobWireWebhookSignature

/// Managing a tenant's webhook endpoints: the rules every front end goes
/// through (``WebhookAdministration``: the binary port and the HTTP API call
/// it, after the job service has admitted the caller). Every change is in the
/// store before it is answered or takes effect.
public final class WebhookService: WebhookAdministration {
    public struct Settings: Sendable {
        public var policy = WebhookAddressPolicy()
        /// Most endpoints a tenant may have.
        public var maxEndpointsPerTenant = 100

        public init() {}
    }

    /// How long the previous secret signs after a rotation when the caller does not say.
    public static let defaultSecretOverlapMs: UInt32 = 24 * 3_600_000
    /// How many deliveries a list holds when the caller does not say.
    public static let defaultDeliveriesLimit: UInt32 = 50

    private let endpoints: WebhookEndpoints
    private let store: any JobStore
    private let settings: Settings
    private let dispatcher: WebhookDispatcher?
    /// The last creation time given: lists are in creation order, so two endpoints made in one millisecond get
    /// consecutive ones (the later a millisecond on) rather than being ordered by their random ids.
    private let lastCreatedAtMs: Locked<Int64>

    public init(endpoints: WebhookEndpoints, store: any JobStore, dispatcher: WebhookDispatcher?, settings: Settings = Settings()) {
        self.endpoints = endpoints
        self.store = store
        self.dispatcher = dispatcher
        self.settings = settings
        lastCreatedAtMs = Locked(endpoints.all().map(\.createdAtMs).max() ?? 0)
    }

    public func list(tenant: String) -> [WebhookEndpoint] {
        endpoints.endpoints(tenant: tenant).map(Self.model)
    }

    public func endpoint(_ endpointID: String, tenant: String) throws(JobWireError) -> WebhookEndpoint {
        Self.model(try stored(endpointID, tenant: tenant))
    }

    /// The tenant's endpoint as stored, or NOT_FOUND (another tenant's reads as unknown).
    private func stored(_ endpointID: String, tenant: String) throws(JobWireError) -> StoredWebhookEndpoint {
        guard let endpoint = endpoints.endpoint(endpointID), endpoint.tenant == tenant else {
            throw JobWireError(.notFound, Reason.webhookNotFound, "no webhook endpoint \(endpointID.prefix(64))")
        }
        return endpoint
    }

    public func create(_ request: CreateWebhookRequest, tenant: String,
                       completion: @escaping Completion<WebhookSecretResponse>) throws(JobWireError) {
        do throws(WebhookTargetError) {
            _ = try WebhookURL(request.url, policy: settings.policy)
        } catch {
            throw JobWireError(.invalidArgument, error.reason.rawValue, error.message)
        }
        let known = Set(WebhookEventType.allCases.map(\.rawValue))
        if let unknown = request.events.first(where: { !known.contains($0) }) {
            throw JobWireError(.invalidArgument, Reason.unknownEventType,
                               "\"\(unknown.prefix(64))\" is not an event type (\(WebhookEventType.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let labels = request.labels
        guard labels.count <= Limits.maxLabels,
              labels.allSatisfy({ !$0.key.isEmpty && $0.key.utf8.count <= Limits.maxLabelKeyBytes && $0.value.utf8.count <= Limits.maxLabelValueBytes }) else {
            throw JobWireError(.invalidArgument, Reason.valueOutOfRange,
                               "labels: at most \(Limits.maxLabels), keys of 1 to \(Limits.maxLabelKeyBytes) bytes, values up to \(Limits.maxLabelValueBytes)")
        }
        guard endpoints.endpoints(tenant: tenant).count < settings.maxEndpointsPerTenant else {
            throw JobWireError(.resourceExhausted, Reason.tooManyWebhooks,
                               "the tenant has its maximum of \(settings.maxEndpointsPerTenant) webhook endpoints")
        }
        let secret = WebhookSecret.generate().encoded
        let endpoint = StoredWebhookEndpoint(endpointID: Self.newEndpointID(), tenant: tenant, url: request.url,
                                             events: Array(Set(request.events)).sorted(), labels: labels, secrets: [secret],
                                             createdAtMs: lastCreatedAtMs.withLock { last in
                                                 last = max(WallClock.nowMs(), last + 1)
                                                 return last
                                             })
        store.persist(.webhook(.putEndpoint(endpoint))) { [endpoints] result in
            if case .success = result { endpoints.put(endpoint) }
            completion(result.map { WebhookSecretResponse(endpoint: Self.model(endpoint), secret: secret) })
        }
    }

    public func delete(_ endpointID: String, tenant: String, completion: @escaping Completion<Void>) throws(JobWireError) {
        _ = try stored(endpointID, tenant: tenant)
        // Out of the table first: no new message is made for it while the store forgets it.
        endpoints.remove(endpointID)
        dispatcher?.forget(endpointID: endpointID)
        store.persist(.webhook(.removeEndpoint(endpointID: endpointID))) { result in completion(result) }
    }

    public func rotateSecret(_ request: RotateWebhookSecretRequest, tenant: String,
                             completion: @escaping Completion<WebhookSecretResponse>) throws(JobWireError) {
        var endpoint = try stored(request.endpointID, tenant: tenant)
        let overlapMs = request.overlapMs ?? Self.defaultSecretOverlapMs
        guard overlapMs <= Limits.maxWebhookSecretOverlapMs else {
            throw JobWireError(.invalidArgument, Reason.valueOutOfRange,
                               "overlap_ms must be 0 to \(Limits.maxWebhookSecretOverlapMs) (7 days)")
        }
        let secret = WebhookSecret.generate().encoded
        endpoint.secrets = [secret] + endpoint.secrets.prefix(1)
        endpoint.previousSecretExpiresAtMs = WallClock.nowMs() + Int64(overlapMs)
        let updated = endpoint
        store.persist(.webhook(.putEndpoint(updated))) { [endpoints] result in
            if case .success = result { endpoints.put(updated) }
            completion(result.map { WebhookSecretResponse(endpoint: Self.model(updated), secret: secret) })
        }
    }

    public func deliveries(_ request: ListWebhookDeliveriesRequest, tenant: String,
                           completion: @escaping Completion<[WebhookDelivery]>) throws(JobWireError) {
        _ = try stored(request.endpointID, tenant: tenant)
        let limit = request.limit == 0 ? Self.defaultDeliveriesLimit : request.limit
        guard limit <= UInt32(Limits.maxWebhookDeliveries) else {
            throw JobWireError(.invalidArgument, Reason.valueOutOfRange, "limit must be 1 to \(Limits.maxWebhookDeliveries)")
        }
        store.webhookDeliveries(endpointID: request.endpointID, limit: Int(limit)) { result in
            completion(result.map { $0.map(Self.model) })
        }
    }

    /// A pending message is already on its way: FAILED_PRECONDITION, DELIVERY_PENDING.
    public func redeliver(_ request: RedeliverWebhookRequest, tenant: String,
                          completion: @escaping Completion<WebhookDelivery>) throws(JobWireError) {
        if !request.endpointID.isEmpty { _ = try stored(request.endpointID, tenant: tenant) }
        let messageID = request.messageID
        let notFound = JobWireError(.notFound, Reason.deliveryNotFound, "no message \(messageID.prefix(64)) of this tenant's endpoints")
        store.webhookMessage(messageID: messageID) { [store, dispatcher, endpoints] result in
            switch result {
            case .failure(let error):
                completion(.failure(error))
            case .success(nil):
                completion(.failure(notFound))
            case .success(var message?):
                // Another endpoint's or another tenant's message reads as unknown.
                guard request.endpointID.isEmpty || message.endpointID == request.endpointID,
                      let owner = endpoints.endpoint(message.endpointID), owner.tenant == tenant else {
                    completion(.failure(notFound))
                    return
                }
                guard owner.disabledAtMs == 0 else {
                    completion(.failure(JobWireError(.failedPrecondition, Reason.webhookDisabled,
                                                     "the endpoint is disabled (\(owner.disabledReason)); create a new one")))
                    return
                }
                guard message.state != .pending else {
                    completion(.failure(JobWireError(.failedPrecondition, Reason.deliveryPending, "the message is still being delivered")))
                    return
                }
                message.state = .pending
                message.nextAttemptAtMs = WallClock.nowMs()
                let requeued = message
                store.persist(.webhook(.requeue(messageID: messageID, nextAttemptAtMs: requeued.nextAttemptAtMs))) { stored in
                    if case .success = stored { dispatcher?.enqueue([requeued]) }
                    completion(stored.map { Self.model(StoredDelivery(message: requeued, attempts: [])) })
                }
            }
        }
    }

    public func outboxStats(tenant: String) -> WebhookOutboxStats {
        let (pending, oldest) = dispatcher?.backlog(tenant: tenant) ?? (0, nil)
        let all = endpoints.endpoints(tenant: tenant)
        let oldestAgeMs = oldest.map { max(0, WallClock.nowMs() - $0) } ?? 0
        return WebhookOutboxStats(pendingMessages: UInt64(pending), oldestPendingAgeMs: UInt32(clamping: oldestAgeMs),
                                  endpoints: UInt32(clamping: all.count),
                                  failingEndpoints: UInt32(clamping: Self.states(all).failing),
                                  disabledEndpoints: UInt32(clamping: Self.states(all).disabled),
                                  skippedMessages: endpoints.skippedMessages(tenant: tenant))
    }

    /// Messages waiting in the outbox, and the oldest one's change time.
    public func backlog() -> (pending: Int, oldestChangedAtMs: Int64?) {
        dispatcher?.backlog() ?? (0, nil)
    }

    /// The `webhooks` component of detailed Health: messages pending, the oldest one's age, endpoints failing or
    /// disabled, messages skipped at the bound. A warning while an endpoint fails, the oldest message waits over an
    /// hour or a tenant is at its bound; webhooks never make the server NOT_SERVING.
    public func health(nowMs: Int64 = WallClock.nowMs()) -> ComponentHealth {
        let (pending, oldest) = backlog()
        let (skipped, tenantsAtBound) = endpoints.skippedMessages()
        let all = endpoints.all()
        let (failing, disabled) = Self.states(all)
        let oldestAgeMs = oldest.map { max(0, nowMs - $0) } ?? 0
        var problems: [String] = []
        if failing > 0 { problems.append("\(failing) endpoint(s) failing") }
        if oldestAgeMs > 3_600_000 { problems.append("the oldest message has waited \(oldestAgeMs / 60_000) min") }
        if tenantsAtBound > 0 { problems.append("\(tenantsAtBound) tenant(s) at the outbox bound of \(endpoints.maxPendingPerTenant)") }
        return ComponentHealth(name: "webhooks", state: problems.isEmpty ? .ok : .warning, message: problems.joined(separator: "; "),
                               measures: ["pending_messages": Double(pending), "oldest_message_age_ms": Double(oldestAgeMs),
                                          "endpoints": Double(all.count), "failing_endpoints": Double(failing),
                                          "disabled_endpoints": Double(disabled), "skipped_messages": Double(skipped),
                                          "tenants_at_bound": Double(tenantsAtBound)])
    }

    /// The webhook families of `/metrics`, over every tenant.
    public func writeMetrics(into text: inout PrometheusText, nowMs: Int64 = WallClock.nowMs()) {
        let (pending, oldest) = backlog()
        let all = endpoints.all()
        text.family("jobwire_webhook_pending_messages", .gauge, "Webhook messages waiting to be delivered, retries included.")
        text.sample("jobwire_webhook_pending_messages", pending)
        text.family("jobwire_webhook_oldest_pending_seconds", .gauge, "How long the oldest waiting message has waited since its change.")
        text.sample("jobwire_webhook_oldest_pending_seconds", Double(oldest.map { max(0, nowMs - $0) } ?? 0) / 1_000)
        text.family("jobwire_webhook_endpoints", .gauge, "Webhook endpoints by state: enabled and delivering, failing, disabled.")
        let (failing, disabled) = Self.states(all)
        text.sample("jobwire_webhook_endpoints", [("state", "ok")], all.count - disabled - failing)
        text.sample("jobwire_webhook_endpoints", [("state", "failing")], failing)
        text.sample("jobwire_webhook_endpoints", [("state", "disabled")], disabled)
        let attempts = dispatcher?.attemptTotals() ?? (delivered: 0, failed: 0)
        text.family("jobwire_webhook_attempts_total", .counter, "Delivery attempts by outcome: delivered (2xx) or failed (anything else).")
        text.sample("jobwire_webhook_attempts_total", [("outcome", "delivered")], attempts.delivered)
        text.sample("jobwire_webhook_attempts_total", [("outcome", "failed")], attempts.failed)
        text.family("jobwire_webhook_skipped_messages_total", .counter, "Messages not made because their tenant's outbox was at its bound.")
        text.sample("jobwire_webhook_skipped_messages_total", endpoints.skippedMessages().skipped)
    }

    /// How many of `endpoints` are failing (enabled, every delivery failing since `failingSinceMs`) and disabled.
    static func states(_ endpoints: [StoredWebhookEndpoint]) -> (failing: Int, disabled: Int) {
        endpoints.reduce(into: (failing: 0, disabled: 0)) { counts, endpoint in
            if endpoint.disabledAtMs > 0 {
                counts.disabled += 1
            } else if endpoint.failingSinceMs > 0 {
                counts.failing += 1
            }
        }
    }

    /// `ep_` and 32 random hexadecimal digits.
    static func newEndpointID() -> String {
        "ep_" + WebhookEndpoints.randomHex()
    }
}
