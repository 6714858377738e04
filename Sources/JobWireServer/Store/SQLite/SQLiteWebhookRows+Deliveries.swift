import JobWireProtocol

/// The deliveries list and redelivery read the webhook tables on the store's queue.
extension SQLiteWebhookRows {
    /// An endpoint's latest messages, newest first, with their attempts oldest first.
    static func deliveries(in database: SQLiteDatabase, endpointID: String, limit: Int) throws(JobWireError) -> [StoredDelivery] {
        let messages = try database.prepare("""
            SELECT message_id, endpoint_id, tenant, job_id, revision, type, changed_at_ms, attempts, next_attempt_at_ms, state
            FROM webhook_messages WHERE endpoint_id = ?1 ORDER BY rowid DESC LIMIT ?2
            """)
        messages.bind(.text(endpointID), .integer(Int64(limit)))
        var deliveries: [StoredDelivery] = []
        while try messages.step() {
            deliveries.append(StoredDelivery(message: StoredOutboxMessage(
                messageID: messages.text(0), endpointID: messages.text(1), tenant: messages.text(2), jobID: messages.text(3),
                revision: UInt64(bitPattern: messages.int64(4)), type: messages.text(5), changedAtMs: messages.int64(6),
                encodedJob: [], attempts: Int(messages.int64(7)), nextAttemptAtMs: messages.int64(8),
                state: StoredOutboxMessage.State(rawValue: messages.int64(9)) ?? .pending), attempts: []))
        }
        let attempts = try database.prepare(
            "SELECT attempt, at_ms, http_status, latency_us, error FROM webhook_attempts WHERE message_id = ?1 ORDER BY attempt")
        for index in deliveries.indices {
            let messageID = deliveries[index].message.messageID
            attempts.bind(.text(messageID))
            while try attempts.step() {
                deliveries[index].attempts.append(StoredDeliveryAttempt(
                    messageID: messageID, attempt: Int(attempts.int64(0)), atMs: attempts.int64(1),
                    httpStatus: Int(attempts.int64(2)), latencyMicros: attempts.int64(3), error: attempts.text(4)))
            }
        }
        return deliveries
    }

    /// One message whole, its job's bytes included.
    static func message(in database: SQLiteDatabase, messageID: String) throws(JobWireError) -> StoredOutboxMessage? {
        let row = try database.prepare("""
            SELECT message_id, endpoint_id, tenant, job_id, revision, type, changed_at_ms, job, attempts, next_attempt_at_ms, state
            FROM webhook_messages WHERE message_id = ?1
            """)
        row.bind(.text(messageID))
        guard try row.step() else { return nil }
        return StoredOutboxMessage(
            messageID: row.text(0), endpointID: row.text(1), tenant: row.text(2), jobID: row.text(3),
            revision: UInt64(bitPattern: row.int64(4)), type: row.text(5), changedAtMs: row.int64(6), encodedJob: row.blob(7),
            attempts: Int(row.int64(8)), nextAttemptAtMs: row.int64(9),
            state: StoredOutboxMessage.State(rawValue: row.int64(10)) ?? .pending)
    }
}
