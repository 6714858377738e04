import Dispatch
import JobWireJSON
import JobWireProtocol
import JobWireServer
import JobWireSync
import JobWireWebhookSignature
import Synchronization

/// Delivers the outbox: each endpoint's messages in lanes by job, so a job's
/// messages go one after another in revision order while different jobs go
/// side by side (at most ``Settings/maxInFlightPerEndpoint`` requests per
/// endpoint: a slow receiver holds back only its own messages). A failed
/// attempt is retried on ``WebhookRetrySchedule``; 410 Gone disables the
/// endpoint. Every attempt and outcome is written to the store, which is
/// what makes delivery at least once: a message is pending there until its
/// delivery is recorded, and pending messages are sent again after a restart.
public final class WebhookDispatcher: Sendable {
    public struct Settings: Sendable {
        public var schedule = WebhookRetrySchedule.standard
        public var maxInFlightPerEndpoint = 4
        public var timeoutMs: Int64 = 10_000
        /// An endpoint whose every delivery has failed for this long is disabled.
        public var disableAfterFailingMs: Int64 = 5 * 24 * 3_600_000
        /// Delivered and given-up messages, with their attempts, are kept this long (from their change), then pruned.
        public var deliveryRetentionMs: Int64 = 7 * 24 * 3_600_000

        public init() {}
    }

    private struct Entry: Sendable {
        var message: StoredOutboxMessage
        /// The body, made once from the stored job on the first attempt.
        var body: [UInt8]?
    }

    private struct Lanes: Sendable {
        /// Each job's messages, oldest first; the head is being sent or waits for its next attempt.
        var byJob: [String: [Entry]] = [:]
        /// Jobs whose head may be sent now, in the order they became ready.
        var ready = FIFO<String>()
        var inFlight = 0
    }

    private let endpoints: WebhookEndpoints
    private let store: any JobStore
    private let transport: any WebhookTransport
    private let settings: Settings
    private let lanes = Locked<[String: Lanes]>([:])
    private let timers = DispatchQueue(label: "jobwire.webhooks.timers")
    private let stopped = Locked(false)
    /// Attempts since start that delivered, and that failed (any other answer, or none), for `/metrics`.
    private let attemptsDelivered = Atomic<UInt64>(0)
    private let attemptsFailed = Atomic<UInt64>(0)

    /// Attempts since start: delivered (2xx) and failed.
    public func attemptTotals() -> (delivered: UInt64, failed: UInt64) {
        (attemptsDelivered.load(ordering: .relaxed), attemptsFailed.load(ordering: .relaxed))
    }

    public init(endpoints: WebhookEndpoints, store: any JobStore, transport: any WebhookTransport, settings: Settings = Settings()) {
        self.endpoints = endpoints
        self.store = store
        self.transport = transport
        self.settings = settings
    }

    /// Takes over the messages the store kept and everything committed from now on.
    public func start(pending: [StoredOutboxMessage]) {
        endpoints.deliver { [weak self] messages in self?.enqueue(messages) }
        enqueue(pending)
        prunePeriodically()
    }

    /// Drops finished messages older than the retention, now and then every tenth of it (at most hourly).
    private func prunePeriodically() {
        guard !stopped.withLock({ $0 }) else { return }
        store.persist(.webhook(.pruneDeliveries(before: WallClock.nowMs() - settings.deliveryRetentionMs))) { _ in }
        let everyMs = min(max(settings.deliveryRetentionMs / 10, 1_000), 3_600_000)
        timers.asyncAfter(deadline: .now() + .milliseconds(Int(everyMs))) { [weak self] in self?.prunePeriodically() }
    }

    /// Stops sending; attempts in flight finish, nothing new starts.
    public func stop() {
        stopped.withLock { $0 = true }
    }

    /// Messages in the lanes, for Health and Stats (of one tenant, or all): how many, and the oldest change's time.
    public func backlog(tenant: String? = nil) -> (pending: Int, oldestChangedAtMs: Int64?) {
        lanes.withLock { lanes in
            var count = 0
            var oldest: Int64?
            for endpoint in lanes.values {
                for entries in endpoint.byJob.values {
                    guard let first = entries.first?.message, tenant == nil || first.tenant == tenant else { continue }
                    count += entries.count
                    oldest = min(oldest ?? first.changedAtMs, first.changedAtMs)
                }
            }
            return (count, oldest)
        }
    }

