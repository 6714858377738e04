import JobWireProtocol

/// What turns job changes into webhook messages (the webhooks' endpoint
/// table). The registry asks it under its lock, for each change it is about
/// to persist, and stores the messages in the change's own transaction
/// (``StoredJobChange/outbox``): so a message exists exactly when its change
/// does, whatever crashes when. Once the store has committed them it hands
/// them over for delivery.
///
/// Called under the registry's lock: every method must be quick and must not
/// call back into the registry.
public protocol JobChangeOutbox: Sendable {
    /// Whether any endpoint of `tenant` could want a message; when not, the
    /// registry skips the rest (and the copy of the job it needs).
    func hasEndpoints(tenant: String) -> Bool

    /// The messages of one change: `previous` is the job before it (nil for a
    /// creation), `current` after it, at `revision` (encoded: `encodedJob`).
    func messages(previous: Job?, current: Job, revision: UInt64, encodedJob: [UInt8], changedAtMs: Int64) -> [StoredOutboxMessage]

    /// The store committed these messages (with their change): deliver them.
    /// Called outside the registry's lock, in commit order.
    func committed(_ messages: [StoredOutboxMessage])
}
