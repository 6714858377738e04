import Dispatch
import JobWireKeys
import JobWireProtocol
import JobWireSync
import Logging
import Synchronization

/// What every connection shares: settings, the registry, counters, the
/// logger and the set of open connections. Created by ``JobWireServer``.
final class ServerContext: Sendable {
    let configuration: ServerConfiguration
    let registry: JobRegistry
    let store: any JobStore
    let stats = ServerStats()
    let logger: Logger
    /// The event loops connections run on; started and stopped by ``JobWireServer``.
    let loops: EventLoopGroup
    /// Open connections by id; the listener adds, a closing connection removes.
    let connections = Locked<[UInt64: Connection]>([:])
    let draining = Atomic<Bool>(false)
    /// The accepted keys (nil: development mode); replaced on reload.
    let keys: Locked<KeyRing?>
    let rateLimiter: RateLimiter
    /// Open connections per client address, for the per-address limit.
    let connectionsPerAddress = Locked<[String: Int]>([:])
    private let nextConnectionID = Atomic<UInt64>(1)

    init(configuration: ServerConfiguration, registry: JobRegistry, store: any JobStore, logger: Logger) {
        self.configuration = configuration
        self.registry = registry
        self.store = store
        self.logger = logger
        self.loops = EventLoopGroup(count: configuration.eventLoopCount)
        self.keys = Locked(configuration.security.keys)
        self.rateLimiter = RateLimiter(keyRate: configuration.security.keyRate, tenantRate: configuration.security.tenantRate)
    }

    /// Counts a new connection from `address`; false when it is over the limit.
    func admitAddress(_ address: String) -> Bool {
        let limit = configuration.security.maxConnectionsPerAddress
        return connectionsPerAddress.withLock { counts in
            let count = counts[address, default: 0]
            guard limit == 0 || count < limit else { return false }
            counts[address] = count + 1
            return true
        }
    }

    func releaseAddress(_ address: String) {
        connectionsPerAddress.withLock { counts in
            if let count = counts[address], count > 1 {
                counts[address] = count - 1
            } else {
                counts.removeValue(forKey: address)
            }
        }
    }

    func makeConnectionID() -> UInt64 {
        nextConnectionID.wrappingAdd(1, ordering: .relaxed).oldValue
    }
}
