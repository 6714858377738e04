import JobWireProtocol
import JobWireServer

/// The webhook tables of the PostgreSQL store: endpoints, the outbox (one row
/// per message, written in the transaction of the job change that made it,
/// `position` keeping commit order) and the attempts at delivering each.
///
/// Owned by the store's queue, with the writer's connection.
final class PostgresWebhookRows {
    private let connection: PostgresConnection
    private let insertMessage: PostgresConnection.Statement
    private let upsertEndpoint: PostgresConnection.Statement
    private let deleteEndpoint: PostgresConnection.Statement
    private let deleteEndpointMessages: PostgresConnection.Statement
    private let deleteEndpointAttempts: PostgresConnection.Statement
    private let insertAttempt: PostgresConnection.Statement
    private let updateMessage: PostgresConnection.Statement
    private let requeueMessage: PostgresConnection.Statement
    private let giveUpEndpointMessages: PostgresConnection.Statement
    private let pruneMessages: PostgresConnection.Statement
    private let pruneAttempts: PostgresConnection.Statement

    private static let messageColumns = """
        message_id, endpoint_id, tenant, job_id, revision, type, changed_at_ms, job, attempts, next_attempt_at_ms, state
        """

    init(_ connection: PostgresConnection) throws(JobWireError) {
        self.connection = connection
        insertMessage = try connection.prepare("""
            INSERT INTO webhook_messages (\(Self.messageColumns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            """)
        upsertEndpoint = try connection.prepare("""
            INSERT INTO webhook_endpoints (endpoint_id, tenant, url, events, labels, secrets, previous_secret_expires_at_ms,
                                           created_at_ms, disabled_at_ms, disabled_reason, failing_since_ms)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            ON CONFLICT (endpoint_id) DO UPDATE SET url = excluded.url, events = excluded.events, labels = excluded.labels,
                secrets = excluded.secrets, previous_secret_expires_at_ms = excluded.previous_secret_expires_at_ms,
                disabled_at_ms = excluded.disabled_at_ms, disabled_reason = excluded.disabled_reason,
                failing_since_ms = excluded.failing_since_ms
            """)
        deleteEndpoint = try connection.prepare("DELETE FROM webhook_endpoints WHERE endpoint_id = $1")
        deleteEndpointMessages = try connection.prepare("DELETE FROM webhook_messages WHERE endpoint_id = $1")
        deleteEndpointAttempts = try connection.prepare(
            "DELETE FROM webhook_attempts WHERE message_id IN (SELECT message_id FROM webhook_messages WHERE endpoint_id = $1)")
        insertAttempt = try connection.prepare("""
            INSERT INTO webhook_attempts (message_id, attempt, at_ms, http_status, latency_us, error)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (message_id, attempt) DO UPDATE SET at_ms = excluded.at_ms, http_status = excluded.http_status,
                latency_us = excluded.latency_us, error = excluded.error
            """)
        updateMessage = try connection.prepare(
            "UPDATE webhook_messages SET attempts = $2, next_attempt_at_ms = $3, state = $4 WHERE message_id = $1")
        requeueMessage = try connection.prepare(
            "UPDATE webhook_messages SET next_attempt_at_ms = $2, state = 0 WHERE message_id = $1")
        giveUpEndpointMessages = try connection.prepare(
            "UPDATE webhook_messages SET next_attempt_at_ms = 0, state = 2 WHERE endpoint_id = $1 AND state = 0")
        pruneAttempts = try connection.prepare("""
            DELETE FROM webhook_attempts WHERE message_id IN
                (SELECT message_id FROM webhook_messages WHERE state != 0 AND changed_at_ms < $1)
            """)
        pruneMessages = try connection.prepare("DELETE FROM webhook_messages WHERE state != 0 AND changed_at_ms < $1")
    }

    func insert(_ message: StoredOutboxMessage) throws(JobWireError) {
        try connection.write(insertMessage, [
            .text(message.messageID), .text(message.endpointID), .text(message.tenant), .text(message.jobID),
            .int8(Int64(bitPattern: message.revision)), .text(message.type), .int8(message.changedAtMs),
            .bytea(message.encodedJob), .int8(Int64(message.attempts)), .int8(message.nextAttemptAtMs),
            .int8(message.state.rawValue),
        ])
    }