    /// Drops an endpoint's messages: a deleted one's (the store has dropped them already) or a disabled one's (given
    /// up in the store with it). Attempts in flight finish unheard.
    public func forget(endpointID: String) {
        let dropped = lanes.withLock { $0.removeValue(forKey: endpointID) }
        var byTenant: [String: Int] = [:]
        for entries in dropped?.byJob.values ?? [:].values {
            for entry in entries { byTenant[entry.message.tenant, default: 0] += 1 }
        }
        for (tenant, count) in byTenant { endpoints.pendingChanged(tenant: tenant, by: -count) }
    }

    public func enqueue(_ messages: [StoredOutboxMessage]) {
        var touched: Set<String> = []
        var byTenant: [String: Int] = [:]
        for message in messages { byTenant[message.tenant, default: 0] += 1 }
        for (tenant, count) in byTenant { endpoints.pendingChanged(tenant: tenant, by: count) }
        lanes.withLock { lanes in
            for message in messages {
                // Taken out of the table while it changes, so the change is made in place, not on a copy of every lane.
                var endpoint = lanes.removeValue(forKey: message.endpointID) ?? Lanes()
                let wasEmpty = endpoint.byJob[message.jobID]?.isEmpty ?? true
                endpoint.byJob[message.jobID, default: []].append(Entry(message: message))
                if wasEmpty {
                    let wait = message.nextAttemptAtMs - WallClock.nowMs()
                    if wait <= 0 { endpoint.ready.append(message.jobID) } else { schedule(message.endpointID, message.jobID, afterMs: wait) }
                }
                lanes[message.endpointID] = endpoint
                touched.insert(message.endpointID)
            }
        }
        for endpointID in touched { pump(endpointID) }
    }

    private func schedule(_ endpointID: String, _ jobID: String, afterMs: Int64) {
        timers.asyncAfter(deadline: .now() + .milliseconds(Int(clamping: afterMs))) { [weak self] in
            guard let self else { return }
            self.lanes.withLock { $0[endpointID]?.ready.append(jobID) }
            self.pump(endpointID)
        }
    }

    /// Starts as many ready heads as the endpoint's bound allows.
    private func pump(_ endpointID: String) {
        guard !stopped.withLock({ $0 }) else { return }
        guard let endpoint = endpoints.endpoint(endpointID), endpoint.disabledAtMs == 0 else { return }
        while let (entry, body) = take(endpointID) {
            send(entry, body: body, to: endpoint)
        }
    }

    /// The next ready head with its body, counted in flight; nil when none may start.
    private func take(_ endpointID: String) -> (Entry, [UInt8])? {
        let next = lanes.withLock { (lanes) -> Entry? in
            // Taken out of the table while it changes, so the change is made in place, not on a copy of every lane.
            guard var endpoint = lanes.removeValue(forKey: endpointID) else { return nil }
            defer { lanes[endpointID] = endpoint }
            guard endpoint.inFlight < settings.maxInFlightPerEndpoint else { return nil }
            while let jobID = endpoint.ready.popFirst() {
                // A lane emptied meanwhile (its endpoint's messages forgotten) leaves a stale entry: skip it.
                guard let head = endpoint.byJob[jobID]?.first else { continue }
                endpoint.inFlight += 1
                return head
            }
            return nil
        }
        guard let next else { return nil }
        return (next, next.body ?? Self.body(of: next.message))
    }

    static func body(of message: StoredOutboxMessage) -> [UInt8] {
        let type = WebhookEventType(rawValue: message.type) ?? .progress
        let json = (try? Job(decoding: message.encodedJob)).map { JobJSON.encode($0) } ?? Array("null".utf8)
        return WebhookPayload.body(type: type, changedAtMs: message.changedAtMs, jobJSON: json)
    }

