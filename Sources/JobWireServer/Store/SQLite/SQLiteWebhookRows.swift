import Foundation
import JobWireProtocol

/// The webhook tables of the SQLite store (schema version 5): endpoints, the
/// outbox (one row per message, written in the transaction of the job change
/// that made it) and the attempts at delivering each.
///
/// Owned by the store's queue, like its other statements.
final class SQLiteWebhookRows {
    private let insertMessage: SQLiteStatement
    private let upsertEndpoint: SQLiteStatement
    private let deleteEndpoint: SQLiteStatement
    private let deleteEndpointMessages: SQLiteStatement
    private let deleteEndpointAttempts: SQLiteStatement
    private let insertAttempt: SQLiteStatement
    private let updateMessage: SQLiteStatement
    private let requeueMessage: SQLiteStatement
    private let giveUpEndpointMessages: SQLiteStatement
    private let pruneMessages: SQLiteStatement
    private let pruneAttempts: SQLiteStatement

    init(_ database: SQLiteDatabase) throws(JobWireError) {
        insertMessage = try database.prepare("""
            INSERT INTO webhook_messages (message_id, endpoint_id, tenant, job_id, revision, type, changed_at_ms, job,
                                          attempts, next_attempt_at_ms, state)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
            """)
        upsertEndpoint = try database.prepare("""
            INSERT INTO webhook_endpoints (endpoint_id, tenant, url, events, labels, secrets, previous_secret_expires_at_ms,
                                           created_at_ms, disabled_at_ms, disabled_reason, failing_since_ms)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
            ON CONFLICT (endpoint_id) DO UPDATE SET url = excluded.url, events = excluded.events, labels = excluded.labels,
                secrets = excluded.secrets, previous_secret_expires_at_ms = excluded.previous_secret_expires_at_ms,
                disabled_at_ms = excluded.disabled_at_ms, disabled_reason = excluded.disabled_reason,
                failing_since_ms = excluded.failing_since_ms
            """)
        deleteEndpoint = try database.prepare("DELETE FROM webhook_endpoints WHERE endpoint_id = ?1")
        deleteEndpointMessages = try database.prepare("DELETE FROM webhook_messages WHERE endpoint_id = ?1")
        deleteEndpointAttempts = try database.prepare(
            "DELETE FROM webhook_attempts WHERE message_id IN (SELECT message_id FROM webhook_messages WHERE endpoint_id = ?1)")
        insertAttempt = try database.prepare("""
            INSERT OR REPLACE INTO webhook_attempts (message_id, attempt, at_ms, http_status, latency_us, error)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6)
            """)
        updateMessage = try database.prepare(
            "UPDATE webhook_messages SET attempts = ?2, next_attempt_at_ms = ?3, state = ?4 WHERE message_id = ?1")
        requeueMessage = try database.prepare(
            "UPDATE webhook_messages SET next_attempt_at_ms = ?2, state = 0 WHERE message_id = ?1")
        giveUpEndpointMessages = try database.prepare(
            "UPDATE webhook_messages SET next_attempt_at_ms = 0, state = 2 WHERE endpoint_id = ?1 AND state = 0")
        pruneAttempts = try database.prepare("""
            DELETE FROM webhook_attempts WHERE message_id IN
                (SELECT message_id FROM webhook_messages WHERE state != 0 AND changed_at_ms < ?1)
            """)
        pruneMessages = try database.prepare("DELETE FROM webhook_messages WHERE state != 0 AND changed_at_ms < ?1")
    }

    /// Version 5 of the schema: the three tables.
    static func createTables(_ database: SQLiteDatabase) throws(JobWireError) {
        try database.execute("""
            CREATE TABLE webhook_endpoints (
                endpoint_id TEXT PRIMARY KEY,
                tenant TEXT NOT NULL,
                url TEXT NOT NULL,
                events TEXT NOT NULL,
                labels TEXT NOT NULL,
                secrets TEXT NOT NULL,
                previous_secret_expires_at_ms INTEGER NOT NULL,
                created_at_ms INTEGER NOT NULL,
                disabled_at_ms INTEGER NOT NULL,
                disabled_reason TEXT NOT NULL,
                failing_since_ms INTEGER NOT NULL
            );
            CREATE TABLE webhook_messages (
                message_id TEXT PRIMARY KEY,
                endpoint_id TEXT NOT NULL,
                tenant TEXT NOT NULL,
                job_id TEXT NOT NULL,
                revision INTEGER NOT NULL,
                type TEXT NOT NULL,
                changed_at_ms INTEGER NOT NULL,
                job BLOB NOT NULL,
                attempts INTEGER NOT NULL,
                next_attempt_at_ms INTEGER NOT NULL,
                state INTEGER NOT NULL
            );
            CREATE INDEX webhook_messages_pending ON webhook_messages (state, changed_at_ms);
            CREATE INDEX webhook_messages_endpoint ON webhook_messages (endpoint_id, changed_at_ms);
            CREATE TABLE webhook_attempts (
                message_id TEXT NOT NULL,
                attempt INTEGER NOT NULL,
                at_ms INTEGER NOT NULL,
                http_status INTEGER NOT NULL,
                latency_us INTEGER NOT NULL,
                error TEXT NOT NULL,
                PRIMARY KEY (message_id, attempt)
            ) WITHOUT ROWID;
            """)
    }

