import JobWireProtocol
import JobWireServer

/// Reading what the PostgreSQL store holds back into stored values.
enum PostgresJobRows {
    /// Rows fetched per round trip at start-up.
    static let fetchSize = 4_096

    /// Every job (summary and stored bytes, without details) in creation
    /// order, handed over in batches of at most ``fetchSize``: a cursor in one
    /// read-only snapshot, so a million jobs are never held as one result.
    static func forEachBatch(in connection: PostgresConnection,
                             _ body: ([StoredJob]) throws(JobWireError) -> Void) throws(JobWireError) {
        try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        do throws(JobWireError) {
            try connection.execute("""
                DECLARE jobwire_load NO SCROLL CURSOR FOR
                SELECT sequence, job_id, job, request_id, request_fingerprint, lease_ttl_ms, tenant, type, labels, priority,
                       status, created_at_ms, expires_at_ms, lease_expires_at_ms, stream_port, log_line_count, revision,
                       current_task, updated_at_ms, completed_at_ms, change_sequence
                FROM jobs ORDER BY sequence
                """)
            // Jobs created together usually carry the same labels, tenant and type: they share one value each
            // instead of a million equal copies.
            var lastLabelText = ""
            var lastLabels: [String: String] = [:]
            var lastTenant = ""
            var lastType = ""
            while true {
                let rows = try connection.query("FETCH \(fetchSize) FROM jobwire_load")
                guard rows.count > 0 else { break }
                var batch: [StoredJob] = []
                batch.reserveCapacity(rows.count)
                for row in 0..<rows.count {
                    let jobID = rows.text(row, 1)
                    let labelText = rows.text(row, 8)
                    if labelText != lastLabelText {
                        lastLabelText = labelText
                        lastLabels = StoredText.pairs(labelText)
                    }
                    let tenant = rows.text(row, 6)
                    if tenant != lastTenant { lastTenant = tenant }
                    let type = rows.text(row, 7)
                    if type != lastType { lastType = type }
                    guard let status = JobStatus(rawValue: Int32(truncatingIfNeeded: rows.int64(row, 10))), status != .unspecified else {
                        throw JobWireError(.dataLoss, Reason.storeDamaged, "job \(jobID) has status \(rows.int64(row, 10))")
                    }
                    let summary = JobSummary(
                        jobID: jobID, tenant: lastTenant, type: lastType, labels: lastLabels,
                        priority: Int32(truncatingIfNeeded: rows.int64(row, 9)), status: status,
                        currentTask: rows.text(row, 17), createdAtMs: rows.int64(row, 11), updatedAtMs: rows.int64(row, 18),
                        completedAtMs: rows.int64(row, 19), expiresAtMs: rows.int64(row, 12),
                        leaseExpiresAtMs: rows.int64(row, 13), streamPort: UInt32(truncatingIfNeeded: rows.int64(row, 14)),
                        logLineCount: UInt64(bitPattern: rows.int64(row, 15)), revision: UInt64(bitPattern: rows.int64(row, 16)))
                    batch.append(StoredJob(summary: summary, encodedJob: rows.bytes(row, 2), details: nil,
                                           sequence: UInt64(bitPattern: rows.int64(row, 0)),
                                           changeSequence: UInt64(bitPattern: rows.int64(row, 20)), requestID: rows.text(row, 3),
                                           requestFingerprint: UInt64(bitPattern: rows.int64(row, 4)),
                                           leaseTTLMs: UInt32(clamping: rows.int64(row, 5))))
                }
                try body(batch)
            }
            try connection.execute("COMMIT")
        } catch {
            try? connection.execute("ROLLBACK")
            throw error
        }
    }

    static func count(in connection: PostgresConnection) throws(JobWireError) -> Int {
        let rows = try connection.query("SELECT count(*) FROM jobs")
        return Int(rows.int64(0, 0))
    }

    static func tombstones(in connection: PostgresConnection) throws(JobWireError) -> [StoredTombstone] {
        let rows = try connection.query("SELECT job_id, tenant, forget_at_ms FROM tombstones")
        return (0..<rows.count).map { StoredTombstone(jobID: rows.text($0, 0), tenant: rows.text($0, 1), forgetAtMs: rows.int64($0, 2)) }
    }

    /// The history's epoch, the retained removals in change order, and the horizon.
    static func changeLog(in connection: PostgresConnection) throws(JobWireError) -> StoredChangeLog {
        var log = StoredChangeLog(epoch: "")
        let meta = try connection.query("SELECT key, value FROM meta")
        for row in 0..<meta.count {
            switch meta.text(row, 0) {
            case "epoch": log.epoch = meta.text(row, 1)
            case "removal_horizon": log.horizon = UInt64(meta.text(row, 1)) ?? 0
            default: break
            }
        }
        guard !log.epoch.isEmpty else {
            throw JobWireError(.dataLoss, Reason.storeDamaged, "the database has no history epoch")
        }
        let rows = try connection.query("SELECT sequence, tenant, job_id FROM removals ORDER BY sequence")
        for row in 0..<rows.count {
            log.removals.append(StoredRemoval(sequence: UInt64(bitPattern: rows.int64(row, 0)), tenant: rows.text(row, 1),
                                              jobID: rows.text(row, 2)))
        }
        return log
    }

    /// One job's retained log lines and history.
    static func details(in connection: PostgresConnection, sequence: UInt64) throws(JobWireError) -> StoredDetails {
        let key = PostgresValue.int8(Int64(bitPattern: sequence))
        var details = StoredDetails()
        let lines = try connection.query("SELECT line FROM log_lines WHERE sequence = $1 ORDER BY seq", [key])
        details.logLines = (0..<lines.count).map { lines.text($0, 0) }
        let events = try connection.query(
            "SELECT revision, event, transition FROM events WHERE sequence = $1 ORDER BY revision", [key])
        details.history = (0..<events.count).map {
            StoredEvent(revision: UInt64(bitPattern: events.int64($0, 0)), encodedEvent: events.bytes($0, 1),
                        isStatusTransition: events.int64($0, 2) != 0)
        }
        return details
    }
}
