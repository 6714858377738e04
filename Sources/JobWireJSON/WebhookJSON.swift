import JobWireProtocol

/// The JSON shape of webhook endpoints and deliveries: what the HTTP API
/// answers and the CLI's `--json` prints, made in one place.
public enum WebhookJSON {
    /// An endpoint; `secret` only in the answer that made it (creation, rotation).
    public static func endpoint(_ endpoint: WebhookEndpoint, secret: String? = nil) -> JSONValue {
        var members: [JSONValue.Member] = [
            .init("id", .string(endpoint.endpointID)),
            .init("url", .string(endpoint.url)),
            .init("events", .array(endpoint.events.map(JSONValue.string))),
            .init("labels", .object(endpoint.labels.sorted { $0.key < $1.key }.map { .init($0.key, .string($0.value)) })),
            .init("created_at", time(endpoint.createdAtMs)),
            .init("enabled", .bool(endpoint.enabled)),
            .init("disabled_at", time(endpoint.disabledAtMs)),
            .init("disabled_reason", .string(endpoint.disabledReason)),
            .init("failing_since", time(endpoint.failingSinceMs)),
            .init("previous_secret_expires_at", time(endpoint.previousSecretExpiresAtMs)),
        ]
        if let secret { members.append(.init("secret", .string(secret))) }
        return .object(members)
    }

    /// A message with its state and every attempt.
    public static func delivery(_ delivery: WebhookDelivery) -> JSONValue {
        .object([
            .init("message_id", .string(delivery.messageID)),
            .init("endpoint_id", .string(delivery.endpointID)),
            .init("type", .string(delivery.type)),
            .init("job_id", .string(delivery.jobID)),
            .init("revision", .int(Int64(clamping: delivery.revision))),
            .init("changed_at", .string(ISO8601.string(milliseconds: delivery.changedAtMs))),
            .init("state", .string(delivery.state.name)),
            .init("next_attempt_at", time(delivery.nextAttemptAtMs)),
            .init("attempts", .array(delivery.attempts.map { attempt in
                .object([
                    .init("attempt", .int(Int64(attempt.attempt))),
                    .init("at", .string(ISO8601.string(milliseconds: attempt.atMs))),
                    .init("http_status", attempt.httpStatus == 0 ? .null : .int(Int64(attempt.httpStatus))),
                    .init("latency_ms", .double(Double(attempt.latencyMicros) / 1_000)),
                    .init("error", .string(attempt.error)),
                ])
            })),
        ])
    }

    /// A time, or null for 0 ("not set").
    private static func time(_ milliseconds: Int64) -> JSONValue {
        milliseconds == 0 ? .null : .string(ISO8601.string(milliseconds: milliseconds))
    }
}