    func insert(_ message: StoredOutboxMessage) throws(JobWireError) {
        try insertMessage.bind(.text(message.messageID), .text(message.endpointID), .text(message.tenant), .text(message.jobID),
                               .integer(Int64(bitPattern: message.revision)), .text(message.type), .integer(message.changedAtMs),
                               .blob(message.encodedJob), .integer(Int64(message.attempts)), .integer(message.nextAttemptAtMs),
                               .integer(message.state.rawValue)).run()
    }

    func apply(_ change: StoredWebhookChange) throws(JobWireError) {
        switch change {
        case .putEndpoint(let endpoint):
            try upsertEndpoint.bind(.text(endpoint.endpointID), .text(endpoint.tenant), .text(endpoint.url),
                                    .text(StoredText.list(endpoint.events)), .text(StoredText.pairs(endpoint.labels)),
                                    .text(StoredText.list(endpoint.secrets)), .integer(endpoint.previousSecretExpiresAtMs),
                                    .integer(endpoint.createdAtMs), .integer(endpoint.disabledAtMs),
                                    .text(endpoint.disabledReason), .integer(endpoint.failingSinceMs)).run()
            if endpoint.disabledAtMs > 0 {
                try giveUpEndpointMessages.bind(.text(endpoint.endpointID)).run()
            }
        case .removeEndpoint(let endpointID):
            try deleteEndpointAttempts.bind(.text(endpointID)).run()
            try deleteEndpointMessages.bind(.text(endpointID)).run()
            try deleteEndpoint.bind(.text(endpointID)).run()
        case .attempted(let attempt, let attempts, let nextAttemptAtMs, let state):
            try insertAttempt.bind(.text(attempt.messageID), .integer(Int64(attempt.attempt)), .integer(attempt.atMs),
                                   .integer(Int64(attempt.httpStatus)), .integer(attempt.latencyMicros), .text(attempt.error)).run()
            try updateMessage.bind(.text(attempt.messageID), .integer(Int64(attempts)), .integer(nextAttemptAtMs),
                                   .integer(state.rawValue)).run()
        case .requeue(let messageID, let nextAttemptAtMs):
            try requeueMessage.bind(.text(messageID), .integer(nextAttemptAtMs)).run()
        case .pruneDeliveries(let before):
            try pruneAttempts.bind(.integer(before)).run()
            try pruneMessages.bind(.integer(before)).run()
        }
    }

    /// Every endpoint, and the pending messages in the order they were committed (rowid).
    static func load(in database: SQLiteDatabase) throws(JobWireError) -> StoredWebhooks {
        var loaded = StoredWebhooks()
        let endpoints = try database.prepare("""
            SELECT endpoint_id, tenant, url, events, labels, secrets, previous_secret_expires_at_ms, created_at_ms,
                   disabled_at_ms, disabled_reason, failing_since_ms
            FROM webhook_endpoints ORDER BY created_at_ms, endpoint_id
            """)
        while try endpoints.step() {
            loaded.endpoints.append(StoredWebhookEndpoint(
                endpointID: endpoints.text(0), tenant: endpoints.text(1), url: endpoints.text(2),
                events: StoredText.list(endpoints.text(3)), labels: StoredText.pairs(endpoints.text(4)), secrets: StoredText.list(endpoints.text(5)),
                previousSecretExpiresAtMs: endpoints.int64(6), createdAtMs: endpoints.int64(7),
                disabledAtMs: endpoints.int64(8), disabledReason: endpoints.text(9), failingSinceMs: endpoints.int64(10)))
        }
        let messages = try database.prepare("""
            SELECT message_id, endpoint_id, tenant, job_id, revision, type, changed_at_ms, job, attempts, next_attempt_at_ms
            FROM webhook_messages WHERE state = 0 ORDER BY rowid
            """)
        while try messages.step() {
            loaded.pending.append(StoredOutboxMessage(
                messageID: messages.text(0), endpointID: messages.text(1), tenant: messages.text(2), jobID: messages.text(3),
                revision: UInt64(bitPattern: messages.int64(4)), type: messages.text(5), changedAtMs: messages.int64(6),
                encodedJob: messages.blob(7), attempts: Int(messages.int64(8)), nextAttemptAtMs: messages.int64(9)))
        }
        return loaded
    }
}
