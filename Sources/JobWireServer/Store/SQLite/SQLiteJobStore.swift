import Dispatch
import Foundation
import JobWireProtocol
import JobWireSync
import Synchronization

/// The embedded durable store: SQLite in WAL mode in a data directory.
///
/// **Durability.** Every change the registry hands over (creates, status
/// transitions, cancels, results, errors, log lines, lease renewals, deletes,
/// expiries) is committed with `synchronous=FULL` before its completion runs,
/// and the registry replies only from that completion: an acknowledged write
/// survives a crash of the process or the machine. Nothing is coalesced.
///
/// **Group commit.** Changes queue up under a lock; one commit on the store's
/// own queue takes everything queued so far into a single transaction with a
/// single sync, then completes all of them. While it syncs, the next batch
/// gathers. The network queues never touch the disk.
///
/// **A failed commit stops the store.** SQLite rolls the transaction back,
/// but the registry has already applied those changes in memory, and later
/// changes build on them. So the first failure is final: the batch and every
/// later change fail with UNAVAILABLE / STORE_UNAVAILABLE, nothing is
/// acknowledged that is not on disk, and ``onStop(_:)`` tells the owner
/// (jobwired exits so that a restart starts again from what was committed).
///
/// **Damage is loud.** Opening runs `PRAGMA quick_check` and checks the
/// schema version; a damaged file or a newer schema throws DATA_LOSS /
/// FAILED_PRECONDITION instead of starting empty over existing data.
///
/// Threading: `database` and its statements are owned by `queue`; `pending`
/// is shared under its Mutex.
public final class SQLiteJobStore: JobStore, @unchecked Sendable {
    public static let schemaVersion: Int64 = 5
    public static let fileName = "jobwire.sqlite"

    public var kind: String { "sqlite" }
    public var state: String { stoppedBecause.map { "stopped: \($0.message)" } ?? "ok" }

    public let path: String
    private let database: SQLiteDatabase
    private let queue = DispatchQueue(label: "jobwire.store.sqlite", qos: .userInitiated)
    private let logLinesPerJob: Int
    private let historyPerJob: Int
    /// Changes waiting for the next commit, the commits' measures, and the stop.
    private let group: GroupCommit
    /// Whether opening already ran `quick_check` (before a migration); if
    /// not, ``load()`` runs it on a second connection beside reading the rows.
    private let integrityChecked: Bool
    /// A second connection for reading jobs' details on demand (WAL lets it
    /// read while the writer commits). Opened on first use.
    private let reader = Locked<DetailsReader?>(nil)

    /// Transactions committed so far (each one sync), for tests and stats.
    public var commits: Int { group.metrics.commits }

    /// The directory of the database file.
    public var dataDirectory: String? { (path as NSString).deletingLastPathComponent }

    /// The last transaction, from BEGIN to the end of its COMMIT's sync.
    public var lastCommitMicros: UInt64 { group.metrics.lastCommitMicros }

    public func writeMetrics(into text: inout PrometheusText) {
        group.metrics.write(into: &text)
    }

    private let statements: Statements
    private let webhookRows: SQLiteWebhookRows

    /// Statements prepared once and reused for every commit (BEGIN and
    /// COMMIT too: `sqlite3_exec` parsed them again for every group commit).
    private struct Statements {
        let begin: SQLiteStatement
        let commit: SQLiteStatement
        let upsertJob: SQLiteStatement
        let insertLabel: SQLiteStatement
        let deleteLabels: SQLiteStatement
        let insertLog: SQLiteStatement
        let trimLogs: SQLiteStatement
        let insertEvent: SQLiteStatement
        let trimEvents: SQLiteStatement
        let deleteJob: SQLiteStatement
        let deleteLogs: SQLiteStatement
        let deleteEvents: SQLiteStatement
        let insertTombstone: SQLiteStatement
        let deleteTombstone: SQLiteStatement
        let insertRemoval: SQLiteStatement
        let pruneRemovals: SQLiteStatement
        let setHorizon: SQLiteStatement
    }

