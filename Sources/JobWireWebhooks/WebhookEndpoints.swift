import JobWireProtocol
import JobWireServer
import JobWireSync

/// Every tenant's webhook endpoints, in memory (loaded from the store at
/// start-up, changed only after the store has a change): the registry asks
/// it, under its lock, which messages each job change makes
/// (``JobChangeOutbox``), and hands it the committed ones to deliver.
public final class WebhookEndpoints: JobChangeOutbox {
    private struct State {
        var byID: [String: StoredWebhookEndpoint] = [:]
        /// Enabled endpoints by tenant, in creation order.
        var byTenant: [String: [StoredWebhookEndpoint]] = [:]
    }

    private let state: Locked<State>
    /// Receives the committed messages (the dispatcher); set once at start.
    private let delivery: Locked<(@Sendable ([StoredOutboxMessage]) -> Void)?> = Locked(nil)

    public init(_ endpoints: [StoredWebhookEndpoint] = []) {
        var initial = State()
        for endpoint in endpoints { Self.put(endpoint, in: &initial) }
        state = Locked(initial)
    }

    /// Where committed messages go.
    public func deliver(to handler: @escaping @Sendable ([StoredOutboxMessage]) -> Void) {
        delivery.withLock { $0 = handler }
    }

    /// Adds or replaces an endpoint (after the store has it).
    public func put(_ endpoint: StoredWebhookEndpoint) {
        state.withLock { Self.put(endpoint, in: &$0) }
    }

    public func remove(_ endpointID: String) {
        state.withLock { state in
            guard let old = state.byID.removeValue(forKey: endpointID) else { return }
            state.byTenant[old.tenant]?.removeAll { $0.endpointID == endpointID }
            if state.byTenant[old.tenant]?.isEmpty == true { state.byTenant.removeValue(forKey: old.tenant) }
        }
    }

    public func endpoint(_ endpointID: String) -> StoredWebhookEndpoint? {
        state.withLock { $0.byID[endpointID] }
    }

    /// A tenant's endpoints, enabled or not, in creation order.
    public func endpoints(tenant: String) -> [StoredWebhookEndpoint] {
        state.withLock { state in
            state.byID.values.filter { $0.tenant == tenant }.sorted { ($0.createdAtMs, $0.endpointID) < ($1.createdAtMs, $1.endpointID) }
        }
    }

    private static func put(_ endpoint: StoredWebhookEndpoint, in state: inout State) {
        if let old = state.byID[endpoint.endpointID] {
            state.byTenant[old.tenant]?.removeAll { $0.endpointID == endpoint.endpointID }
        }
        state.byID[endpoint.endpointID] = endpoint
        if endpoint.disabledAtMs == 0 {
            state.byTenant[endpoint.tenant, default: []].append(endpoint)
            state.byTenant[endpoint.tenant]?.sort { ($0.createdAtMs, $0.endpointID) < ($1.createdAtMs, $1.endpointID) }
        } else if state.byTenant[endpoint.tenant]?.isEmpty == true {
            state.byTenant.removeValue(forKey: endpoint.tenant)
        }
    }

    // MARK: JobChangeOutbox

    public func hasEndpoints(tenant: String) -> Bool {
        state.withLock { $0.byTenant[tenant] != nil }
    }

    public func messages(previous: Job?, current: Job, revision: UInt64, encodedJob: [UInt8], changedAtMs: Int64) -> [StoredOutboxMessage] {
        guard let type = WebhookEventType.of(current, previous: previous) else { return [] }
        let endpoints = state.withLock { $0.byTenant[current.tenant] ?? [] }
        var messages: [StoredOutboxMessage] = []
        for endpoint in endpoints where Self.wants(endpoint, type, current.labels) {
            messages.append(StoredOutboxMessage(
                messageID: Self.newMessageID(), endpointID: endpoint.endpointID, tenant: current.tenant, jobID: current.jobID,
                revision: revision, type: type.rawValue, changedAtMs: changedAtMs, encodedJob: encodedJob,
                nextAttemptAtMs: changedAtMs))
        }
        return messages
    }

    public func committed(_ messages: [StoredOutboxMessage]) {
        delivery.withLock { $0 }?(messages)
    }

    static func wants(_ endpoint: StoredWebhookEndpoint, _ type: WebhookEventType, _ labels: [String: String]) -> Bool {
        (endpoint.events.isEmpty || endpoint.events.contains(type.rawValue))
            && endpoint.labels.allSatisfy { labels[$0.key] == $0.value }
    }

    /// `msg_` and 32 random hexadecimal digits: the `webhook-id` of every attempt.
    static func newMessageID() -> String {
        "msg_" + randomHex()
    }

    /// 128 random bits as 32 hexadecimal digits.
    static func randomHex() -> String {
        var generator = SystemRandomNumberGenerator()
        func hex(_ value: UInt64) -> String {
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }
        return hex(generator.next()) + hex(generator.next())
    }
}
