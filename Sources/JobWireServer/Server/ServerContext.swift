import Dispatch
import JobWireProtocol
import JobWireSync
import Logging
import Synchronization

/// What every binary-protocol connection shares: settings, the job service,
/// the logger, the event loops and the set of open connections. Created by
/// ``JobWireServer``.
final class ServerContext: Sendable {
    let configuration: ServerConfiguration
    /// Every rule that is not about the transport: admission, the registry, health, stats.
    let service: JobService
    let logger: Logger
    /// The event loops connections run on; started and stopped by ``JobWireServer``.
    let loops: EventLoopGroup
    /// Open connections by id; the listener adds, a closing connection removes.
    let connections = Locked<[UInt64: Connection]>([:])
    /// Open connections per client address, for the per-address limit.
    let connectionsPerAddress = Locked<[String: Int]>([:])
    private let nextConnectionID = Atomic<UInt64>(1)
    /// The binary port's TLS (nil: plaintext); each accepted connection starts a session from its current context.
    let tls: TLSServerContexts?

    init(configuration: ServerConfiguration, service: JobService, logger: Logger) throws(JobWireError) {
        self.tls = try configuration.tls.map { (files) throws(JobWireError) in try TLSServerContexts(files) }
        self.configuration = configuration
        self.service = service
        self.logger = logger
        self.loops = EventLoopGroup(count: configuration.eventLoopCount)
    }

    var stats: ServerStats { service.stats }

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
