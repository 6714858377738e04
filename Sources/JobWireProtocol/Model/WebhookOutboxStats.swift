/// A tenant's webhook outbox in numbers (the `webhook_…` fields of `jobwire.v1.StatsResponse`).
public struct WebhookOutboxStats: Sendable, Equatable, Hashable {
    /// Messages waiting to be delivered, retries included.
    public var pendingMessages: UInt64
    /// How long the oldest of them has waited since its change; saturates at `UInt32.max`.
    public var oldestPendingAgeMs: UInt32
    public var endpoints: UInt32
    /// Enabled endpoints whose every delivery has failed since their `failingSinceMs`.
    public var failingEndpoints: UInt32
    public var disabledEndpoints: UInt32
    /// Messages not made since the server started because the tenant's outbox was at its bound.
    public var skippedMessages: UInt64

    public init(pendingMessages: UInt64 = 0, oldestPendingAgeMs: UInt32 = 0, endpoints: UInt32 = 0, failingEndpoints: UInt32 = 0,
                disabledEndpoints: UInt32 = 0, skippedMessages: UInt64 = 0) {
        self.pendingMessages = pendingMessages
        self.oldestPendingAgeMs = oldestPendingAgeMs
        self.endpoints = endpoints
        self.failingEndpoints = failingEndpoints
        self.disabledEndpoints = disabledEndpoints
        self.skippedMessages = skippedMessages
    }
}