    private func send(_ entry: Entry, body: [UInt8], to endpoint: StoredWebhookEndpoint) {
        let now = WallClock.nowMs()
        let secrets = endpoint.secrets.enumerated().compactMap { index, text -> WebhookSecret? in
            // The previous secret signs too until its overlap ends.
            if index > 0 && endpoint.previousSecretExpiresAtMs <= now { return nil }
            return try? WebhookSecret(encoded: text)
        }
        let timestamp = now / 1000
        let headers = [("content-type", "application/json"), ("user-agent", "JobWire-Webhooks/1"),
                       ("webhook-id", entry.message.messageID), ("webhook-timestamp", String(timestamp)),
                       ("webhook-signature", WebhookSignature.sign(messageID: entry.message.messageID, timestamp: timestamp,
                                                                  body: body, secrets: secrets))]
        transport.post(url: endpoint.url, headers: headers, body: body, timeoutMs: settings.timeoutMs) { [self] result in
            finished(entry, body: body, endpointID: endpoint.endpointID, at: now, result)
        }
    }

    private func finished(_ entry: Entry, body: [UInt8], endpointID: String, at startedAtMs: Int64, _ result: WebhookTransportResult) {
        var message = entry.message
        message.attempts += 1
        let attempt = StoredDeliveryAttempt(messageID: message.messageID, attempt: message.attempts, atMs: startedAtMs,
                                            httpStatus: result.httpStatus ?? 0, latencyMicros: result.latencyMicros,
                                            error: result.error)
        let status = result.httpStatus ?? 0
        let delivered = (200...299).contains(status) && result.error.isEmpty
        let gone = status == 410
        // An endpoint disabled meanwhile had its pending messages given up; this one goes with them.
        let disabled = endpoints.endpoint(endpointID).map { $0.disabledAtMs > 0 } ?? true
        let retryInMs = delivered || gone || disabled ? nil : settings.schedule.delayMs(beforeAttempt: message.attempts + 1)
        if delivered { attemptsDelivered.add(1, ordering: .relaxed) } else { attemptsFailed.add(1, ordering: .relaxed) }
        let state: StoredOutboxMessage.State = delivered ? .delivered : (retryInMs == nil ? .givenUp : .pending)
        let nextAttemptAtMs = retryInMs.map { WallClock.nowMs() + $0 } ?? 0
        message.nextAttemptAtMs = nextAttemptAtMs
        store.persist(.webhook(.attempted(attempt, attempts: message.attempts, nextAttemptAtMs: nextAttemptAtMs, state: state))) { _ in }
        noteOutcome(endpointID: endpointID, delivered: delivered, gone: gone, at: startedAtMs)

        let settled = lanes.withLock { (lanes) -> Bool in
            guard var endpoint = lanes.removeValue(forKey: endpointID) else { return false }
            defer { lanes[endpointID] = endpoint }
            guard endpoint.byJob[message.jobID]?.first?.message.messageID == message.messageID else { return false }
            endpoint.inFlight -= 1
            let jobID = message.jobID
            if state == .pending, let retryInMs {
                endpoint.byJob[jobID]?[0] = Entry(message: message, body: body)
                schedule(endpointID, jobID, afterMs: retryInMs)
            } else {
                endpoint.byJob[jobID]?.removeFirst()
                if endpoint.byJob[jobID]?.isEmpty == true {
                    endpoint.byJob.removeValue(forKey: jobID)
                } else {
                    endpoint.ready.append(jobID)
                }
            }
            return state != .pending
        }
        if settled { endpoints.pendingChanged(tenant: message.tenant, by: -1) }
        pump(endpointID)
    }

    /// Keeps the endpoint's failing-since time, and disables it on 410 Gone.
    private func noteOutcome(endpointID: String, delivered: Bool, gone: Bool, at nowMs: Int64) {
        guard var endpoint = endpoints.endpoint(endpointID) else { return }
        let before = endpoint
        if gone {
            endpoint.disabledAtMs = nowMs
            endpoint.disabledReason = "GONE: the receiver answered 410"
        } else if delivered {
            endpoint.failingSinceMs = 0
        } else if endpoint.failingSinceMs == 0 {
            endpoint.failingSinceMs = nowMs
        } else if nowMs - endpoint.failingSinceMs >= settings.disableAfterFailingMs {
            endpoint.disabledAtMs = nowMs
            endpoint.disabledReason = "FAILING: every delivery failed since \(ISO8601.string(milliseconds: endpoint.failingSinceMs))"
        }
        guard endpoint != before else { return }
        let updated = endpoint
        store.persist(.webhook(.putEndpoint(updated))) { [endpoints, weak self] result in
            guard case .success = result else { return }
            endpoints.put(updated)
            if updated.disabledAtMs > 0 { self?.forget(endpointID: updated.endpointID) }
        }
    }
}
