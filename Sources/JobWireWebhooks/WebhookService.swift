import JobWireKeys
import JobWireProtocol
import JobWireServer
import JobWireSync
import JobWireWebhookSignature

/// Managing a tenant's webhook endpoints: the rules every front end goes
/// through (the HTTP API now; the binary port, the clients and the CLI next).
/// Callers are admitted by the job service's own rules — reader keys may
/// list, client keys and up may change — and every change is in the store
/// before it is answered or takes effect.
public final class WebhookService: Sendable {
    public struct Settings: Sendable {
        public var policy = WebhookAddressPolicy()
        /// Most endpoints a tenant may have.
        public var maxEndpointsPerTenant = 100

        public init() {}
    }

    public typealias Completion<Value> = @Sendable (Result<Value, JobWireError>) -> Void

    /// An endpoint and, once (at creation or rotation), its new secret.
    public struct Created: Sendable {
        public var endpoint: StoredWebhookEndpoint
        public var secret: String
    }

    private let endpoints: WebhookEndpoints
    private let store: any JobStore
    private let settings: Settings
    private let dispatcher: WebhookDispatcher?

    public init(endpoints: WebhookEndpoints, store: any JobStore, dispatcher: WebhookDispatcher?, settings: Settings = Settings()) {
        self.endpoints = endpoints
        self.store = store
        self.dispatcher = dispatcher
        self.settings = settings
    }

    public static let readRole = Role.reader
    public static let writeRole = Role.client

    public func list(tenant: String) -> [StoredWebhookEndpoint] {
        endpoints.endpoints(tenant: tenant)
    }

    /// The tenant's endpoint, or NOT_FOUND (another tenant's reads as unknown).
    public func endpoint(_ endpointID: String, tenant: String) throws(JobWireError) -> StoredWebhookEndpoint {
        guard let endpoint = endpoints.endpoint(endpointID), endpoint.tenant == tenant else {
            throw JobWireError(.notFound, "WEBHOOK_NOT_FOUND", "no webhook endpoint \(endpointID.prefix(64))")
        }
        return endpoint
    }

