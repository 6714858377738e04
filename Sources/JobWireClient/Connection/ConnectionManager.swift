import JobWireProtocol

/// Keeps the client's one connection: opens it on first use, replaces it when
/// it breaks or the server sends GoAway, and spaces reconnection attempts
/// with backoff. Concurrent callers share one connect attempt. A handshake the
/// server refuses for good (``RetryPolicy/refusalIsFinal(_:)``) fails every
/// caller of that attempt at once with the server's status; the next call
/// tries a fresh handshake (the key may have been added meanwhile).
///
/// With several servers (``JobWireClient/Configuration/fallbacks``) it stays
/// on the one that answered last; when that one cannot be reached it tries
/// the next at once, and backs off only once every address has failed in a
/// row.
actor ConnectionManager {
    private let configuration: JobWireClient.Configuration
    private let servers: [ServerAddress]
    /// The server the next attempt goes to.
    private var serverIndex = 0
    /// Attempts failed in a row since the last round of backoff.
    private var failuresThisRound = 0
    private var current: ClientConnection?
    private var connecting: Task<ClientConnection, any Error>?
    private var failures = 0
    private var nextAttempt: ContinuousClock.Instant?
    /// Why the last attempt failed, for the error of a call that runs out of time.
    private var lastFailure: (any Error)?
    private var closed = false

    init(configuration: JobWireClient.Configuration) {
        self.configuration = configuration
        servers = configuration.servers
    }

    deinit {
        connecting?.cancel()
        current?.close()
    }

    /// A usable connection, waiting (with backoff) until `deadline` if the
    /// server cannot be reached.
    func connection(deadline: ContinuousClock.Instant) async throws -> ClientConnection {
        while true {
            try Task.checkCancellation()
            if closed {
                throw JobWireError(.cancelled, Reason.cancelled, "the client was closed")
            }
            if let current, current.isUsable {
                return current
            }
            if let nextAttempt, nextAttempt > .now {
                guard nextAttempt < deadline else {
                    // No attempt fits before the deadline: the call still waits
                    // until then (a server may come back and the call be retried
                    // by a later caller's attempt), then fails.
                    try await Task.sleep(until: deadline, clock: .continuous)
                    if let current, current.isUsable { return current }
                    throw unreachable()
                }
                try await Task.sleep(until: nextAttempt, clock: .continuous)
                continue
            }
            let attempt = connecting ?? startConnecting()
            do {
                let connection = try await attempt.value
                if connecting == attempt { connecting = nil }
                return connection
            } catch let error as JobWireError where RetryPolicy.refusalIsFinal(error) {
                if connecting == attempt { connecting = nil }
                throw error
            } catch {
                if connecting == attempt { connecting = nil }
                if ContinuousClock.now >= deadline { throw unreachable(error) }
            }
        }
    }

    /// Calls wait for a connection until their deadline (gRPC's wait-for-ready), so
    /// running out of time is DEADLINE_EXCEEDED, with the last connect error.
    private func unreachable(_ error: (any Error)? = nil) -> JobWireError {
        let error = error ?? lastFailure
        let detail = (error as? JobWireError)?.message ?? error.map { "\($0)" } ?? "still backing off"
        return JobWireError(.deadlineExceeded, Reason.connectFailed,
                            "cannot reach \(servers.map(\.description).joined(separator: " or ")) before the deadline (\(detail))")
    }

    private func startConnecting() -> Task<ClientConnection, any Error> {
        let configuration = self.configuration
        let server = servers[serverIndex % servers.count]
        let task = Task<ClientConnection, any Error> {
            let hello = Hello(apiKey: configuration.apiKey ?? "", clientName: configuration.clientName)
            do {
                let connection = try await ClientConnection.connect(host: server.host, port: server.port,
                                                                    hello: hello, timeout: configuration.connectTimeout,
                                                                    tls: configuration.tls)
                self.connected(connection)
                return connection
            } catch {
                self.failed(error)
                throw error
            }
        }
        connecting = task
        return task
    }

    private func connected(_ connection: ClientConnection) {
        current = connection
        failures = 0
        failuresThisRound = 0
        nextAttempt = nil
        lastFailure = nil
    }

    /// Moves to the next server after a transient failure, and backs off once
    /// every server has failed in a row; a final refusal leaves the next call
    /// free to try at once.
    private func failed(_ error: any Error) {
        lastFailure = error
        if let refusal = error as? JobWireError, RetryPolicy.refusalIsFinal(refusal) { return }
        serverIndex = (serverIndex + 1) % servers.count
        failuresThisRound += 1
        guard failuresThisRound >= servers.count else { return }
        failuresThisRound = 0
        nextAttempt = .now + configuration.backoff.delay(forAttempt: failures)
        failures += 1
    }

    /// The server as seen on the current connection, if there is one.
    func serverHello() -> HelloAck? {
        current?.helloAck
    }

    func close() {
        closed = true
        connecting?.cancel()
        current?.close()
        current = nil
    }
}
