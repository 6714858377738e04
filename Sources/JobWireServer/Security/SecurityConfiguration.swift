import JobWireKeys

/// Who may connect and how much they may ask (docs/SECURITY.md).
public struct SecurityConfiguration: Sendable {
    /// The keys the server accepts; nil runs in development mode: no keys,
    /// one tenant (`default`), every role.
    public var keys: KeyRing?
    /// Where `keys` came from, for ``JobWireServer/reloadKeys()`` (SIGHUP).
    public var keysFile: String?
    /// Calls per second one key may make, with its burst; nil for no limit.
    public var keyRate: RateLimit?
    /// Calls per second all keys of one tenant may make together; nil for no limit.
    public var tenantRate: RateLimit?
    /// Connections one client address may hold at once (0: no limit).
    public var maxConnectionsPerAddress = 4_096

    public init() {}
}

/// A token bucket's settings: `perSecond` tokens refill each second, up to `burst`.
public struct RateLimit: Sendable, Equatable {
    public var perSecond: Double
    public var burst: Double

    public init(perSecond: Double, burst: Double? = nil) {
        self.perSecond = perSecond
        self.burst = max(1, burst ?? perSecond)
    }
}
