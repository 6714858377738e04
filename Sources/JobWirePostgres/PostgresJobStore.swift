import Dispatch
import Foundation
import JobWireProtocol
import JobWireServer
import JobWireSync
import Synchronization

/// Where the writing node serves, as `host:port` ("" for a port it does not open).
public struct WriterAddresses: Sendable, Equatable {
    public var binary: String
    public var http: String

    public init(binary: String, http: String) {
        self.binary = binary
        self.http = http
    }
}

/// The networked durable store: PostgreSQL, shared by several jobwired nodes
/// of which exactly one writes at a time (docs/ARCHITECTURE.md, "Several
/// nodes on PostgreSQL").
///
/// **One writer, fenced by PostgreSQL.** Opening takes the session-level
/// advisory lock ``writerLockKey`` on the connection every commit then goes
/// through; another node opening the same database waits for it (a
/// standby). PostgreSQL releases the lock only when that session ends, and a
/// session that ended can commit nothing more: a node that lost its
/// connection (crashed, cut off, the database restarted) cannot acknowledge
/// another write, so two nodes never both write.
///
/// **Durability.** As with SQLite: every change is committed (PostgreSQL's
/// own `synchronous_commit`, and replication if the operator set it up)
/// before its completion runs, in the order the registry handed them over,
/// several per transaction (group commit) on the store's own queue.
///
/// **A failure stops the store** (as with SQLite): the first failed commit,
/// or a lost connection found by the idle heartbeat, fails every later
/// change, and ``onStop(_:)`` tells the owner (jobwired restarts itself from
/// what the database holds; see OPERATIONS.md).
///
/// Threading: the writer's connection and statements are owned by `queue`;
/// the details reader by its Mutex; the group commit's state under its own locks.
public final class PostgresJobStore: JobStore, @unchecked Sendable {
    /// `pg_advisory_lock` key held by the writing node ("jobwir").
    public static let writerLockKey: Int64 = 0x6A6F_6277_6972
    /// How often an idle writer checks that its connection (and so its lock) still stands.
    static let heartbeatIntervalMs = 1_000
    /// How often a standby asks for the writer lock.
    static let standbyPollMs: UInt32 = 200

    public var kind: String { "postgres" }
    public var state: String { stoppedBecause.map { "stopped: \($0.message)" } ?? "ok" }

    private let url: String
    private let queue = DispatchQueue(label: "jobwire.store.postgres", qos: .userInitiated)
    private let statements: PostgresStatements
    /// Changes waiting for the next commit, the commits' measures, and the stop.
    private let group: GroupCommit
    private let lastActivityNs = Atomic<UInt64>(0)
    private let heartbeat: DispatchSourceTimer
    /// A second connection for jobs' details on demand (the writer's is the queue's). Opened with the store, so that
    /// the first read of a job's details (under the registry's lock) does not wait for a connection; opened again on
    /// demand if it was lost.
    private let reader: Locked<PostgresConnection?>

    public var commits: Int { group.metrics.commits }
    public var lastCommitMicros: UInt64 { group.metrics.lastCommitMicros }

    public func writeMetrics(into text: inout PrometheusText) {
        group.metrics.write(into: &text)
    }

    /// Connects to `url`, migrates the schema, and takes the writer lock,
    /// waiting as a standby while another node holds it: `whileStandby` is
    /// called at each attempt that finds the lock taken, with the addresses
    /// the writer advertised (``advertise(_:)``). Throws UNAVAILABLE /
    /// STORE_UNAVAILABLE when the database cannot be reached.
    public init(url: String, logLinesPerJob: Int = Limits.maxLogTail, historyPerJob: Int = 256,
                whileStandby: (WriterAddresses) -> Void = { _ in }) throws(JobWireError) {
        self.url = url
        group = GroupCommit(queue: queue, recovery: "the server restarts from what PostgreSQL holds",
                            metrics: CommitMetrics(durationHelp: "From a transaction's BEGIN to the end of its COMMIT on PostgreSQL."))
        let connection = try PostgresConnection(url: url, applicationName: "jobwired")
        try PostgresMigrations.migrate(connection)
        try Self.takeWriterLock(connection, whileStandby: whileStandby)
        statements = try PostgresStatements(connection, logLinesPerJob: logLinesPerJob, historyPerJob: historyPerJob)
        reader = Locked(try PostgresConnection(url: url, applicationName: "jobwired details"))
        heartbeat = DispatchSource.makeTimerSource(queue: queue)
        lastActivityNs.store(MonotonicClock.nowNs(), ordering: .relaxed)
        heartbeat.schedule(deadline: .now() + .milliseconds(Self.heartbeatIntervalMs),
                           repeating: .milliseconds(Self.heartbeatIntervalMs))
        heartbeat.setEventHandler { [weak self] in self?.beat() }
        heartbeat.resume()
    }

    deinit {
        heartbeat.cancel()
    }

    /// Waits until this session holds the writer lock, asking every
    /// ``standbyPollMs`` (a blocking `pg_advisory_lock` would leave a lost
    /// connection unnoticed until TCP gave up), and reading where the writer
    /// serves with each attempt.
    private static func takeWriterLock(_ connection: PostgresConnection,
                                       whileStandby: (WriterAddresses) -> Void) throws(JobWireError) {
        while true {
            let rows = try connection.query("""
                SELECT pg_try_advisory_lock($1),
                       coalesce((SELECT value FROM meta WHERE key = 'writer_binary'), ''),
                       coalesce((SELECT value FROM meta WHERE key = 'writer_http'), '')
                """, [.int8(writerLockKey)])
            if rows.int64(0, 0) != 0 { return }
            whileStandby(WriterAddresses(binary: rows.text(0, 1), http: rows.text(0, 2)))
            usleep(standbyPollMs * 1_000)
        }
    }

