import JobWireProtocol
import JobWireServer
import JobWireSync

/// Every tenant's webhook endpoints, in memory (loaded from the store at
/// start-up, changed only after the store has a change): the registry asks
/// it, under its lock, which messages each job change makes
/// (``JobChangeOutbox``), and hands it the committed ones to deliver.
///
/// It also keeps each tenant's outbox within its bound: while a tenant has
/// `maxPendingPerTenant` messages waiting, a change makes no `job.progress`
/// message and no message for an endpoint that is failing; the lifecycle
/// messages of its healthy endpoints are still made. Job changes never wait
/// for, or fail because of, the outbox. What is not made is counted.
public final class WebhookEndpoints: JobChangeOutbox {
    private struct State {
        var byID: [String: StoredWebhookEndpoint] = [:]
        /// Enabled endpoints by tenant, in creation order.
        var byTenant: [String: [StoredWebhookEndpoint]] = [:]
        /// When each endpoint last got a `job.progress` message of each job (by "endpoint job").
        var lastProgressMs: [String: Int64] = [:]
        /// Messages waiting (committed, not yet delivered or given up), by tenant; kept by the dispatcher.
        var pendingByTenant: [String: Int] = [:]
        /// Messages not made because the tenant's outbox was at its bound, since start.
        var skippedByTenant: [String: UInt64] = [:]
    }

    private let state: Locked<State>
    /// At most one `job.progress` message per job and endpoint in this many milliseconds.
    private let progressIntervalMs: Int64
    /// The outbox's bound per tenant (see the type's documentation).
    public let maxPendingPerTenant: Int
    /// Receives the committed messages (the dispatcher); set once at start.
    private let delivery: Locked<(@Sendable ([StoredOutboxMessage]) -> Void)?> = Locked(nil)

    /// `progressIntervalMs`: at most one `job.progress` message per job and endpoint in that time (the first change in
    /// it; the job's later state comes with its next message).
    public init(_ endpoints: [StoredWebhookEndpoint] = [], progressIntervalMs: Int64 = 5_000, maxPendingPerTenant: Int = 100_000) {
        self.progressIntervalMs = progressIntervalMs
        self.maxPendingPerTenant = maxPendingPerTenant
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

    /// Every endpoint of every tenant.
    public func all() -> [StoredWebhookEndpoint] {
        state.withLock { Array($0.byID.values) }
    }

    /// A tenant's endpoints, enabled or not, in creation order.
    public func endpoints(tenant: String) -> [StoredWebhookEndpoint] {
        state.withLock { state in
            state.byID.values.filter { $0.tenant == tenant }.sorted { ($0.createdAtMs, $0.endpointID) < ($1.createdAtMs, $1.endpointID) }
        }
    }

    /// The dispatcher's count of a tenant's waiting messages changed by `delta`.
    public func pendingChanged(tenant: String, by delta: Int) {
        state.withLock { state in
            let count = state.pendingByTenant[tenant, default: 0] + delta
            state.pendingByTenant[tenant] = count > 0 ? count : nil
        }
    }

    /// The tenant's messages waiting to be delivered.
    public func pending(tenant: String) -> Int {
        state.withLock { $0.pendingByTenant[tenant] ?? 0 }
    }

    /// Messages of `tenant` not made since start because its outbox was at its bound.
    public func skippedMessages(tenant: String) -> UInt64 {
        state.withLock { $0.skippedByTenant[tenant] ?? 0 }
    }

    /// The same, for every tenant; and how many tenants are at their bound now.
    public func skippedMessages() -> (skipped: UInt64, tenantsAtBound: Int) {
        state.withLock { state in
            (state.skippedByTenant.values.reduce(0, +), state.pendingByTenant.values.count { $0 >= maxPendingPerTenant })
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
        let interval = progressIntervalMs
        let transition = previous.map { $0.status != current.status } ?? true
        let endpoints = state.withLock { state -> [StoredWebhookEndpoint] in
            let all = state.byTenant[current.tenant] ?? []
            if current.status.isTerminal {
                for endpoint in all { state.lastProgressMs.removeValue(forKey: endpoint.endpointID + " " + current.jobID) }
            } else if state.lastProgressMs.count > 10_000 {
                // Jobs deleted before they ended leave entries: drop those whose interval is over.
                state.lastProgressMs = state.lastProgressMs.filter { changedAtMs - $0.value < interval }
            }
            var wanting = all.filter { Self.wants($0, type, current.labels) }
            if state.pendingByTenant[current.tenant, default: 0] >= maxPendingPerTenant {
                let kept = type == .progress ? [] : wanting.filter { $0.failingSinceMs == 0 }
                if kept.count < wanting.count {
                    state.skippedByTenant[current.tenant, default: 0] += UInt64(wanting.count - kept.count)
                }
                wanting = kept
            }
            // Progress is coalesced: the first change of each interval makes a message, the rest none. A status
            // transition is always sent (and starts an interval); any other event too, and it ends the interval.
            return wanting.filter { endpoint in
                let key = endpoint.endpointID + " " + current.jobID
                guard type == .progress else {
                    if !current.status.isTerminal { state.lastProgressMs.removeValue(forKey: key) }
                    return true
                }
                if !transition, let last = state.lastProgressMs[key], changedAtMs - last < interval { return false }
                state.lastProgressMs[key] = changedAtMs
                return true
            }
        }
        var messages: [StoredOutboxMessage] = []
        for endpoint in endpoints {
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
