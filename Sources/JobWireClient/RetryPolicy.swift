import JobWireProtocol

/// Which failures are worth another attempt: one set of rules, shared with the
/// Python client (`clients/python/src/jobwire/_policy.py`) and written down in
/// docs/PROTOCOL.md ("What a client retries").
enum RetryPolicy {
    /// A handshake the server refused (a GoAway instead of a HelloAck) for a reason
    /// another attempt would not change: a missing, unknown or revoked key, a role or
    /// protocol version the server does not accept, a connection limit. The calls
    /// waiting for that connection fail at once with the server's status. Only a
    /// draining server (UNAVAILABLE), a timeout and socket failures are retried with
    /// backoff until the call's deadline.
    static func refusalIsFinal(_ error: JobWireError) -> Bool {
        error.code != .unavailable && error.code != .deadlineExceeded
    }

    /// A watch that ended (or could not start) this way resumes on a new connection:
    /// drains, drops and restarts, the limits a crowd of reconnecting clients meets,
    /// and a server that could not be reached within one connect slice. Anything else
    /// (a missing job, a revoked key, a server bug) ends the watch with the error.
    static func watchEndIsRetryable(_ error: JobWireError) -> Bool {
        switch error.code {
        case .unavailable:
            true
        case .resourceExhausted:
            error.reason == Reason.rateLimited || error.reason == Reason.tooManyStreams
                || error.reason == Reason.tooManyConnections
        case .deadlineExceeded:
            error.reason == Reason.connectFailed
        default:
            false
        }
    }

    /// The server never processed the call, so sending it again is safe for every
    /// method: it was above a GoAway's last stream id, or it crossed the GoAway of a
    /// server that had begun draining.
    static func wasNotProcessed(_ error: JobWireError) -> Bool {
        error.code == .unavailable
            && (error.reason == ClientConnection.notProcessedReason || error.reason == Reason.serverShuttingDown)
    }
}
