import ArgumentParser
import Dispatch
import Foundation
import JobWireCommandLine
import JobWireHTTP
import JobWireWebhookDelivery
import JobWireWebhooks
import JobWireKeys
import JobWirePostgres
import JobWireProtocol
import JobWireServer
import Logging

#if canImport(Glibc)
import Glibc
#endif

@main
struct JobWired: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobwired",
        abstract: "The JobWire job metadata and status server.",
        discussion: """
            Prints "jobwired listening on HOST:PORT" and then "jobwired http listening on HOST:PORT" (unless \
            --no-http) when it is ready, then logs to stderr. \
            SIGTERM or SIGINT drains connections and exits 0; SIGHUP reloads --keys. See docs/OPERATIONS.md \
            and docs/SECURITY.md.
            """,
        version: ServerConfiguration.version)

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "TCP port; 0 picks a free one.")
    var port = 7420

    @OptionGroup(title: "Store")
    var storeOptions: StoreOptions

    @Flag(help: "Run SQLite's full integrity check on --data-dir's store, print the result and exit (0 when ok).")
    var checkStore = false

    @Option(help: "Write a consistent backup of --data-dir's store to this new file and exit; safe while a server runs.")
    var backupTo: String?

    @Option(help: "How long terminal jobs are served.")
    var retention = DurationArgument(milliseconds: 24 * 3_600_000)

    @Option(help: "How long an expired job answers EXPIRED before it is forgotten.")
    var expiredRetention = DurationArgument(milliseconds: 24 * 3_600_000)

    @Option(help: "Largest frame accepted or sent, in bytes (64 KiB to 64 MiB).")
    var maxFrameBytes = Limits.defaultMaxFrameBytes

    @Option(help: "Most connections open at once.")
    var maxConnections = 10_000

    @Option(help: "Most calls open at once on one connection.")
    var maxStreamsPerConnection = 100

    @Option(help: "Bytes waiting to be written on one connection before it stops reading and slow watchers collapse.")
    var maxOutputBufferBytes = 1 << 20

    @Option(help: "stream_url given to jobs whose port comes from --stream-ports.")
    var streamHost = "127.0.0.1"

    @Option(help: "Pool Configure allocates stream_port from, as LOW-HIGH (e.g. 50000-50999).")
    var streamPorts: PortRangeArgument?

    @Option(help: "Idle time after which a connection is pinged; unanswered for as long again, it is closed.")
    var pingInterval = DurationArgument(milliseconds: 30_000)

    @Option(help: "Idle time after which a watch gets a BOOKMARK event.")
    var bookmarkInterval = DurationArgument(milliseconds: 15_000)

    @Option(help: "Time a new connection has to send its Hello.")
    var handshakeTimeout = DurationArgument(milliseconds: 10_000)

    @Option(help: "How long a shutdown waits for connections to finish.")
    var drainTimeout = DurationArgument(milliseconds: 10_000)

    @Option(help: "How often leases and retention are checked.")
    var reaperInterval = DurationArgument(milliseconds: 1_000)

    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    @Option(help: "API keys file (see `jobwire keys`); must not be readable by group or others. Without it the server runs in development mode: one tenant, every role, loopback only. SIGHUP reloads it.")
    var keys: String?

    @Flag(help: "Allow listening on a non-loopback address without --keys (anyone who can connect may do anything).")
    var allowUnauthenticated = false

    @Option(help: "Calls per second one key may make, as RATE or RATE/BURST (e.g. 200/400). Off by default.")
    var rateLimit: RateLimitArgument?

    @Option(help: "Calls per second all keys of one tenant may make together, as RATE or RATE/BURST. Off by default.")
    var tenantRateLimit: RateLimitArgument?

    @Option(help: "Jobs one tenant may hold at once (0: no limit).")
    var maxJobsPerTenant = 0

    @Option(help: "Watches one tenant may have open at once (0: no limit).")
    var maxWatchesPerTenant = 0

    @Option(help: "Deletes and expiries kept, across tenants, for WatchJobs clients resuming from before them; an older cursor resyncs.")
    var watchRetainedRemovals = 10_000

    @Option(help: "Connections one client address may hold at once (0: no limit).")
    var maxConnectionsPerAddress = 4_096

    @OptionGroup(title: "Webhooks")
    var webhookOptions: WebhookOptions

    @OptionGroup(title: "TLS")
    var tlsOptions: TLSOptions

    @OptionGroup(title: "HTTP/JSON and Server-Sent Events")
    var http: HTTPOptions

    func validate() throws {
        if (checkStore || backupTo != nil) && storeOptions.dataDir == nil { throw ValidationError("--check-store and --backup-to need --data-dir") }
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
        guard (Limits.minMaxFrameBytes...(64 << 20)).contains(maxFrameBytes) else {
            throw ValidationError("--max-frame-bytes must be between \(Limits.minMaxFrameBytes) and \(64 << 20)")
        }
        guard maxConnections > 0, maxStreamsPerConnection > 0, maxOutputBufferBytes >= 64 * 1024 else {
            throw ValidationError("connection and stream limits must be positive; the output buffer at least 64 KiB")
        }
        let hosts = http.noHTTP ? [host] : [host, http.httpHost ?? host]
        if keys == nil && !allowUnauthenticated && hosts.contains(where: { !Self.isLoopback($0) }) && !checkStore && backupTo == nil {
            throw ValidationError("""
                refusing to listen on \(hosts.first { !Self.isLoopback($0) } ?? host) without API keys: anyone who can reach it could read, change and \
                cancel every job. Give --keys FILE (see `jobwire keys create`), listen on 127.0.0.1, or pass \
                --allow-unauthenticated if a trusted network or proxy guards the port.
                """)
        }
        guard maxJobsPerTenant >= 0, maxWatchesPerTenant >= 0, maxConnectionsPerAddress >= 0, watchRetainedRemovals >= 0 else {
            throw ValidationError("per-tenant and per-address limits must be 0 (no limit) or positive")
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        for (name, value) in [("--ping-interval", pingInterval), ("--bookmark-interval", bookmarkInterval),
                              ("--handshake-timeout", handshakeTimeout), ("--reaper-interval", reaperInterval)]
        where value.milliseconds < 10 || value.milliseconds > Int64(Int32.max) {
            throw ValidationError("\(name) must be between 10ms and 24d")
        }
    }

    func run() throws {
        if checkStore || backupTo != nil {
            try runStoreCommand()
            return
        }
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "jobwired")
        DescriptorLimit.raise(toServe: maxConnections + (http.noHTTP ? 0 : http.httpMaxConnections), logger: logger)

        var configuration = ServerConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.maxFrameBytes = maxFrameBytes
        configuration.maxConnections = maxConnections
        configuration.maxStreamsPerConnection = maxStreamsPerConnection
        configuration.maxOutputBufferBytes = maxOutputBufferBytes
        configuration.pingIntervalMs = Int(pingInterval.milliseconds)
        configuration.bookmarkIntervalMs = Int(bookmarkInterval.milliseconds)
        configuration.handshakeTimeoutMs = Int(handshakeTimeout.milliseconds)
        configuration.drainTimeoutMs = Int(drainTimeout.milliseconds)
        configuration.reaperIntervalMs = Int(reaperInterval.milliseconds)
        configuration.registry.retentionMs = retention.milliseconds
        configuration.registry.expiredRetentionMs = expiredRetention.milliseconds
        configuration.registry.streamHost = streamHost
        configuration.registry.streamPorts = streamPorts?.range
        configuration.registry.maxJobsPerTenant = maxJobsPerTenant
        configuration.registry.maxWatchesPerTenant = maxWatchesPerTenant
        configuration.registry.retainedRemovals = watchRetainedRemovals
        configuration.security.keyRate = rateLimit?.limit
        configuration.security.tenantRate = tenantRateLimit?.limit
        configuration.security.maxConnectionsPerAddress = maxConnectionsPerAddress
        configuration.tls = tlsOptions.files
        if let keys {
            do {
                configuration.security.keys = KeyRing(try KeysFile.loadForServing(path: keys))
                configuration.security.keysFile = keys
            } catch {
                logger.critical("cannot start: \(error)")
                throw ExitCode(1)
            }
        } else {
            logger.warning("no --keys: development mode (one tenant, every role, no authentication)")
        }

        let server: JobWireServer
        let boundPort: Int
        var httpConfiguration = http.configuration(defaultHost: host, maxOutputBufferBytes: maxOutputBufferBytes)
        httpConfiguration.tls = tlsOptions.files
        var httpFrontEnd: HTTPFrontEnd?
        var httpPort = 0
        let jobStore: any JobStore
        // A postgres node relays its ports to the writer while it waits for the writer lock.
        let standbyPorts = storeOptions.kind == .postgres
            ? StandbyPorts(binary: (host, port), http: http.noHTTP ? nil : (httpConfiguration.host, httpConfiguration.port),
                           advertiseHost: storeOptions.advertisedHost(listeningOn: host), logger: logger)
            : nil
        if standbyPorts != nil { StandbyPorts.catchStopSignals() }
        do {
            jobStore = try storeOptions.open(configuration.registry, logger: logger) { addresses in
                guard let standbyPorts else { return }
                do {
                    try standbyPorts.standingBy(addresses)
                } catch {
                    logger.critical("cannot start: the standby's ports: \(error)")
                    Glibc.exit(1)
                }
                if standbyPorts.stopRequested {
                    // Nothing to drain: relayed connections close, and their clients go on elsewhere.
                    standbyPorts.stop()
                    logger.info("signal: the standby stops")
                    Glibc.exit(0)
                }
            }
            if let standbyPorts, let ports = standbyPorts.boundPorts {
                // The lock is ours: the relay gives the ports back, and this node serves on them itself.
                standbyPorts.stop()
                configuration.port = ports.binary
                if let httpPort = ports.http { httpConfiguration.port = httpPort }
                logger.notice("this node now writes: the writer lock is taken")
            }
            let storedWebhooks = try jobStore.loadWebhooks()
            let endpoints = WebhookEndpoints(storedWebhooks.endpoints,
                                             progressIntervalMs: webhookOptions.webhookProgressInterval.milliseconds,
                                             maxPendingPerTenant: webhookOptions.webhookMaxPending)
            let dispatcher = WebhookDispatcher(endpoints: endpoints, store: jobStore,
                                               transport: HTTPWebhookTransport(policy: webhookOptions.policy),
                                               settings: webhookOptions.dispatcherSettings)
            var webhookSettings = WebhookService.Settings()
            webhookSettings.policy = webhookOptions.policy
            let webhooks = WebhookService(endpoints: endpoints, store: jobStore, dispatcher: dispatcher, settings: webhookSettings)
            server = try JobWireServer(configuration: configuration, store: jobStore, outbox: endpoints, webhooks: webhooks,
                                       logger: logger)
            // Delivering before serving: a message committed by the first call has somewhere to go.
            dispatcher.start(pending: storedWebhooks.pending)
            server.service.addHealthCheck { webhooks.health() }
            server.service.addMetricsSource { webhooks.writeMetrics(into: &$0) }
            boundPort = try server.start()
            if !http.noHTTP {
                let front = HTTPFrontEnd(server: server, configuration: httpConfiguration, logger: logger)
                httpPort = try front.start()
                httpFrontEnd = front
            }
            if let postgres = jobStore as? PostgresJobStore {
                let advertised = storeOptions.advertisedHost(listeningOn: host)
                try postgres.advertise(WriterAddresses(
                    binary: StandbyPorts.address(advertised, boundPort),
                    http: httpFrontEnd == nil ? "" : StandbyPorts.address(advertised, httpPort)))
            }
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(1)
        }

        // Writes to a closed socket must fail with EPIPE, not kill the process.
        signal(SIGPIPE, SIG_IGN)
        // A postgres node restarts itself when its store stops: it waits for the database and the writer lock
        // again, on the ports it has now.
        let restart = storeOptions.kind == .postgres
            ? SelfRestart(boundPort: boundPort, httpPort: httpFrontEnd == nil ? nil : httpPort) : nil
        let signals = SignalHandlers(server: server, http: httpFrontEnd, logger: logger, store: jobStore, restart: restart)
        signals.install()
        // A stop signal that came while this node stood by or loaded: the graceful shutdown it asked for.
        if standbyPorts?.stopRequested == true { raise(SIGTERM) }
        jobStore.onStop { reason in signals.storeStopped(reason) }

        // The ready lines on stdout, written directly so they are never held in a buffer.
        var readyText = "jobwired listening on \(host):\(boundPort)\n"
        if httpFrontEnd != nil {
            readyText += "jobwired http listening on \(httpConfiguration.host):\(httpPort)\n"
        }
        // A node that stood by printed them when its relay opened the same ports.
        if standbyPorts?.boundPorts == nil {
            let ready = Array(readyText.utf8)
            _ = ready.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
        }
        if httpFrontEnd != nil, httpConfiguration.dashboard {
            let host = httpConfiguration.host.contains(":") ? "[\(httpConfiguration.host)]" : httpConfiguration.host
            logger.info("dashboard at \(tlsOptions.files == nil ? "http" : "https")://\(host):\(httpPort)/")
        }
        if tlsOptions.files != nil {
            logger.info("both ports serve TLS\(tlsOptions.tlsClientCA == nil ? "" : " and require client certificates")")
        }
        logger.info("serving", metadata: ["store": "\(jobStore.kind)", "port": "\(boundPort)", "http-port": "\(httpPort)",
                                          "jobs": "\(server.registry.jobCount)"])
        // Nothing runs on the main queue, so the main thread only waits for signals
        // (their handler writes to the pipe; the rest happens on Dispatch queues). Not
        // dispatchMain(): it exits the main thread and parks a thread whose stack
        // AddressSanitizer no longer knows, and a signal handled there aborted ASan runs.
        // sigsuspend with an empty mask, as dispatchMain's thread did: Dispatch's workers
        // block signals, and a parent (Foundation's Process) may start us with them blocked.
        var nothingBlocked = sigset_t()
        sigemptyset(&nothingBlocked)
        withExtendedLifetime(signals) {
            while true { sigsuspend(&nothingBlocked) }
        }
    }
}

