/// What a store keeps for webhooks (docs/WEBHOOKS.md): each tenant's
/// endpoints, and the outbox — every message not yet delivered or given up,
/// written in the same transaction as the job change that made it, so that
/// an acknowledged change's messages survive any crash after it.

/// One endpoint of a tenant.
public struct StoredWebhookEndpoint: Sendable, Equatable {
    public var endpointID: String
    public var tenant: String
    public var url: String
    /// Event types (`job.completed`, …) it receives; empty: every type.
    public var events: [String]
    /// Only jobs with all of these labels.
    public var labels: [String: String]
    /// `whsec_…`, the newest first; a second one signs too until `previousSecretExpiresAtMs`.
    public var secrets: [String]
    public var previousSecretExpiresAtMs: Int64
    public var createdAtMs: Int64
    /// When and why it stopped receiving (410 Gone, failing too long); 0 and "" while enabled.
    public var disabledAtMs: Int64
    public var disabledReason: String
    /// Since when every delivery to it has failed; 0 while the last one succeeded.
    public var failingSinceMs: Int64

    public init(endpointID: String, tenant: String, url: String, events: [String], labels: [String: String],
                secrets: [String], previousSecretExpiresAtMs: Int64 = 0, createdAtMs: Int64, disabledAtMs: Int64 = 0,
                disabledReason: String = "", failingSinceMs: Int64 = 0) {
        self.endpointID = endpointID
        self.tenant = tenant
        self.url = url
        self.events = events
        self.labels = labels
        self.secrets = secrets
        self.previousSecretExpiresAtMs = previousSecretExpiresAtMs
        self.createdAtMs = createdAtMs
        self.disabledAtMs = disabledAtMs
        self.disabledReason = disabledReason
        self.failingSinceMs = failingSinceMs
    }
}

/// A message for one endpoint about one revision of one job.
public struct StoredOutboxMessage: Sendable, Equatable {
    public enum State: Int64, Sendable {
        case pending = 0
        case delivered = 1
        /// Its attempts are used up, or its endpoint was disabled: kept for the deliveries list, redeliverable.
        case givenUp = 2
    }

    /// `msg_…`: the `webhook-id` of every attempt.
    public var messageID: String
    public var endpointID: String
    public var tenant: String
    public var jobID: String
    public var revision: UInt64
    public var type: String
    public var changedAtMs: Int64
    /// The job at `revision`, encoded: the body's `data` is made from it, the same bytes on every attempt.
    public var encodedJob: [UInt8]
    public var attempts: Int
    public var nextAttemptAtMs: Int64
    public var state: State

    public init(messageID: String, endpointID: String, tenant: String, jobID: String, revision: UInt64, type: String,
                changedAtMs: Int64, encodedJob: [UInt8], attempts: Int = 0, nextAttemptAtMs: Int64, state: State = .pending) {
        self.messageID = messageID
        self.endpointID = endpointID
        self.tenant = tenant
        self.jobID = jobID
        self.revision = revision
        self.type = type
        self.changedAtMs = changedAtMs
        self.encodedJob = encodedJob
        self.attempts = attempts
        self.nextAttemptAtMs = nextAttemptAtMs
        self.state = state
    }
}

/// One try at delivering a message.
public struct StoredDeliveryAttempt: Sendable, Equatable {
    public var messageID: String
    /// 1 for the first.
    public var attempt: Int
    public var atMs: Int64
    /// The HTTP status answered; 0 when there was none (refused, timed out, not allowed).
    public var httpStatus: Int
    public var latencyMicros: Int64
    /// What went wrong, "" on success.
    public var error: String

    public init(messageID: String, attempt: Int, atMs: Int64, httpStatus: Int, latencyMicros: Int64, error: String) {
        self.messageID = messageID
        self.attempt = attempt
        self.atMs = atMs
        self.httpStatus = httpStatus
        self.latencyMicros = latencyMicros
        self.error = error
    }
}

/// A change to the webhook tables that is not a job's (those ride in ``StoredJobChange/outbox``).
public enum StoredWebhookChange: Sendable, Equatable {
    /// Creates or replaces an endpoint; a disabled one's pending messages are given up with it.
    case putEndpoint(StoredWebhookEndpoint)
    /// The endpoint and its messages go.
    case removeEndpoint(endpointID: String)
    /// An attempt was made: it is recorded, and the message moves on (its
    /// attempt count, next attempt, state).
    case attempted(StoredDeliveryAttempt, attempts: Int, nextAttemptAtMs: Int64, state: StoredOutboxMessage.State)
    /// A message is sent again (redelivery by hand): pending from `nextAttemptAtMs`.
    case requeue(messageID: String, nextAttemptAtMs: Int64)
    /// Delivered and given-up messages, and attempts, older than this go (bounded retention of the deliveries list).
    case pruneDeliveries(before: Int64)
}

/// What a store kept for webhooks, for start-up.
public struct StoredWebhooks: Sendable, Equatable {
    public var endpoints: [StoredWebhookEndpoint]
    /// Messages still pending, in the order they were committed.
    public var pending: [StoredOutboxMessage]

    public init(endpoints: [StoredWebhookEndpoint] = [], pending: [StoredOutboxMessage] = []) {
        self.endpoints = endpoints
        self.pending = pending
    }
}

/// A message as the deliveries list shows it: without its job's bytes, with its attempts, oldest first.
public struct StoredDelivery: Sendable, Equatable {
    public var message: StoredOutboxMessage
    public var attempts: [StoredDeliveryAttempt]

    public init(message: StoredOutboxMessage, attempts: [StoredDeliveryAttempt]) {
        self.message = message
        self.attempts = attempts
    }
}
