import Foundation
import JobWirePostgres
import JobWireRelay
import JobWireSync
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// A postgres node's ports while it waits for the writer lock: open, relaying
/// every connection to the writer (``StandbyRelay``), so that any node answers
/// any call; closed again the moment the node takes the lock, for the node to
/// serve on the same ports itself (docs/ARCHITECTURE.md, "Several nodes on
/// PostgreSQL").
///
/// Threading: `PostgresJobStore.init`'s waiting loop calls ``standingBy(_:)``
/// on the main thread; the relay reads ``writer`` from its event loops.
final class StandbyPorts: @unchecked Sendable {
    private let relay = StandbyRelay()
    private let writer = Locked(WriterAddresses(binary: "", http: ""))
    /// This node's addresses as it will advertise them once it writes: never a relay target.
    private let own = Locked(WriterAddresses(binary: "", http: ""))
    private let binary: (host: String, port: Int)
    private let http: (host: String, port: Int)?
    private let advertiseHost: String
    private let logger: Logger
    /// The ports the relay bound, once it has started (main thread only).
    private(set) var boundPorts: (binary: Int, http: Int?)?

    init(binary: (host: String, port: Int), http: (host: String, port: Int)?, advertiseHost: String, logger: Logger) {
        self.binary = binary
        self.http = http
        self.advertiseHost = advertiseHost
        self.logger = logger
    }

    /// Called at each attempt that found another node writing: notes where it serves, and opens the ports the
    /// first time (throwing when they cannot be opened: the node then cannot start).
    func standingBy(_ addresses: WriterAddresses) throws {
        let changed = writer.withLock { current -> Bool in
            defer { current = addresses }
            return current != addresses
        }
        if changed && !addresses.binary.isEmpty {
            logger.notice("standby: another jobwired writes to this database; relaying to it at \(addresses.binary)")
        }
        guard boundPorts == nil else { return }
        var routes = [StandbyRelay.Route(host: binary.host, port: binary.port) { [self] in
            Self.target(writer.withLock { $0.binary }, unless: own.withLock { $0.binary })
        }]
        if let http {
            routes.append(StandbyRelay.Route(host: http.host, port: http.port) { [self] in
                Self.target(writer.withLock { $0.http }, unless: own.withLock { $0.http })
            })
        }
        let ports = try relay.start(routes)
        let httpPort = ports.count > 1 ? ports[1] : nil
        boundPorts = (ports[0], httpPort)
        own.withLock {
            $0 = WriterAddresses(binary: Self.address(advertiseHost, ports[0]), http: httpPort.map { Self.address(advertiseHost, $0) } ?? "")
        }
        var ready = "jobwired listening on \(binary.host):\(ports[0])\n"
        if let http, let httpPort { ready += "jobwired http listening on \(http.host):\(httpPort)\n" }
        let bytes = Array(ready.utf8)
        _ = bytes.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
    }

    /// SIGTERM or SIGINT while the node stands by: noted by the handler, acted on by ``standingBy(_:)``'s caller at
    /// the next lock attempt (at most ~200 ms later), on the main thread, where exiting is safe. Installed before the
    /// store is opened; the server's own handlers replace these once the node serves.
    static func catchStopSignals() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in standbyStopSignalled = 1 }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        for number in [SIGTERM, SIGINT] {
            sigaction(number, &action, nil)
        }
    }

    /// Whether a stop signal arrived while the node stood by.
    var stopRequested: Bool { standbyStopSignalled != 0 }

    /// Closes the relay (its listeners and every relayed connection) before the node serves on the same ports.
    func stop() {
        relay.stop()
    }

    static func address(_ host: String, _ port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// `host:port` as a relay target; nil for none, or for this node's own address (a writer that is gone left it
    /// behind: relaying to it would relay to itself).
    static func target(_ address: String, unless own: String) -> (host: String, port: Int)? {
        guard !address.isEmpty, address != own else { return nil }
        let host: Substring
        let port: Substring
        if address.hasPrefix("["), let close = address.firstIndex(of: "]") {
            host = address[address.index(after: address.startIndex)..<close]
            port = address[address.index(after: close)...].dropFirst()
        } else if let colon = address.lastIndex(of: ":") {
            host = address[..<colon]
            port = address[address.index(after: colon)...]
        } else {
            return nil
        }
        guard let number = Int(port) else { return nil }
        return (String(host), number)
    }
}

/// Set by the standby's SIGTERM/SIGINT handler (``StandbyPorts/catchStopSignals()``); read on the main thread.
nonisolated(unsafe) private var standbyStopSignalled: Int32 = 0