    /// Records where this node serves, for the standbys' relays: called once
    /// its ports are open. Written through the writer's own session, so only
    /// the node holding the lock can say it is the writer.
    public func advertise(_ addresses: WriterAddresses) throws(JobWireError) {
        try onQueue { connection throws(JobWireError) in
            _ = try connection.query("""
                INSERT INTO meta (key, value) VALUES ('writer_binary', $1), ('writer_http', $2)
                ON CONFLICT (key) DO UPDATE SET value = excluded.value
                """, [.text(addresses.binary), .text(addresses.http)])
        }
    }

    // MARK: Loading

    /// Ends the reader when the registry refused a job; never seen by callers (the registry's own error is thrown).
    private static let loadCancelled = JobWireError(.cancelled, "LOAD_CANCELLED", "start-up stopped reading")

    public func load(expect: (Int) -> Void,
                     restore: (StoredJob) throws(JobWireError) -> Void) throws(JobWireError) -> [StoredTombstone] {
        try onQueue { connection throws(JobWireError) in
            expect(try PostgresJobRows.count(in: connection))
            // Fetching and decoding the rows on one thread, building the registry on this one, side by side (as
            // the SQLite store does). The queue waits meanwhile, so the connection is the reader's alone.
            let handedOver = HandedOverConnection(connection: connection)
            let rows = RowPipeline<StoredJob>(batchesInFlight: 4) { (send) throws(JobWireError) in
                try PostgresJobRows.forEachBatch(in: handedOver.connection) { (batch) throws(JobWireError) in
                    guard send(batch) else { throw Self.loadCancelled }
                }
            }
            try rows.consume { (batch) throws(JobWireError) in
                for job in batch { try restore(job) }
            }
            return try PostgresJobRows.tombstones(in: connection)
        }
    }

    public func loadChangeLog() throws(JobWireError) -> StoredChangeLog {
        try onQueue { connection throws(JobWireError) in try PostgresJobRows.changeLog(in: connection) }
    }

    public func loadWebhooks() throws(JobWireError) -> StoredWebhooks {
        try onQueue { connection throws(JobWireError) in try PostgresWebhookRows.load(in: connection) }
    }

    public func loadDetails(sequence: UInt64) throws(JobWireError) -> StoredDetails {
        try reader.withLock { (reader) throws(JobWireError) -> StoredDetails in
            if reader == nil || reader?.isOpen == false {
                reader = try PostgresConnection(url: url, applicationName: "jobwired details")
            }
            guard let connection = reader else { return StoredDetails() }
            do throws(JobWireError) {
                return try PostgresJobRows.details(in: connection, sequence: sequence)
            } catch {
                throw error.code == .dataLoss
                    ? error
                    : JobWireError(.unavailable, Reason.storeUnavailable, "the store could not be read: \(error.message)")
            }
        }
    }

    public func webhookDeliveries(endpointID: String, limit: Int,
                                  completion: @escaping @Sendable (Result<[StoredDelivery], JobWireError>) -> Void) {
        queue.async { [self] in
            completion(Result { () throws(JobWireError) in
                try PostgresWebhookRows.deliveries(in: statements.connection, endpointID: endpointID, limit: limit)
            })
        }
    }

    public func webhookMessage(messageID: String,
                               completion: @escaping @Sendable (Result<StoredOutboxMessage?, JobWireError>) -> Void) {
        queue.async { [self] in
            completion(Result { () throws(JobWireError) in
                try PostgresWebhookRows.message(in: statements.connection, messageID: messageID)
            })
        }
    }

    /// Runs `body` with the writer's connection on the store's queue and waits for it (start-up only).
    private func onQueue<Value: Sendable>(
        _ body: (PostgresConnection) throws(JobWireError) -> Value
    ) throws(JobWireError) -> Value {
        try queue.sync {
            Result { () throws(JobWireError) -> Value in try body(statements.connection) }
        }.get()
    }

    // MARK: Group commit

    public func persist(_ change: StoredChange, completion: @escaping @Sendable (Result<Void, JobWireError>) -> Void) {
        group.persist(change, completion: completion) { self.commitPending() }
    }

    public var stoppedBecause: JobWireError? { group.stoppedBecause }

    public func onStop(_ handler: @escaping @Sendable (JobWireError) -> Void) {
        group.onStop(handler)
    }

    /// Stops the store (the group commit's stop, and no more heartbeats).
    private func stop(_ error: JobWireError) {
        heartbeat.cancel()
        group.stop(error)
    }

    /// Commits everything posted so far in one transaction, sent as a pipeline: BEGIN, every change's statements,
    /// COMMIT, then the answers.
    private func commitPending() {
        group.commitPending { (changes) throws(JobWireError) in
            let connection = statements.connection
            try connection.beginPipeline()
            try connection.write("BEGIN")
            for change in changes { try statements.apply(change) }
            try connection.write("COMMIT")
            try connection.endPipeline()
            lastActivityNs.store(MonotonicClock.nowNs(), ordering: .relaxed)
        }
        if stoppedBecause != nil { heartbeat.cancel() }
    }

    /// On the queue, every ``heartbeatIntervalMs``: when nothing was committed
    /// for that long, a round trip proves the session (and with it the writer
    /// lock) still stands; when it does not, the store stops at once.
    private func beat() {
        guard stoppedBecause == nil else { return }
        let nowNs = MonotonicClock.nowNs()
        guard nowNs &- lastActivityNs.load(ordering: .relaxed) >= UInt64(Self.heartbeatIntervalMs) * 1_000_000 else { return }
        do throws(JobWireError) {
            try statements.connection.execute("SELECT 1")
            lastActivityNs.store(nowNs, ordering: .relaxed)
        } catch {
            stop(error)
        }
    }
}
