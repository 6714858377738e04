import JobWireProtocol
import JobWireServer

/// Reading what the PostgreSQL store holds back into stored values.
enum PostgresJobRows {
    /// Jobs handed over together at start-up.
    static let batchSize = 4_096

    /// Every job (summary and stored bytes, without details) in creation
    /// order, handed over in batches of at most ``batchSize``: one binary
    /// COPY, which reads one snapshot and never holds a million rows at once.
    static func forEachBatch(in connection: PostgresConnection,
                             _ body: ([StoredJob]) throws(JobWireError) -> Void) throws(JobWireError) {
        // JIT compiling the scan costs more than it saves for a query run once at start-up.
        try connection.execute("SET jit = off")
        // Jobs created together usually carry the same labels, tenant and type: they share one value each
        // instead of a million equal copies.
        var lastLabelText = ""
        var lastLabels: [String: String] = [:]
        var lastTenant = ""
        var lastType = ""
        var batch: [StoredJob] = []
        batch.reserveCapacity(batchSize)
        try connection.copyOut("""
            SELECT sequence, job_id, job, request_id, request_fingerprint, lease_ttl_ms, tenant, type, labels, priority,
                   status, created_at_ms, expires_at_ms, lease_expires_at_ms, stream_port, log_line_count, revision,
                   current_task, updated_at_ms, completed_at_ms, change_sequence
            FROM jobs ORDER BY sequence
            """) { (row) throws(JobWireError) in
            guard row.count == 21 else {
                throw JobWireError(.dataLoss, Reason.storeDamaged, "a stored job has \(row.count) columns, not 21")
            }
            let jobID = row.text(1)
            let labelText = row.text(8)
            if labelText != lastLabelText {
                lastLabelText = labelText
                lastLabels = StoredText.pairs(labelText)
            }
            let tenant = row.text(6)
            if tenant != lastTenant { lastTenant = tenant }
            let type = row.text(7)
            if type != lastType { lastType = type }
            guard let status = JobStatus(rawValue: Int32(truncatingIfNeeded: row.int64(10))), status != .unspecified else {
                throw JobWireError(.dataLoss, Reason.storeDamaged, "job \(jobID) has status \(row.int64(10))")
            }
            let summary = JobSummary(
                jobID: jobID, tenant: lastTenant, type: lastType, labels: lastLabels,
                priority: Int32(truncatingIfNeeded: row.int64(9)), status: status, currentTask: row.text(17),
                createdAtMs: row.int64(11), updatedAtMs: row.int64(18), completedAtMs: row.int64(19),
                expiresAtMs: row.int64(12), leaseExpiresAtMs: row.int64(13),
                streamPort: UInt32(truncatingIfNeeded: row.int64(14)), logLineCount: UInt64(bitPattern: row.int64(15)),
                revision: UInt64(bitPattern: row.int64(16)))
            batch.append(StoredJob(summary: summary, encodedJob: row.bytes(2), details: nil,
                                   sequence: UInt64(bitPattern: row.int64(0)),
                                   changeSequence: UInt64(bitPattern: row.int64(20)), requestID: row.text(3),
                                   requestFingerprint: UInt64(bitPattern: row.int64(4)),
                                   leaseTTLMs: UInt32(clamping: row.int64(5))))
            if batch.count == batchSize {
                try body(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty { try body(batch) }
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
