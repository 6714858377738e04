import JobWireProtocol

/// Reading what the store holds back into stored values.
enum SQLiteJobRows {
    private struct Label: Equatable {
        let key: String
        let value: String
    }

    /// Every job (summary and stored bytes, without details) in creation order.
    static func forEachJob(in database: SQLiteDatabase, _ body: (StoredJob) throws(JobWireError) -> Void) throws(JobWireError) {
        let labels = try database.prepare("SELECT sequence, key, value FROM job_labels ORDER BY sequence, key")
        var labelRow = try labels.step() ? (sequence: labels.int64(0), key: labels.text(1), value: labels.text(2)) : nil
        let rows = try database.prepare("""
            SELECT sequence, job_id, job, request_id, request_fingerprint, lease_ttl_ms, tenant, type, priority, status,
                   created_at_ms, expires_at_ms, lease_expires_at_ms, stream_port, log_line_count, revision,
                   current_task, updated_at_ms, completed_at_ms, change_sequence
            FROM jobs ORDER BY sequence
            """)
        var pairs: [Label] = []
        var previousPairs: [Label] = []
        var previousLabels: [String: String] = [:]
        // Tenants and types repeat from row to row: reuse the last row's string when the bytes match.
        var tenant = ""
        var type = ""
        while try rows.step() {
            let sequence = rows.int64(0)
            let jobID = rows.text(1)
            // Both tables are ordered by sequence: walk them side by side. Jobs
            // created together usually carry the same labels; they share one
            // dictionary instead of a million equal copies.
            pairs.removeAll(keepingCapacity: true)
            while let label = labelRow, label.sequence <= sequence {
                if label.sequence == sequence { pairs.append(Label(key: label.key, value: label.value)) }
                labelRow = try labels.step() ? (labels.int64(0), labels.text(1), labels.text(2)) : nil
            }
            // Compared in order (both lists come sorted by key), without hashing.
            if pairs != previousPairs {
                previousLabels = Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
                swap(&pairs, &previousPairs)
            }
            rows.reuseText(6, &tenant)
            rows.reuseText(7, &type)
            let jobLabels = previousLabels
            guard let status = JobStatus(rawValue: Int32(truncatingIfNeeded: rows.int64(9))), status != .unspecified else {
                throw JobWireError(.dataLoss, Reason.storeDamaged, "\(database.path): job \(jobID) has status \(rows.int64(9))")
            }
            let summary = JobSummary(
                jobID: jobID, tenant: tenant, type: type, labels: jobLabels,
                priority: Int32(truncatingIfNeeded: rows.int64(8)), status: status, currentTask: rows.text(16),
                createdAtMs: rows.int64(10), updatedAtMs: rows.int64(17), completedAtMs: rows.int64(18),
                expiresAtMs: rows.int64(11), leaseExpiresAtMs: rows.int64(12),
                streamPort: UInt32(truncatingIfNeeded: rows.int64(13)),
                logLineCount: UInt64(bitPattern: rows.int64(14)), revision: UInt64(bitPattern: rows.int64(15)))
            try body(StoredJob(summary: summary, encodedJob: rows.blob(2), details: nil,
                               sequence: UInt64(bitPattern: sequence),
                               changeSequence: UInt64(bitPattern: rows.int64(19)), requestID: rows.text(3),
                               requestFingerprint: UInt64(bitPattern: rows.int64(4)),
                               leaseTTLMs: UInt32(clamping: rows.int64(5))))
        }
    }

    /// The history's epoch, the retained removals in change order, and the horizon.
    static func changeLog(in database: SQLiteDatabase) throws(JobWireError) -> StoredChangeLog {
        var log = StoredChangeLog(epoch: "")
        let meta = try database.prepare("SELECT key, value FROM meta")
        while try meta.step() {
            switch meta.text(0) {
            case "epoch": log.epoch = meta.text(1)
            case "removal_horizon": log.horizon = UInt64(meta.text(1)) ?? 0
            default: break
            }
        }
        guard !log.epoch.isEmpty else {
            throw JobWireError(.dataLoss, Reason.storeDamaged, "\(database.path): the store has no history epoch")
        }
        let rows = try database.prepare("SELECT sequence, tenant, job_id FROM removals ORDER BY sequence")
        while try rows.step() {
            log.removals.append(StoredRemoval(sequence: UInt64(bitPattern: rows.int64(0)), tenant: rows.text(1),
                                              jobID: rows.text(2)))
        }
        return log
    }

    static func tombstones(in database: SQLiteDatabase) throws(JobWireError) -> [StoredTombstone] {

        var tombstones: [StoredTombstone] = []
        let tombstoneRows = try database.prepare("SELECT job_id, tenant, forget_at_ms FROM tombstones")
        while try tombstoneRows.step() {
            tombstones.append(StoredTombstone(jobID: tombstoneRows.text(0), tenant: tombstoneRows.text(1),
                                              forgetAtMs: tombstoneRows.int64(2)))
        }
        return tombstones
    }
}

/// A second connection that reads one job's log lines and history on demand.
///
/// Owned by ``SQLiteJobStore``'s `reader` Mutex.
final class DetailsReader {
    private let database: SQLiteDatabase
    private let logLines: SQLiteStatement
    private let events: SQLiteStatement

    init(path: String) throws(JobWireError) {
        database = try SQLiteDatabase(path: path)
        try database.execute("PRAGMA query_only = 1")
        logLines = try database.prepare("SELECT line FROM log_lines WHERE sequence = ?1 ORDER BY seq")
        events = try database.prepare("SELECT revision, event, transition FROM events WHERE sequence = ?1 ORDER BY revision")
    }

    func details(sequence: UInt64) throws(JobWireError) -> StoredDetails {
        let key = SQLiteValue.integer(Int64(bitPattern: sequence))
        var details = StoredDetails()
        logLines.bind(key)
        while try logLines.step() { details.logLines.append(logLines.text(0)) }
        events.bind(key)
        while try events.step() {
            details.history.append(StoredEvent(revision: UInt64(bitPattern: events.int64(0)), encodedEvent: events.blob(1),
                                               isStatusTransition: events.int64(2) != 0))
        }
        // Leave no read transaction open: it would keep the WAL from being checkpointed.
        logLines.bind()
        events.bind()
        return details
    }
}
