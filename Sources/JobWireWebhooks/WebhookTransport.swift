/// What sends one webhook request (jobwired's is AsyncHTTPClient with the
/// address policy applied after each resolution; tests use their own).
public protocol WebhookTransport: Sendable {
    /// POSTs `body` to `url` with `headers`, without following redirects,
    /// and calls `completion` once, from any thread, within about `timeoutMs`.
    func post(url: String, headers: [(String, String)], body: [UInt8], timeoutMs: Int64,
              completion: @escaping @Sendable (WebhookTransportResult) -> Void)
}

/// How one request went.
public struct WebhookTransportResult: Sendable, Equatable {
    /// The status the receiver answered; nil when it answered nothing (refused, timed out, not allowed).
    public var httpStatus: Int?
    /// Why there was no status, or why it counts as a failure; "" when it answered.
    public var error: String
    public var latencyMicros: Int64

    public init(httpStatus: Int?, error: String = "", latencyMicros: Int64) {
        self.httpStatus = httpStatus
        self.error = error
        self.latencyMicros = latencyMicros
    }
}
