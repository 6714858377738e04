import JobWireProtocol
import JobWireServer

/// The writer's statements, prepared once on its connection and run for
/// every change (docs/ARCHITECTURE.md, "PostgreSQL store").
///
/// Owned by ``PostgresJobStore``'s queue, with the connection.
final class PostgresStatements {
    let connection: PostgresConnection
    private let logLinesPerJob: Int
    private let historyPerJob: Int

    private let upsertJob: PostgresConnection.Statement
    private let insertLog: PostgresConnection.Statement
    private let trimLogs: PostgresConnection.Statement
    private let insertEvent: PostgresConnection.Statement
    private let trimEvents: PostgresConnection.Statement
    private let deleteJob: PostgresConnection.Statement
    private let deleteLogs: PostgresConnection.Statement
    private let deleteEvents: PostgresConnection.Statement
    private let insertTombstone: PostgresConnection.Statement
    private let deleteTombstone: PostgresConnection.Statement
    private let insertRemoval: PostgresConnection.Statement
    private let pruneRemovals: PostgresConnection.Statement
    private let setHorizon: PostgresConnection.Statement
    private let webhooks: PostgresWebhookRows

    init(_ connection: PostgresConnection, logLinesPerJob: Int, historyPerJob: Int) throws(JobWireError) {
        self.connection = connection
        self.logLinesPerJob = logLinesPerJob
        self.historyPerJob = historyPerJob
        upsertJob = try connection.prepare("""
            INSERT INTO jobs (sequence, job_id, job, request_id, request_fingerprint, lease_ttl_ms, tenant, type, labels,
                              priority, status, created_at_ms, expires_at_ms, lease_expires_at_ms, stream_port,
                              log_line_count, revision, current_task, updated_at_ms, completed_at_ms, change_sequence)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
            ON CONFLICT (sequence) DO UPDATE SET job = excluded.job, lease_ttl_ms = excluded.lease_ttl_ms,
                priority = excluded.priority, status = excluded.status, expires_at_ms = excluded.expires_at_ms,
                lease_expires_at_ms = excluded.lease_expires_at_ms, stream_port = excluded.stream_port,
                log_line_count = excluded.log_line_count, revision = excluded.revision,
                current_task = excluded.current_task, updated_at_ms = excluded.updated_at_ms,
                completed_at_ms = excluded.completed_at_ms, change_sequence = excluded.change_sequence
            """)
        insertLog = try connection.prepare("""
            INSERT INTO log_lines (sequence, seq, line) VALUES ($1, $2, $3)
            ON CONFLICT (sequence, seq) DO UPDATE SET line = excluded.line
            """)
        trimLogs = try connection.prepare("DELETE FROM log_lines WHERE sequence = $1 AND seq < $2")
        insertEvent = try connection.prepare("""
            INSERT INTO events (sequence, revision, event, transition) VALUES ($1, $2, $3, $4)
            ON CONFLICT (sequence, revision) DO UPDATE SET event = excluded.event, transition = excluded.transition
            """)
        trimEvents = try connection.prepare("DELETE FROM events WHERE sequence = $1 AND revision <= $2")
        deleteJob = try connection.prepare("DELETE FROM jobs WHERE sequence = $1")
        deleteLogs = try connection.prepare("DELETE FROM log_lines WHERE sequence = $1")
        deleteEvents = try connection.prepare("DELETE FROM events WHERE sequence = $1")
        insertTombstone = try connection.prepare("""
            INSERT INTO tombstones (job_id, tenant, forget_at_ms) VALUES ($1, $2, $3)
            ON CONFLICT (job_id) DO UPDATE SET tenant = excluded.tenant, forget_at_ms = excluded.forget_at_ms
            """)
        deleteTombstone = try connection.prepare("DELETE FROM tombstones WHERE job_id = $1")
        insertRemoval = try connection.prepare("""
            INSERT INTO removals (sequence, tenant, job_id) VALUES ($1, $2, $3)
            ON CONFLICT (sequence) DO UPDATE SET tenant = excluded.tenant, job_id = excluded.job_id
            """)
        pruneRemovals = try connection.prepare("DELETE FROM removals WHERE sequence <= $1")
        setHorizon = try connection.prepare("UPDATE meta SET value = $1 WHERE key = 'removal_horizon'")
        webhooks = try PostgresWebhookRows(connection)
    }

