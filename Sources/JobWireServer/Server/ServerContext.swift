import Dispatch
import JobWireProtocol
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
    let ioPool: IOQueuePool
    /// Open connections by id; the listener adds, a closing connection removes.
    let connections = Mutex<[UInt64: Connection]>([:])
    let draining = Atomic<Bool>(false)
    private let nextConnectionID = Atomic<UInt64>(1)

    init(configuration: ServerConfiguration, registry: JobRegistry, store: any JobStore, logger: Logger) {
        self.configuration = configuration
        self.registry = registry
        self.store = store
        self.logger = logger
        self.ioPool = IOQueuePool(count: configuration.ioQueueCount)
    }

    func makeConnectionID() -> UInt64 {
        nextConnectionID.wrappingAdd(1, ordering: .relaxed).oldValue
    }
}
