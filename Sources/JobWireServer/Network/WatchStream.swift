/// One watch on a connection: what the client has been sent, and what waits
/// while the connection's output is over its bound.
///
/// Owned by its connection's loop thread.
struct WatchStream {
    struct Pending {
        var revision: UInt64
        var encodedEvent: [UInt8]
        var isStatusTransition: Bool
        var isTerminal: Bool
    }

    let jobID: String
    let watcherID: UInt64?
    /// The last revision sent: later deliveries at or below it are duplicates.
    var lastRevision: UInt64
    var lastSentAtMs: Int64
    /// When the call arrived, for Stats (a watch's "latency" is its lifetime).
    let startedAtNs: UInt64
    /// Events held back while the client reads slowly, oldest first.
    private(set) var pending: [Pending] = []

    init(jobID: String, watcherID: UInt64?, lastRevision: UInt64, now: Int64, startedAtNs: UInt64) {
        self.startedAtNs = startedAtNs
        self.jobID = jobID
        self.watcherID = watcherID
        self.lastRevision = lastRevision
        self.lastSentAtMs = now
    }

    /// Holds an event back. A plain change replaces a plain change before it
    /// (the client gets the latest state); status transitions and the
    /// terminal event are always kept. So a slow watcher costs at most one
    /// event per status transition plus one.
    mutating func hold(_ event: Pending) {
        if let last = pending.last, !last.isStatusTransition, !last.isTerminal {
            pending[pending.count - 1] = event
        } else {
            pending.append(event)
        }
    }

    mutating func takePending() -> [Pending] {
        defer { pending.removeAll() }
        return pending
    }

    var hasPending: Bool { !pending.isEmpty }
    var heldCount: Int { pending.count }
}