    func apply(_ change: StoredWebhookChange) throws(JobWireError) {
        switch change {
        case .putEndpoint(let endpoint):
            try connection.write(upsertEndpoint, [
                .text(endpoint.endpointID), .text(endpoint.tenant), .text(endpoint.url), .text(StoredText.list(endpoint.events)),
                .text(StoredText.pairs(endpoint.labels)), .text(StoredText.list(endpoint.secrets)),
                .int8(endpoint.previousSecretExpiresAtMs), .int8(endpoint.createdAtMs), .int8(endpoint.disabledAtMs),
                .text(endpoint.disabledReason), .int8(endpoint.failingSinceMs),
            ])
            if endpoint.disabledAtMs > 0 {
                try connection.write(giveUpEndpointMessages, [.text(endpoint.endpointID)])
            }
        case .removeEndpoint(let endpointID):
            try connection.write(deleteEndpointAttempts, [.text(endpointID)])
            try connection.write(deleteEndpointMessages, [.text(endpointID)])
            try connection.write(deleteEndpoint, [.text(endpointID)])
        case .attempted(let attempt, let attempts, let nextAttemptAtMs, let state):
            try connection.write(insertAttempt, [
                .text(attempt.messageID), .int8(Int64(attempt.attempt)), .int8(attempt.atMs), .int8(Int64(attempt.httpStatus)),
                .int8(attempt.latencyMicros), .text(attempt.error),
            ])
            try connection.write(updateMessage, [.text(attempt.messageID), .int8(Int64(attempts)), .int8(nextAttemptAtMs),
                                               .int8(state.rawValue)])
        case .requeue(let messageID, let nextAttemptAtMs):
            try connection.write(requeueMessage, [.text(messageID), .int8(nextAttemptAtMs)])
        case .pruneDeliveries(let before):
            try connection.write(pruneAttempts, [.int8(before)])
            try connection.write(pruneMessages, [.int8(before)])
        }
    }

    // MARK: Reads

    /// Every endpoint, and the pending messages in the order they were committed.
    static func load(in connection: PostgresConnection) throws(JobWireError) -> StoredWebhooks {
        var loaded = StoredWebhooks()
        let endpoints = try connection.query("""
            SELECT endpoint_id, tenant, url, events, labels, secrets, previous_secret_expires_at_ms, created_at_ms,
                   disabled_at_ms, disabled_reason, failing_since_ms
            FROM webhook_endpoints ORDER BY created_at_ms, endpoint_id
            """)
        for row in 0..<endpoints.count {
            loaded.endpoints.append(StoredWebhookEndpoint(
                endpointID: endpoints.text(row, 0), tenant: endpoints.text(row, 1), url: endpoints.text(row, 2),
                events: StoredText.list(endpoints.text(row, 3)), labels: StoredText.pairs(endpoints.text(row, 4)),
                secrets: StoredText.list(endpoints.text(row, 5)), previousSecretExpiresAtMs: endpoints.int64(row, 6),
                createdAtMs: endpoints.int64(row, 7), disabledAtMs: endpoints.int64(row, 8),
                disabledReason: endpoints.text(row, 9), failingSinceMs: endpoints.int64(row, 10)))
        }
        let messages = try connection.query(
            "SELECT \(messageColumns) FROM webhook_messages WHERE state = 0 ORDER BY position")
        for row in 0..<messages.count {
            loaded.pending.append(message(messages, row, withJob: true))
        }
        return loaded
    }

    /// An endpoint's latest messages, newest first, with their attempts oldest first.
    static func deliveries(in connection: PostgresConnection, endpointID: String, limit: Int) throws(JobWireError) -> [StoredDelivery] {
        let messages = try connection.query("""
            SELECT \(messageColumns) FROM webhook_messages WHERE endpoint_id = $1 ORDER BY position DESC LIMIT $2
            """, [.text(endpointID), .int8(Int64(limit))])
        var deliveries = (0..<messages.count).map { StoredDelivery(message: message(messages, $0, withJob: false), attempts: []) }
        for index in deliveries.indices {
            let messageID = deliveries[index].message.messageID
            let attempts = try connection.query("""
                SELECT attempt, at_ms, http_status, latency_us, error FROM webhook_attempts WHERE message_id = $1 ORDER BY attempt
                """, [.text(messageID)])
            for row in 0..<attempts.count {
                deliveries[index].attempts.append(StoredDeliveryAttempt(
                    messageID: messageID, attempt: Int(attempts.int64(row, 0)), atMs: attempts.int64(row, 1),
                    httpStatus: Int(attempts.int64(row, 2)), latencyMicros: attempts.int64(row, 3), error: attempts.text(row, 4)))
            }
        }
        return deliveries
    }

    /// One message whole, its job's bytes included.
    static func message(in connection: PostgresConnection, messageID: String) throws(JobWireError) -> StoredOutboxMessage? {
        let rows = try connection.query("SELECT \(messageColumns) FROM webhook_messages WHERE message_id = $1", [.text(messageID)])
        return rows.count == 0 ? nil : message(rows, 0, withJob: true)
    }

    private static func message(_ rows: PostgresRows, _ row: Int, withJob: Bool) -> StoredOutboxMessage {
        StoredOutboxMessage(
            messageID: rows.text(row, 0), endpointID: rows.text(row, 1), tenant: rows.text(row, 2), jobID: rows.text(row, 3),
            revision: UInt64(bitPattern: rows.int64(row, 4)), type: rows.text(row, 5), changedAtMs: rows.int64(row, 6),
            encodedJob: withJob ? rows.bytes(row, 7) : [], attempts: Int(rows.int64(row, 8)),
            nextAttemptAtMs: rows.int64(row, 9), state: StoredOutboxMessage.State(rawValue: rows.int64(row, 10)) ?? .pending)
    }
}
