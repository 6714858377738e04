import JobWireProtocol

extension JobWireClient {
    /// How a client connects, identifies itself, waits and retries.
    public struct Configuration: Sendable {
        /// The server's host name or address.
        public var host: String
        /// The server's port (default 7420).
        public var port: Int
        /// The API key sent in Hello; nil when the server runs without keys.
        public var apiKey: String?
        /// Admin keys only: the tenant every call acts for; nil for the key's own.
        public var tenant: String?
        /// Sent in Hello, for the server's logs.
        public var clientName: String
        /// Deadline of calls that give none.
        public var defaultTimeout: Duration
        /// Longest a single connect (TCP and Hello) may take.
        public var connectTimeout: Duration
        /// How reconnection attempts are spaced.
        public var backoff: Backoff
        /// Speak TLS (nil: plaintext).
        public var tls: ClientTLS?
        /// Other nodes serving the same jobs (docs/OPERATIONS.md, "Several nodes"): when `host:port` cannot be
        /// reached or its connection is lost, the client tries the next address at once, and backs off only after
        /// every address failed. Watches resume on whichever node answers.
        public var fallbacks: [ServerAddress]

        /// Every address the client may use: `host:port`, then ``fallbacks``.
        public var servers: [ServerAddress] { [ServerAddress(host: host, port: port)] + fallbacks }

        /// - Parameters:
        ///   - host: the server's host name or address.
        ///   - port: the server's port.
        ///   - apiKey: the API key, if the server requires one.
        public init(host: String = "127.0.0.1", port: Int = 7420, apiKey: String? = nil, tenant: String? = nil,
                    clientName: String = "jobwire-swift/\(JobWireClient.version)",
                    defaultTimeout: Duration = .seconds(30), connectTimeout: Duration = .seconds(5),
                    backoff: Backoff = Backoff(), tls: ClientTLS? = nil, fallbacks: [ServerAddress] = []) {
            self.host = host
            self.fallbacks = fallbacks
            self.port = port
            self.apiKey = apiKey
            self.tenant = tenant
            self.clientName = clientName
            self.defaultTimeout = defaultTimeout
            self.connectTimeout = connectTimeout
            self.backoff = backoff
            self.tls = tls
        }
    }

    /// Exponential backoff with jitter between reconnection attempts; the
    /// defaults are gRPC's: 1 s, ×1.6 per attempt, ±20 %, at most 120 s.
    public struct Backoff: Sendable {
        /// The delay before the first retry.
        public var initial: Duration
        /// Each later delay is this many times the one before.
        public var multiplier: Double
        /// Fraction of each delay added or removed at random (0.2 = ±20 %).
        public var jitter: Double
        /// No delay is longer than this.
        public var maximum: Duration

        /// gRPC's defaults unless given.
        public init(initial: Duration = .seconds(1), multiplier: Double = 1.6, jitter: Double = 0.2,
                    maximum: Duration = .seconds(120)) {
            self.initial = initial
            self.multiplier = multiplier
            self.jitter = jitter
            self.maximum = maximum
        }

        /// The delay before attempt `attempt` (0 is the first retry).
        public func delay(forAttempt attempt: Int) -> Duration {
            let base = min(initial.seconds * pow(multiplier, Double(attempt)), maximum.seconds)
            let spread = base * jitter
            return .seconds(max(0, base + Double.random(in: -spread...spread)))
        }
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// Whole milliseconds, rounded up, at least 1: for the wire (`timeout_ms`,
    /// `lease_ttl_ms`) and for local timers.
    var wireMilliseconds: UInt32 {
        UInt32(clamping: max(1, Int64((seconds * 1000).rounded(.up))))
    }
}

#if canImport(Glibc)
import Glibc
#endif
