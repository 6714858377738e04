import JobWireServer

/// How the HTTP front end listens and what it accepts.
public struct HTTPConfiguration: Sendable {
    public var host = "127.0.0.1"
    /// 0 picks a free port.
    public var port = 7480
    /// Event loop threads; 0 means one per core.
    public var threads = 0
    /// Largest request body; a larger one is answered 413 and the connection closed.
    public var maxBodyBytes = 1 << 20
    /// Largest request head (request line and headers together); larger is 431.
    public var maxHeaderBytes = 16 * 1024
    /// Most header fields in one request; more is 431.
    public var maxHeaderFields = 100
    /// Most connections open at once; more are answered 503 and closed.
    public var maxConnections = 10_000
    /// How long a request may take to arrive whole (head and body): against slowloris clients.
    public var requestTimeoutMs = 10_000
    /// How long a keep-alive connection may sit idle between requests.
    public var idleTimeoutMs = 75_000
    /// How often an open event stream gets a comment line, so proxies keep it open.
    public var heartbeatIntervalMs = 15_000
    /// Bytes an event stream may have queued for a slow reader before its
    /// events are held back (collapsed, as on the binary port).
    public var maxStreamBufferBytes = 1 << 20
    /// Origins a browser may call from (CORS); empty: none.
    public var corsOrigins: [String] = []
    /// Serve the endpoints of the REST services JobWire replaces (docs/HTTP.md).
    public var compatibilityRoutes = true
    /// Serve the dashboard at `/` (its files are compiled in).
    public var dashboard = true
    /// How long a stream token (`POST /v1/stream-tokens`) opens event streams.
    public var streamTokenTTLMs = 10 * 60_000
    /// Serve TLS (and with a client CA, require client certificates); nil: plaintext.
    public var tls: TLSFiles?

    public init() {}
}
