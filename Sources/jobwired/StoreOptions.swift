import ArgumentParser
import Foundation
import JobWirePostgres
import JobWireProtocol
import JobWireServer
import Logging

/// Where jobs live (docs/OPERATIONS.md, "Stores"): memory, SQLite in a data
/// directory, or PostgreSQL shared by several nodes.
struct StoreOptions: ParsableArguments {
    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case memory
        case sqlite
        case postgres
    }

    @Option(help: """
        Job store: sqlite (durable, in --data-dir; the default when --data-dir is given), postgres (several nodes on one \
        database, --database-url; the default when it is given) or memory (lost at exit).
        """)
    var store: Kind?

    @Option(help: "Data directory of the sqlite store.")
    var dataDir: String?

    @Option(help: ArgumentHelp(
        "PostgreSQL connection URL of the postgres store (postgres://user:password@host:port/database?sslmode=…); defaults to $JOBWIRE_DATABASE_URL.",
        valueName: "url"))
    var databaseURL: String?

    @Option(help: "The host other nodes relay to, with this node's ports, once it writes (default: --host, or this machine's name when --host is a wildcard).")
    var advertiseHost: String?

    /// `--advertise-host`, else `--host` unless it listens on every address, else the machine's name.
    func advertisedHost(listeningOn host: String) -> String {
        if let advertiseHost { return advertiseHost }
        guard host == "0.0.0.0" || host == "::" || host.isEmpty else { return host }
        return ProcessInfo.processInfo.hostName
    }

    /// The URL from the option or the environment.
    var resolvedDatabaseURL: String? {
        databaseURL ?? ProcessInfo.processInfo.environment["JOBWIRE_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// --store when given; else postgres for --database-url, sqlite for --data-dir, postgres for
    /// JOBWIRE_DATABASE_URL, and memory.
    var kind: Kind {
        if let store { return store }
        if databaseURL != nil { return .postgres }
        if dataDir != nil { return .sqlite }
        return resolvedDatabaseURL == nil ? .memory : .postgres
    }

    func validate() throws {
        if store == .sqlite && dataDir == nil { throw ValidationError("--store sqlite needs --data-dir") }
        if store == .postgres && resolvedDatabaseURL == nil {
            throw ValidationError("--store postgres needs --database-url or JOBWIRE_DATABASE_URL")
        }
        if databaseURL != nil && store != nil && store != .postgres {
            throw ValidationError("--database-url is for --store postgres")
        }
    }

    /// Opens the store. The postgres store waits for its database (retrying
    /// with backoff while it is unreachable) and, while another node holds
    /// the writer lock, as a standby.
    func open(_ registry: RegistryConfiguration, logger: Logger,
              whileStandby: @escaping (WriterAddresses) -> Void = { _ in }) throws(JobWireError) -> any JobStore {
        switch kind {
        case .memory:
            return InMemoryJobStore()
        case .sqlite:
            return try SQLiteJobStore(directory: dataDir ?? "data", logLinesPerJob: registry.logLinesPerJob,
                                      historyPerJob: registry.historyPerJob)
        case .postgres:
            return try Self.openPostgres(url: resolvedDatabaseURL ?? "", registry, logger: logger, whileStandby: whileStandby)
        }
    }

    /// The postgres store; while the database cannot be reached, the outage store (every call refused, Health
    /// NOT_SERVING) that restarts the node once it answers.
    private static func openPostgres(url: String, _ registry: RegistryConfiguration, logger: Logger,
                                     whileStandby: (WriterAddresses) -> Void) throws(JobWireError) -> any JobStore {
        do throws(JobWireError) {
            return try PostgresJobStore(url: url, logLinesPerJob: registry.logLinesPerJob,
                                        historyPerJob: registry.historyPerJob, whileStandby: whileStandby)
        } catch where error.code == .unavailable {
            logger.warning("PostgreSQL unavailable: serving NOT_SERVING, refusing every call, until it answers: \(error.message)")
            return PostgresOutageStore(url: url, failure: error)
        }
    }
}