    /// Sends one change's statements in the caller's transaction and pipeline.
    func apply(_ change: StoredChange) throws(JobWireError) {
        switch change {
        case .put(let update):
            try put(update)
        case .remove(_, let sequence, let removal):
            try forgetJob(sequence)
            try insert(removal)
        case .expire(let tombstone, let sequence, let removal):
            try forgetJob(sequence)
            try insert(removal)
            try connection.write(insertTombstone, [.text(tombstone.jobID), .text(tombstone.tenant), .int8(tombstone.forgetAtMs)])
        case .forget(let jobID):
            try connection.write(deleteTombstone, [.text(jobID)])
        case .pruneRemovals(let horizon):
            try connection.write(pruneRemovals, [.int8(Int64(bitPattern: horizon))])
            try connection.write(setHorizon, [.text(String(horizon))])
        case .webhook(let change):
            try webhooks.apply(change)
        }
    }

    private func put(_ update: StoredJobChange) throws(JobWireError) {
        let key = PostgresValue.int8(Int64(bitPattern: update.sequence))
        let job = update.summary
        try connection.write(upsertJob, [
            key, .text(job.jobID), .bytea(update.encodedJob), .text(update.requestID),
            .int8(Int64(bitPattern: update.requestFingerprint)), .int8(Int64(update.leaseTTLMs)), .text(job.tenant),
            .text(job.type), .text(StoredText.pairs(job.labels)), .int8(Int64(job.priority)),
            .int8(Int64(job.status.rawValue)), .int8(job.createdAtMs), .int8(job.expiresAtMs), .int8(job.leaseExpiresAtMs),
            .int8(Int64(job.streamPort)), .int8(Int64(bitPattern: job.logLineCount)), .int8(Int64(bitPattern: job.revision)),
            .text(job.currentTask), .int8(job.updatedAtMs), .int8(job.completedAtMs),
            .int8(Int64(bitPattern: update.changeSequence)),
        ])
        if !update.appendedLogLines.isEmpty {
            let first = Int64(job.logLineCount) - Int64(update.appendedLogLines.count)
            for (offset, line) in update.appendedLogLines.enumerated() {
                try connection.write(insertLog, [key, .int8(first + Int64(offset)), .text(line)])
            }
            let keepFrom = Int64(job.logLineCount) - Int64(logLinesPerJob)
            if keepFrom > 0 { try connection.write(trimLogs, [key, .int8(keepFrom)]) }
        }
        // As in the SQLite store: the creation event is never replayed (a watch from 0 starts with a snapshot).
        let event = update.appendedEvent
        if event.revision > 1 {
            try connection.write(insertEvent, [key, .int8(Int64(bitPattern: event.revision)), .bytea(event.encodedEvent),
                                             .int8(event.isStatusTransition ? 1 : 0)])
        }
        let dropThrough = Int64(bitPattern: event.revision) - Int64(historyPerJob)
        if dropThrough > 0 { try connection.write(trimEvents, [key, .int8(dropThrough)]) }
        for message in update.outbox { try webhooks.insert(message) }
    }

    private func insert(_ removal: StoredRemoval) throws(JobWireError) {
        try connection.write(insertRemoval, [.int8(Int64(bitPattern: removal.sequence)), .text(removal.tenant), .text(removal.jobID)])
    }

    private func forgetJob(_ sequence: UInt64) throws(JobWireError) {
        let key = PostgresValue.int8(Int64(bitPattern: sequence))
        try connection.write(deleteJob, [key])
        try connection.write(deleteLogs, [key])
        try connection.write(deleteEvents, [key])
    }
}
