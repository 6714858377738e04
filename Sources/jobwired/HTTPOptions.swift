import ArgumentParser
import JobWireCommandLine
import JobWireHTTP

/// The HTTP/JSON and Server-Sent Events listener's options (docs/HTTP.md, docs/OPERATIONS.md).
struct HTTPOptions: ParsableArguments {
    @Option(help: "HTTP/JSON and SSE port; 0 picks a free one.")
    var httpPort = 7480

    @Option(help: "Address of the HTTP listener (default: --host).")
    var httpHost: String?

    @Flag(help: "Serve no HTTP: only the binary port.")
    var noHTTP = false

    @Option(help: "Largest HTTP request body in bytes; larger is 413.")
    var httpMaxBody = 1 << 20

    @Option(help: "Most HTTP connections open at once; more are answered 503.")
    var httpMaxConnections = 10_000

    @Option(parsing: .singleValue, help: "An origin browsers may call the HTTP API from (CORS), e.g. https://app.example; repeat for more. None by default.")
    var httpCORSOrigin: [String] = []

    @Flag(help: "Do not serve the endpoints of the REST services JobWire replaces (/metadata, /status, /jobs, …).")
    var noHTTPCompat = false

    @Flag(help: "Do not serve the dashboard at / (the API stays).")
    var noDashboard = false

    @Option(help: "How long an HTTP request may take to arrive whole (against slow clients).")
    var httpRequestTimeout = DurationArgument(milliseconds: 10_000)

    @Option(help: "How long a keep-alive HTTP connection may stay idle.")
    var httpIdleTimeout = DurationArgument(milliseconds: 75_000)

    @Option(help: "Idle time after which an event stream gets a heartbeat comment and a bookmark event.")
    var httpHeartbeat = DurationArgument(milliseconds: 15_000)

    @Option(help: "How long a stream token (POST /v1/stream-tokens) opens event streams.")
    var streamTokenTTL = DurationArgument(milliseconds: 10 * 60_000)

    func validate() throws {
        guard (0...65_535).contains(httpPort) else { throw ValidationError("--http-port must be 0 to 65535") }
        guard httpMaxBody >= 1024, httpMaxConnections > 0 else {
            throw ValidationError("--http-max-body must be at least 1024 and --http-max-connections positive")
        }
        for (name, value) in [("--http-request-timeout", httpRequestTimeout), ("--http-idle-timeout", httpIdleTimeout),
                              ("--http-heartbeat", httpHeartbeat), ("--stream-token-ttl", streamTokenTTL)]
        where value.milliseconds < 10 || value.milliseconds > Int64(Int32.max) {
            throw ValidationError("\(name) must be between 10ms and 24d")
        }
    }

    func configuration(defaultHost: String, maxOutputBufferBytes: Int) -> HTTPConfiguration {
        var configuration = HTTPConfiguration()
        configuration.host = httpHost ?? defaultHost
        configuration.port = httpPort
        configuration.maxBodyBytes = httpMaxBody
        configuration.maxConnections = httpMaxConnections
        configuration.corsOrigins = httpCORSOrigin
        configuration.compatibilityRoutes = !noHTTPCompat
        configuration.dashboard = !noDashboard
        configuration.requestTimeoutMs = Int(httpRequestTimeout.milliseconds)
        configuration.idleTimeoutMs = Int(httpIdleTimeout.milliseconds)
        configuration.heartbeatIntervalMs = Int(httpHeartbeat.milliseconds)
        configuration.streamTokenTTLMs = Int(streamTokenTTL.milliseconds)
        configuration.maxStreamBufferBytes = maxOutputBufferBytes
        return configuration
    }
}
