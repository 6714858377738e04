/// One WatchJobs call on a connection: where its client is in the tenant's
/// change history, and whether it is catching up or live.
///
/// Owned by its connection's loop thread. It holds a position, never a
/// queue: a client that reads slowly falls back to catching up from its
/// position once its connection has room (see ``Connection/continueJobsCatchUp(_:)``).
struct JobsStream {
    enum Mode {
        /// Reading the change log at the connection's pace: the snapshot, a
        /// resume, or after falling behind.
        case catchingUp
        /// Changes are pushed as the store accepts them.
        case live
    }

    let watcherID: UInt64
    let tenant: String
    let pageSize: Int
    /// When the call arrived, for Stats (a watch's "latency" is its lifetime).
    let startedAtNs: UInt64
    let epoch: String
    var mode: Mode = .catchingUp
    /// The change number of the last event sent (its cursor).
    var position: UInt64
    /// Catching up sends a snapshot (first, and after a resync) rather than changes.
    var snapshot: Bool
    /// The position the current resume started from: jobs created after it
    /// are unknown to the client, so leaving the filter is not news to it.
    var since: UInt64
    var lastSentAtMs: Int64
}