extension JobWired {
    /// Whether `host` names this machine's loopback interface, where listening without keys is allowed.
    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// `--check-store` and `--backup-to`: work on the store, print, exit.
    func runStoreCommand() throws {
        let directory = storeOptions.dataDir ?? "data"
        do {
            if let backupTo {
                try SQLiteJobStore.backup(directory: directory, to: backupTo)
                print("backup of \(directory) written to \(backupTo)")
                return
            }
            let report = try SQLiteJobStore.checkIntegrity(directory: directory)
            print(report.joined(separator: "\n"))
            if report != ["ok"] { throw ExitCode(2) }
        } catch let error as JobWireError {
            FileHandle.standardError.write(Data("jobwired: \(error.message)\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// SIGTERM and SIGINT start a graceful shutdown; a second one exits at once.
///
/// Race-free by construction: `sigaction` installs a handler synchronously
/// (a Dispatch signal source is armed asynchronously, and a signal arriving
/// in between — say, right after the ready line — would be lost), and the
/// handler only writes the signal number into a pipe (async-signal-safe).
/// A Dispatch read source on the pipe does the rest on an ordinary queue.
final class SignalHandlers: @unchecked Sendable {
    private let server: JobWireServer
    private let http: HTTPFrontEnd?
    private let logger: Logger
    private let store: any JobStore
    private let restart: SelfRestart?
    private let queue = DispatchQueue(label: "jobwired.signals")
    /// Owned by `queue`.
    private var source: DispatchSourceRead?
    private var stopping = false

    init(server: JobWireServer, http: HTTPFrontEnd?, logger: Logger, store: any JobStore, restart: SelfRestart?) {
        self.restart = restart
        self.server = server
        self.http = http
        self.logger = logger
        self.store = store
    }

    func install() {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            logger.critical("cannot create the signal pipe: \(String(cString: strerror(errno)))")
            exit(1)
        }
        _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
        _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
        signalPipe = fds[1]
        let readEnd = fds[0]
        queue.sync {
            let source = DispatchSource.makeReadSource(fileDescriptor: readEnd, queue: queue)
            // A strong capture, on purpose: the source and this object keep each other for the process's
            // life. The main thread's `withExtendedLifetime` does not: its closure never returns, so an
            // optimized build may release `signals` at once, cancelling the source; a release jobwired with
            // the memory store (nothing else holding it) then ignored SIGTERM.
            source.setEventHandler { [self] in
                var number: UInt8 = 0
                while read(readEnd, &number, 1) == 1 { self.received(Int32(number)) }
            }
            source.activate()
            self.source = source
        }
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { number in
            var byte = UInt8(truncatingIfNeeded: number)
            _ = write(signalPipe, &byte, 1)
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        for number in [SIGTERM, SIGINT, SIGHUP] {
            sigaction(number, &action, nil)
        }
    }

    /// The store failed a commit and took no more changes: drain (every call
    /// is already refused with STORE_UNAVAILABLE), then start again from what
    /// was committed: a postgres node in this same process (``SelfRestart``),
    /// any other by exiting with EX_TEMPFAIL for its supervisor to restart.
    func storeStopped(_ reason: JobWireError) {
        queue.async { [self] in
            if reason.reason == PostgresOutageStore.reconnected {
                logger.notice("\(reason.message)")
            } else {
                logger.critical("\(reason.message)")
            }
            stop(exitCode: Self.storeStoppedExitCode, restart: restart)
        }
    }

    /// EX_TEMPFAIL from sysexits.h: try again (restart) later.
    static let storeStoppedExitCode: Int32 = 75

    private func received(_ signalNumber: Int32) {
        if signalNumber == SIGHUP {
            if server.configuration.security.keysFile != nil {
                do {
                    try server.reloadKeys()
                    http?.keysReloaded()
                } catch {
                    logger.error("SIGHUP: keys not reloaded, the old ones stay: \(error)")
                }
            }
            if server.servesTLS {
                do {
                    try server.reloadTLS()
                    try http?.reloadTLS()
                    logger.info("SIGHUP: TLS certificate and key reloaded; new connections use them")
                } catch {
                    logger.error("SIGHUP: TLS files not reloaded, the old ones stay: \(error)")
                }
            }
            return
        }
        if stopping {
            logger.warning("second signal: exiting without waiting")
            exit(1)
        }
        logger.info("signal \(signalNumber): shutting down")
        stop(exitCode: 0)
    }

    /// Drains the server once, then exits with `exitCode` (or, with `restart`, runs jobwired afresh). Runs on `queue`.
    private func stop(exitCode: Int32, restart: SelfRestart? = nil) {
        guard !stopping else { return }
        stopping = true
        let logger = self.logger
        let store = self.store
        let server = self.server
        let drainTimeoutMs = server.configuration.drainTimeoutMs
        // HTTP first: its event streams end and its requests finish while the store still commits.
        let stopBinaryPort: @Sendable () -> Void = {
            server.shutdown {
                if let restart {
                    logger.notice("stopped; restarting from what the database holds")
                    restart.execute(logger: logger)
                }
                logger.info("stopped", metadata: ["store-commits": "\(store.commits)", "exit-status": "\(exitCode)"])
                exit(exitCode)
            }
        }
        if let http {
            http.shutdown(timeoutMs: drainTimeoutMs, completion: stopBinaryPort)
        } else {
            stopBinaryPort()
        }
    }
}

/// The write end of the signal pipe: set once before the handlers are
/// installed, then only read by the signal handler.
nonisolated(unsafe) private var signalPipe: Int32 = -1