    public func create(tenant: String, url: String, events: [String], labels: [String: String],
                       completion: @escaping Completion<Created>) throws(JobWireError) {
        do throws(WebhookTargetError) {
            _ = try WebhookURL(url, policy: settings.policy)
        } catch {
            throw JobWireError(.invalidArgument, error.reason.rawValue, error.message)
        }
        let known = Set(WebhookEventType.allCases.map(\.rawValue))
        if let unknown = events.first(where: { !known.contains($0) }) {
            throw JobWireError(.invalidArgument, "UNKNOWN_EVENT_TYPE",
                               "\"\(unknown.prefix(64))\" is not an event type (\(WebhookEventType.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard labels.count <= Limits.maxLabels,
              labels.allSatisfy({ !$0.key.isEmpty && $0.key.utf8.count <= Limits.maxLabelKeyBytes && $0.value.utf8.count <= Limits.maxLabelValueBytes }) else {
            throw JobWireError(.invalidArgument, Reason.valueOutOfRange,
                               "labels: at most \(Limits.maxLabels), keys of 1 to \(Limits.maxLabelKeyBytes) bytes, values up to \(Limits.maxLabelValueBytes)")
        }
        guard endpoints.endpoints(tenant: tenant).count < settings.maxEndpointsPerTenant else {
            throw JobWireError(.resourceExhausted, "TOO_MANY_WEBHOOKS",
                               "the tenant has its maximum of \(settings.maxEndpointsPerTenant) webhook endpoints")
        }
        let secret = WebhookSecret.generate().encoded
        let endpoint = StoredWebhookEndpoint(endpointID: Self.newEndpointID(), tenant: tenant, url: url,
                                             events: Array(Set(events)).sorted(), labels: labels, secrets: [secret],
                                             createdAtMs: WallClock.nowMs())
        store.persist(.webhook(.putEndpoint(endpoint))) { [endpoints] result in
            if case .success = result { endpoints.put(endpoint) }
            completion(result.map { Created(endpoint: endpoint, secret: secret) })
        }
    }

    public func delete(_ endpointID: String, tenant: String, completion: @escaping Completion<Void>) throws(JobWireError) {
        _ = try endpoint(endpointID, tenant: tenant)
        // Out of the table first: no new message is made for it while the store forgets it.
        endpoints.remove(endpointID)
        dispatcher?.forget(endpointID: endpointID)
        store.persist(.webhook(.removeEndpoint(endpointID: endpointID))) { result in completion(result) }
    }

    /// A new secret; the old one goes on signing beside it for `overlapMs`, so receivers can switch without a gap.
    public func rotateSecret(_ endpointID: String, tenant: String, overlapMs: Int64,
                             completion: @escaping Completion<Created>) throws(JobWireError) {
        var endpoint = try endpoint(endpointID, tenant: tenant)
        let secret = WebhookSecret.generate().encoded
        endpoint.secrets = [secret] + endpoint.secrets.prefix(1)
        endpoint.previousSecretExpiresAtMs = WallClock.nowMs() + overlapMs
        let updated = endpoint
        store.persist(.webhook(.putEndpoint(updated))) { [endpoints] result in
            if case .success = result { endpoints.put(updated) }
            completion(result.map { Created(endpoint: updated, secret: secret) })
        }
    }

    /// The endpoint's latest messages (newest first, at most `limit`) with every attempt: status, latency, error.
    public func deliveries(_ endpointID: String, tenant: String, limit: Int,
                           completion: @escaping Completion<[StoredDelivery]>) throws(JobWireError) {
        _ = try endpoint(endpointID, tenant: tenant)
        store.webhookDeliveries(endpointID: endpointID, limit: limit, completion: completion)
    }

    /// Sends a delivered or given-up message again, now, with its `webhook-id`; a pending one is already on its way (409).
    public func redeliver(_ messageID: String, endpointID: String, tenant: String,
                          completion: @escaping Completion<StoredOutboxMessage>) throws(JobWireError) {
        _ = try endpoint(endpointID, tenant: tenant)
        store.webhookMessage(messageID: messageID) { [store, dispatcher] result in
            switch result {
            case .failure(let error):
                completion(.failure(error))
            case .success(nil):
                completion(.failure(JobWireError(.notFound, "DELIVERY_NOT_FOUND", "no message \(messageID.prefix(64)) of this endpoint")))
            case .success(var message?):
                guard message.endpointID == endpointID else {
                    completion(.failure(JobWireError(.notFound, "DELIVERY_NOT_FOUND", "no message \(messageID.prefix(64)) of this endpoint")))
                    return
                }
                guard message.state != .pending else {
                    completion(.failure(JobWireError(.failedPrecondition, "DELIVERY_PENDING", "the message is still being delivered")))
                    return
                }
                message.state = .pending
                message.nextAttemptAtMs = WallClock.nowMs()
                let requeued = message
                store.persist(.webhook(.requeue(messageID: messageID, nextAttemptAtMs: requeued.nextAttemptAtMs))) { stored in
                    if case .success = stored { dispatcher?.enqueue([requeued]) }
                    completion(stored.map { requeued })
                }
            }
        }
    }

    /// Messages waiting in the outbox, and the oldest one's change time.
    public func backlog() -> (pending: Int, oldestChangedAtMs: Int64?) {
        dispatcher?.backlog() ?? (0, nil)
    }

    /// The `webhooks` component of detailed Health: messages pending, the oldest one's age, endpoints failing or
    /// disabled. A warning while an endpoint fails or the oldest message waits over an hour; webhooks never make
    /// the server NOT_SERVING.
    public func health(nowMs: Int64 = WallClock.nowMs()) -> ComponentHealth {
        let (pending, oldest) = backlog()
        let all = endpoints.all()
        let failing = all.filter { $0.disabledAtMs == 0 && $0.failingSinceMs > 0 }.count
        let disabled = all.filter { $0.disabledAtMs > 0 }.count
        let oldestAgeMs = oldest.map { max(0, nowMs - $0) } ?? 0
        var problems: [String] = []
        if failing > 0 { problems.append("\(failing) endpoint(s) failing") }
        if oldestAgeMs > 3_600_000 { problems.append("the oldest message has waited \(oldestAgeMs / 60_000) min") }
        return ComponentHealth(name: "webhooks", state: problems.isEmpty ? .ok : .warning, message: problems.joined(separator: "; "),
                               measures: ["pending_messages": Double(pending), "oldest_message_age_ms": Double(oldestAgeMs),
                                          "endpoints": Double(all.count), "failing_endpoints": Double(failing),
                                          "disabled_endpoints": Double(disabled)])
    }

    /// `ep_` and 32 random hexadecimal digits.
    static func newEndpointID() -> String {
        "ep_" + WebhookEndpoints.randomHex()
    }
}