    /// Opens (or creates) the store in `directory`.
    public init(directory: String, logLinesPerJob: Int = Limits.maxLogTail, historyPerJob: Int = 256) throws(JobWireError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw JobWireError(.failedPrecondition, "STORE_OPEN_FAILED", "cannot create the data directory \(directory): \(error)")
        }
        path = (directory as NSString).appendingPathComponent(Self.fileName)
        self.logLinesPerJob = logLinesPerJob
        self.historyPerJob = historyPerJob
        group = GroupCommit(queue: queue, recovery: "the server stops and restarts from what was committed",
                            metrics: CommitMetrics(durationHelp: "From a transaction's BEGIN to the end of its sync to disk."))
        database = try SQLiteDatabase(path: path)
        integrityChecked = try Self.openSchema(database)
        statements = try Self.prepareStatements(database)
        webhookRows = try SQLiteWebhookRows(database)
    }

    // MARK: Schema and checks

    /// Checks the schema version and migrates an older one. Returns whether
    /// it ran `quick_check`: it does before any migration, so a damaged file
    /// is never rewritten; otherwise ``load()`` runs it.
    private static func openSchema(_ database: SQLiteDatabase) throws(JobWireError) -> Bool {
        try database.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")
        let version = try database.integer("PRAGMA user_version")
        let tables = try database.integer("SELECT count(*) FROM sqlite_master WHERE type = 'table'")
        if version > schemaVersion {
            throw JobWireError(.failedPrecondition, "STORE_SCHEMA_TOO_NEW",
                               "\(database.path) has schema version \(version); this jobwired knows versions up to \(schemaVersion). Use a newer jobwired.")
        }
        if version == 0 && tables > 0 {
            throw JobWireError(.failedPrecondition, "STORE_UNKNOWN_SCHEMA",
                               "\(database.path) holds tables but no JobWire schema version; refusing to use it")
        }
        guard version < schemaVersion else { return false }
        try quickCheck(database)
        try SQLiteMigrations.migrate(database, from: version, to: schemaVersion)
        return true
    }

    /// SQLite's `quick_check`; it also fails on a file that is not a database at all.
    static func quickCheck(_ database: SQLiteDatabase) throws(JobWireError) {
        let check = try database.texts("PRAGMA quick_check")
        guard check == ["ok"] else {
            throw JobWireError(.dataLoss, Reason.storeDamaged,
                               "\(database.path) fails SQLite's integrity check: \(check.prefix(3).joined(separator: "; "))")
        }
    }

    private static func prepareStatements(_ database: SQLiteDatabase) throws(JobWireError) -> Statements {
        Statements(
            begin: try database.prepare("BEGIN IMMEDIATE"),
            commit: try database.prepare("COMMIT"),
            upsertJob: try database.prepare("""
                INSERT INTO jobs (sequence, job_id, job, request_id, request_fingerprint, lease_ttl_ms, tenant, type,
                                  priority, status, created_at_ms, expires_at_ms, lease_expires_at_ms, stream_port,
                                  log_line_count, revision, current_task, updated_at_ms, completed_at_ms, change_sequence)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)
                ON CONFLICT (sequence) DO UPDATE SET job = excluded.job, lease_ttl_ms = excluded.lease_ttl_ms,
                    priority = excluded.priority, status = excluded.status, expires_at_ms = excluded.expires_at_ms,
                    lease_expires_at_ms = excluded.lease_expires_at_ms, stream_port = excluded.stream_port,
                    log_line_count = excluded.log_line_count, revision = excluded.revision,
                    current_task = excluded.current_task, updated_at_ms = excluded.updated_at_ms,
                    completed_at_ms = excluded.completed_at_ms, change_sequence = excluded.change_sequence
                """),
            insertLabel: try database.prepare("INSERT OR REPLACE INTO job_labels (sequence, key, value) VALUES (?1, ?2, ?3)"),
            deleteLabels: try database.prepare("DELETE FROM job_labels WHERE sequence = ?1"),
            insertLog: try database.prepare("INSERT OR REPLACE INTO log_lines (sequence, seq, line) VALUES (?1, ?2, ?3)"),
            trimLogs: try database.prepare("DELETE FROM log_lines WHERE sequence = ?1 AND seq < ?2"),
            insertEvent: try database.prepare(
                "INSERT OR REPLACE INTO events (sequence, revision, event, transition) VALUES (?1, ?2, ?3, ?4)"),
            trimEvents: try database.prepare("DELETE FROM events WHERE sequence = ?1 AND revision <= ?2"),
            deleteJob: try database.prepare("DELETE FROM jobs WHERE sequence = ?1"),
            deleteLogs: try database.prepare("DELETE FROM log_lines WHERE sequence = ?1"),
            deleteEvents: try database.prepare("DELETE FROM events WHERE sequence = ?1"),
            insertTombstone: try database.prepare(
                "INSERT OR REPLACE INTO tombstones (job_id, tenant, forget_at_ms) VALUES (?1, ?2, ?3)"),
            deleteTombstone: try database.prepare("DELETE FROM tombstones WHERE job_id = ?1"),
            insertRemoval: try database.prepare("INSERT OR REPLACE INTO removals (sequence, tenant, job_id) VALUES (?1, ?2, ?3)"),
            pruneRemovals: try database.prepare("DELETE FROM removals WHERE sequence <= ?1"),
            setHorizon: try database.prepare("UPDATE meta SET value = ?1 WHERE key = 'removal_horizon'"))
    }

    /// SQLite's full integrity check of the store in `directory` (for
    /// `jobwired --check-store`): ["ok"] when healthy, else the problems.
    public static func checkIntegrity(directory: String) throws(JobWireError) -> [String] {
        let path = (directory as NSString).appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: path) else {
            throw JobWireError(.notFound, "STORE_NOT_FOUND", "no store at \(path)")
        }
        let database = try SQLiteDatabase(path: path, readOnly: true)
        let version = try database.integer("PRAGMA user_version")
        var report = try database.texts("PRAGMA integrity_check")
        if version != schemaVersion {
            report.append("schema version \(version), this jobwired knows \(schemaVersion)")
        }
        return report
    }

    /// Writes a consistent copy of the store in `directory` to `file` while the
    /// server may be running (SQLite's `VACUUM INTO` reads one snapshot).
    public static func backup(directory: String, to file: String) throws(JobWireError) {
        let path = (directory as NSString).appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: path) else {
            throw JobWireError(.notFound, "STORE_NOT_FOUND", "no store at \(path)")
        }
        guard !FileManager.default.fileExists(atPath: file) else {
            throw JobWireError(.alreadyExists, "BACKUP_EXISTS", "\(file) exists; choose a new file")
        }
        let database = try SQLiteDatabase(path: path)
        try database.execute("VACUUM INTO '\(file.replacingOccurrences(of: "'", with: "''"))'")
    }

    // MARK: Loading

    private static let loadBatchSize = 2_048
    /// Ends the reader when the registry refused a job; never seen by callers
    /// (the registry's own error is thrown).
    private static let loadCancelled = JobWireError(.cancelled, "LOAD_CANCELLED", "start-up stopped reading")

    public func load(expect: (Int) -> Void,
                     restore: (StoredJob) throws(JobWireError) -> Void) throws(JobWireError) -> [StoredTombstone] {
        try queue.sync {
            Result { () throws(JobWireError) -> [StoredTombstone] in try loadOnQueue(expect, restore) }
        }.get()
    }

    /// Reads every job's summary columns and stored bytes in creation order,
    /// with its labels (one merge pass over both tables) and the tombstones.
    /// Log lines and history stay on disk for ``loadDetails(sequence:)``.
    /// When opening did not already check the file, `quick_check` runs on a
    /// second connection at the same time, and its verdict wins.
    private func loadOnQueue(_ expect: (Int) -> Void,
                             _ restore: (StoredJob) throws(JobWireError) -> Void) throws(JobWireError) -> [StoredTombstone] {
        let check = integrityChecked ? nil : BackgroundCheck(path: path)
        let database = self.database
        let tombstones = Result { () throws(JobWireError) -> [StoredTombstone] in
            expect(Int(try database.integer("SELECT count(*) FROM jobs")))
            // The connection is the reader thread's until the pipeline ends;
            // this queue waits for it meanwhile.
            let handedOver = HandedOverDatabase(database: database)
            let rows = RowPipeline<StoredJob>(batchesInFlight: 4) { (send) throws(JobWireError) in
                var batch: [StoredJob] = []
                batch.reserveCapacity(Self.loadBatchSize)
                try SQLiteJobRows.forEachJob(in: handedOver.database) { (job) throws(JobWireError) in
                    batch.append(job)
                    if batch.count == Self.loadBatchSize {
                        guard send(batch) else { throw Self.loadCancelled }
                        batch.removeAll(keepingCapacity: true)
                    }
                }
                if !batch.isEmpty { _ = send(batch) }
            }
            try rows.consume { (batch) throws(JobWireError) in
                for job in batch { try restore(job) }
            }
            return try SQLiteJobRows.tombstones(in: database)
        }
        try check?.wait()
        return try tombstones.get()
    }

    public func loadDetails(sequence: UInt64) throws(JobWireError) -> StoredDetails {
        try reader.withLock { (reader) throws(JobWireError) -> StoredDetails in
            if reader == nil {
                reader = try DetailsReader(path: path)
            }
            guard let open = reader else { return StoredDetails() }
            do throws(JobWireError) {
                return try open.details(sequence: sequence)
            } catch {
                throw error.code == .dataLoss
                    ? error
                    : JobWireError(.unavailable, Reason.storeUnavailable, "the store could not be read: \(error.message)")
            }
        }
    }

    // MARK: Group commit

    public func persist(_ change: StoredChange, completion: @escaping @Sendable (Result<Void, JobWireError>) -> Void) {
        group.persist(change, completion: completion) { self.commitPending() }
    }

    public var stoppedBecause: JobWireError? { group.stoppedBecause }

    /// Runs `handler` (on the store's queue) when a commit fails and the store stops.
    public func onStop(_ handler: @escaping @Sendable (JobWireError) -> Void) {
        group.onStop(handler)
    }

    /// Commits everything posted so far in one transaction and one sync, then
    /// completes it all. Changes posted meanwhile schedule the next commit.
    private func commitPending() {
        group.commitPending { (changes) throws(JobWireError) in
            try statements.begin.run()
            do throws(JobWireError) {
                for change in changes { try apply(change, statements) }
                try statements.commit.run()
            } catch {
                try? database.execute("ROLLBACK")
                throw error
            }
        }
    }

    private func apply(_ change: StoredChange, _ statements: Statements) throws(JobWireError) {
        switch change {
        case .put(let update):
            let key = SQLiteValue.integer(Int64(bitPattern: update.sequence))
            let job = update.summary
            try statements.upsertJob.bind(key, .text(job.jobID), .blob(update.encodedJob), .text(update.requestID),
                                          .integer(Int64(bitPattern: update.requestFingerprint)),
                                          .integer(Int64(update.leaseTTLMs)), .text(job.tenant), .text(job.type),
                                          .integer(Int64(job.priority)), .integer(Int64(job.status.rawValue)),
                                          .integer(job.createdAtMs), .integer(job.expiresAtMs), .integer(job.leaseExpiresAtMs),
                                          .integer(Int64(job.streamPort)), .integer(Int64(bitPattern: job.logLineCount)),
                                          .integer(Int64(bitPattern: job.revision)), .text(job.currentTask),
                                          .integer(job.updatedAtMs), .integer(job.completedAtMs),
                                          .integer(Int64(bitPattern: update.changeSequence))).run()
            // Labels are set by Configure and never change: written with the first revision.
            if job.revision == 1 {
                for (labelKey, value) in job.labels {
                    try statements.insertLabel.bind(key, .text(labelKey), .text(value)).run()
                }
            }
            if !update.appendedLogLines.isEmpty {
                let first = Int64(job.logLineCount) - Int64(update.appendedLogLines.count)
                for (offset, line) in update.appendedLogLines.enumerated() {
                    try statements.insertLog.bind(key, .integer(first + Int64(offset)), .text(line)).run()
                }
                let keepFrom = Int64(job.logLineCount) - Int64(logLinesPerJob)
                if keepFrom > 0 { try statements.trimLogs.bind(key, .integer(keepFrom)).run() }
            }
            // The creation event (revision 1) is never replayed: a watch from
            // revision 0 starts with a snapshot, and one resuming after
            // revision R ≥ 1 needs R + 1 onwards. Leaving it out spares every
            // create a row as large as the job itself.
            let event = update.appendedEvent
            if event.revision > 1 {
                try statements.insertEvent.bind(key, .integer(Int64(bitPattern: event.revision)), .blob(event.encodedEvent),
                                                .integer(event.isStatusTransition ? 1 : 0)).run()
            }
            let dropThrough = Int64(bitPattern: event.revision) - Int64(historyPerJob)
            if dropThrough > 0 { try statements.trimEvents.bind(key, .integer(dropThrough)).run() }
            for message in update.outbox { try webhookRows.insert(message) }
        case .remove(_, let sequence, let removal):
            try forgetJob(sequence, statements)
            try insertRemoval(removal, statements)
        case .expire(let tombstone, let sequence, let removal):
            try forgetJob(sequence, statements)
            try insertRemoval(removal, statements)
            try statements.insertTombstone.bind(.text(tombstone.jobID), .text(tombstone.tenant),
                                                .integer(tombstone.forgetAtMs)).run()
        case .forget(let jobID):
            try statements.deleteTombstone.bind(.text(jobID)).run()
        case .pruneRemovals(let horizon):
            let through = SQLiteValue.integer(Int64(bitPattern: horizon))
            try statements.pruneRemovals.bind(through).run()
            try statements.setHorizon.bind(.text(String(horizon))).run()
        case .webhook(let change):
            try webhookRows.apply(change)
        }
    }

    private func insertRemoval(_ removal: StoredRemoval, _ statements: Statements) throws(JobWireError) {
        try statements.insertRemoval.bind(.integer(Int64(bitPattern: removal.sequence)), .text(removal.tenant),
                                          .text(removal.jobID)).run()
    }

    public func loadWebhooks() throws(JobWireError) -> StoredWebhooks {
        try queue.sync {
            Result { () throws(JobWireError) -> StoredWebhooks in try SQLiteWebhookRows.load(in: database) }
        }.get()
    }

    public func webhookDeliveries(endpointID: String, limit: Int,
                                  completion: @escaping @Sendable (Result<[StoredDelivery], JobWireError>) -> Void) {
        queue.async { [self] in
            completion(Result { () throws(JobWireError) in
                try SQLiteWebhookRows.deliveries(in: database, endpointID: endpointID, limit: limit)
            })
        }
    }

    public func webhookMessage(messageID: String,
                               completion: @escaping @Sendable (Result<StoredOutboxMessage?, JobWireError>) -> Void) {
        queue.async { [self] in
            completion(Result { () throws(JobWireError) in try SQLiteWebhookRows.message(in: database, messageID: messageID) })
        }
    }

    public func loadChangeLog() throws(JobWireError) -> StoredChangeLog {
        try queue.sync {
            Result { () throws(JobWireError) -> StoredChangeLog in try SQLiteJobRows.changeLog(in: database) }
        }.get()
    }

    private func forgetJob(_ sequence: UInt64, _ statements: Statements) throws(JobWireError) {
        let key = SQLiteValue.integer(Int64(bitPattern: sequence))
        try statements.deleteJob.bind(key).run()
        try statements.deleteLogs.bind(key).run()
        try statements.deleteEvents.bind(key).run()
        try statements.deleteLabels.bind(key).run()
    }
}
