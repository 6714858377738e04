import JobWireProtocol

/// The store's schema history. Each step moves the schema up by one version
/// in its own transaction, so an interrupted migration leaves the previous
/// version intact.
enum SQLiteMigrations {
    typealias Step = @Sendable (SQLiteDatabase) throws(JobWireError) -> Void

    static func migrate(_ database: SQLiteDatabase, from version: Int64, to target: Int64) throws(JobWireError) {
        var current = version
        while current < target {
            guard let step = steps[current] else {
                throw JobWireError(.internal, "STORE_MIGRATION_MISSING", "no migration from schema version \(current)")
            }
            try database.execute("BEGIN IMMEDIATE")
            do throws(JobWireError) {
                try step(database)
                try database.execute("PRAGMA user_version = \(current + 1); COMMIT;")
            } catch {
                try? database.execute("ROLLBACK")
                throw error
            }
            current += 1
        }
    }

    private static let steps: [Int64: Step] = [0: createVersion1, 1: addSummaryColumns, 2: addSearchColumns, 3: addChangeLog,
                                                  4: SQLiteWebhookRows.createTables]

    /// Version 1: jobs with their stored bytes, log lines, watch history and tombstones.
    ///
    /// Rows are keyed by the job's creation sequence, which only grows: a new
    /// job's rows go at the end of each B-tree, so a batch of creates dirties a
    /// few pages instead of one random page per job (keying by the random
    /// UUID made every create write ~8 KiB of WAL).
    private static func createVersion1(_ database: SQLiteDatabase) throws(JobWireError) {
        try database.execute("""
            CREATE TABLE jobs (
                sequence INTEGER PRIMARY KEY,
                job_id TEXT NOT NULL,
                job BLOB NOT NULL,
                request_id TEXT NOT NULL,
                request_fingerprint INTEGER NOT NULL,
                lease_ttl_ms INTEGER NOT NULL
            );
            CREATE TABLE log_lines (
                sequence INTEGER NOT NULL,
                seq INTEGER NOT NULL,
                line TEXT NOT NULL,
                PRIMARY KEY (sequence, seq)
            ) WITHOUT ROWID;
            CREATE TABLE events (
                sequence INTEGER NOT NULL,
                revision INTEGER NOT NULL,
                event BLOB NOT NULL,
                transition INTEGER NOT NULL,
                PRIMARY KEY (sequence, revision)
            ) WITHOUT ROWID;
            CREATE TABLE tombstones (
                job_id TEXT PRIMARY KEY,
                tenant TEXT NOT NULL,
                forget_at_ms INTEGER NOT NULL
            ) WITHOUT ROWID;
            """)
    }

    /// Version 2: each job's ``JobSummary`` as columns and its labels in their
    /// own table, so start-up builds the registry without decoding a single
    /// job. Existing rows are filled in by decoding their stored bytes.
    private static func addSummaryColumns(_ database: SQLiteDatabase) throws(JobWireError) {
        try database.execute("""
            ALTER TABLE jobs ADD COLUMN tenant TEXT NOT NULL DEFAULT '';
            ALTER TABLE jobs ADD COLUMN type TEXT NOT NULL DEFAULT '';
            ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE jobs ADD COLUMN status INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE jobs ADD COLUMN created_at_ms INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE jobs ADD COLUMN expires_at_ms INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE jobs ADD COLUMN lease_expires_at_ms INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE jobs ADD COLUMN stream_port INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE jobs ADD COLUMN log_line_count INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE jobs ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
            CREATE TABLE job_labels (
                sequence INTEGER NOT NULL,
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (sequence, key)
            ) WITHOUT ROWID;
            """)
        let rows = try database.prepare("SELECT sequence, job_id, job FROM jobs")
        let update = try database.prepare("""
            UPDATE jobs SET tenant = ?2, type = ?3, priority = ?4, status = ?5, created_at_ms = ?6, expires_at_ms = ?7,
                lease_expires_at_ms = ?8, stream_port = ?9, log_line_count = ?10, revision = ?11
            WHERE sequence = ?1
            """)
        let insertLabel = try database.prepare("INSERT INTO job_labels (sequence, key, value) VALUES (?1, ?2, ?3)")
        while try rows.step() {
            let key = SQLiteValue.integer(rows.int64(0))
            let job: Job
            do {
                job = try Job(decoding: rows.blob(2))
            } catch {
                throw JobWireError(.dataLoss, Reason.storeDamaged,
                                   "\(database.path): job \(rows.text(1)) does not decode: \(error.message)")
            }
            try update.bind(key, .text(job.tenant), .text(job.type), .integer(Int64(job.priority)),
                            .integer(Int64(job.status.rawValue)), .integer(job.createdAtMs), .integer(job.expiresAtMs),
                            .integer(job.leaseExpiresAtMs), .integer(Int64(job.streamPort)),
                            .integer(Int64(bitPattern: job.logLineCount)), .integer(Int64(bitPattern: job.revision))).run()
            for (labelKey, value) in job.labels {
                try insertLabel.bind(key, .text(labelKey), .text(value)).run()
            }
        }
    }

    /// Version 3: the summary columns ListJobs' search and order and Stats'
    /// run times read (current task, last change, completion), filled in for
    /// existing rows by decoding their stored bytes.
    private static func addSearchColumns(_ database: SQLiteDatabase) throws(JobWireError) {
        try database.execute("""
            ALTER TABLE jobs ADD COLUMN current_task TEXT NOT NULL DEFAULT '';
            ALTER TABLE jobs ADD COLUMN updated_at_ms INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE jobs ADD COLUMN completed_at_ms INTEGER NOT NULL DEFAULT 0;
            """)
        let rows = try database.prepare("SELECT sequence, job_id, job FROM jobs")
        let update = try database.prepare(
            "UPDATE jobs SET current_task = ?2, updated_at_ms = ?3, completed_at_ms = ?4 WHERE sequence = ?1")
        while try rows.step() {
            let job: Job
            do {
                job = try Job(decoding: rows.blob(2))
            } catch {
                throw JobWireError(.dataLoss, Reason.storeDamaged,
                                   "\(database.path): job \(rows.text(1)) does not decode: \(error.message)")
            }
            try update.bind(.integer(rows.int64(0)), .text(job.currentTask), .integer(job.updatedAtMs),
                            .integer(job.completedAtMs)).run()
        }
    }

    /// Version 4: what WatchJobs resumes from after a restart: each job's
    /// latest change number (its creation sequence for existing rows), the
    /// retained removals, and in `meta` the history's epoch and the removal
    /// horizon.
    private static func addChangeLog(_ database: SQLiteDatabase) throws(JobWireError) {
        try database.execute("""
            ALTER TABLE jobs ADD COLUMN change_sequence INTEGER NOT NULL DEFAULT 0;
            CREATE TABLE removals (
                sequence INTEGER PRIMARY KEY,
                tenant TEXT NOT NULL,
                job_id TEXT NOT NULL
            );
            CREATE TABLE meta (
                key TEXT PRIMARY KEY,
                value TEXT NOT NULL
            ) WITHOUT ROWID;
            UPDATE jobs SET change_sequence = sequence;
            """)
        try database.prepare("INSERT INTO meta (key, value) VALUES ('epoch', ?1)")
            .bind(.text(StoredChangeLog.newEpoch())).run()
        try database.execute("INSERT INTO meta (key, value) VALUES ('removal_horizon', '0')")
    }
}
