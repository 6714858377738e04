import JobWireProtocol
import JobWireServer

/// The PostgreSQL store's schema history, in the table `jobwire_schema`.
///
/// Each step moves the schema up one version in its own transaction, under a
/// transaction-level advisory lock, so two nodes starting at once migrate it
/// once and an interrupted migration leaves the previous version whole.
enum PostgresMigrations {
    static let schemaVersion: Int64 = 1
    /// `pg_advisory_xact_lock` key that serialises migrations ("jwmigr").
    static let migrationLockKey: Int64 = 0x6A77_6D69_6772

    typealias Step = @Sendable (PostgresConnection) throws(JobWireError) -> Void

    static func migrate(_ connection: PostgresConnection) throws(JobWireError) {
        try connection.execute("CREATE TABLE IF NOT EXISTS jobwire_schema (version bigint NOT NULL)")
        while true {
            try connection.execute("BEGIN")
            do throws(JobWireError) {
                try connection.query("SELECT pg_advisory_xact_lock($1)", [.int8(migrationLockKey)])
                let rows = try connection.query("SELECT version FROM jobwire_schema")
                let current = rows.count == 0 ? 0 : rows.int64(0, 0)
                if current > schemaVersion {
                    throw JobWireError(.failedPrecondition, "STORE_SCHEMA_TOO_NEW",
                                       "the database has JobWire schema version \(current); this jobwired knows versions up to \(schemaVersion). Use a newer jobwired.")
                }
                guard current < schemaVersion else {
                    try connection.execute("COMMIT")
                    return
                }
                guard let step = steps[current] else {
                    throw JobWireError(.internal, "STORE_MIGRATION_MISSING", "no migration from schema version \(current)")
                }
                try step(connection)
                try connection.execute(current == 0 ? "INSERT INTO jobwire_schema (version) VALUES (1)"
                                                    : "UPDATE jobwire_schema SET version = \(current + 1)")
                try connection.execute("COMMIT")
            } catch {
                try? connection.execute("ROLLBACK")
                throw error
            }
        }
    }

    private static let steps: [Int64: Step] = [0: createVersion1]

    /// Version 1: what the SQLite store keeps at its version 5, in one step.
    ///
    /// Rows are keyed by the job's creation sequence, which only grows, so a
    /// batch of creates appends to the end of each index. Labels never change
    /// after Configure and are kept on the job's row (escaped `key=value`
    /// lines), so start-up reads one table.
    private static func createVersion1(_ connection: PostgresConnection) throws(JobWireError) {
        try connection.execute("""
            CREATE TABLE jobs (
                sequence bigint PRIMARY KEY,
                job_id text NOT NULL,
                job bytea NOT NULL,
                request_id text NOT NULL,
                request_fingerprint bigint NOT NULL,
                lease_ttl_ms bigint NOT NULL,
                tenant text NOT NULL,
                type text NOT NULL,
                labels text NOT NULL,
                priority bigint NOT NULL,
                status bigint NOT NULL,
                created_at_ms bigint NOT NULL,
                expires_at_ms bigint NOT NULL,
                lease_expires_at_ms bigint NOT NULL,
                stream_port bigint NOT NULL,
                log_line_count bigint NOT NULL,
                revision bigint NOT NULL,
                current_task text NOT NULL,
                updated_at_ms bigint NOT NULL,
                completed_at_ms bigint NOT NULL,
                change_sequence bigint NOT NULL
            );
            CREATE TABLE log_lines (
                sequence bigint NOT NULL,
                seq bigint NOT NULL,
                line text NOT NULL,
                PRIMARY KEY (sequence, seq)
            );
            CREATE TABLE events (
                sequence bigint NOT NULL,
                revision bigint NOT NULL,
                event bytea NOT NULL,
                transition bigint NOT NULL,
                PRIMARY KEY (sequence, revision)
            );
            CREATE TABLE tombstones (
                job_id text PRIMARY KEY,
                tenant text NOT NULL,
                forget_at_ms bigint NOT NULL
            );
            CREATE TABLE removals (
                sequence bigint PRIMARY KEY,
                tenant text NOT NULL,
                job_id text NOT NULL
            );
            CREATE TABLE meta (
                key text PRIMARY KEY,
                value text NOT NULL
            );
            INSERT INTO meta (key, value) VALUES ('removal_horizon', '0');
            CREATE TABLE webhook_endpoints (
                endpoint_id text PRIMARY KEY,
                tenant text NOT NULL,
                url text NOT NULL,
                events text NOT NULL,
                labels text NOT NULL,
                secrets text NOT NULL,
                previous_secret_expires_at_ms bigint NOT NULL,
                created_at_ms bigint NOT NULL,
                disabled_at_ms bigint NOT NULL,
                disabled_reason text NOT NULL,
                failing_since_ms bigint NOT NULL
            );
            CREATE TABLE webhook_messages (
                position bigserial PRIMARY KEY,
                message_id text NOT NULL UNIQUE,
                endpoint_id text NOT NULL,
                tenant text NOT NULL,
                job_id text NOT NULL,
                revision bigint NOT NULL,
                type text NOT NULL,
                changed_at_ms bigint NOT NULL,
                job bytea NOT NULL,
                attempts bigint NOT NULL,
                next_attempt_at_ms bigint NOT NULL,
                state bigint NOT NULL
            );
            CREATE INDEX webhook_messages_pending ON webhook_messages (state, changed_at_ms);
            CREATE INDEX webhook_messages_endpoint ON webhook_messages (endpoint_id, position);
            CREATE TABLE webhook_attempts (
                message_id text NOT NULL,
                attempt bigint NOT NULL,
                at_ms bigint NOT NULL,
                http_status bigint NOT NULL,
                latency_us bigint NOT NULL,
                error text NOT NULL,
                PRIMARY KEY (message_id, attempt)
            );
            """)
        try connection.query("INSERT INTO meta (key, value) VALUES ('epoch', $1)", [.text(StoredChangeLog.newEpoch())])
    }
}
