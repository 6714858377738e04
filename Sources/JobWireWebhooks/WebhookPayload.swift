import JobWireJSON

/// A message's body, as Standard Webhooks shapes it:
/// `{"type": "job.completed", "timestamp": "…", "data": <the job>}`, the job
/// in the one JSON shape (docs/HTTP.md), embedded as the bytes made once for
/// its revision. `timestamp` is when the change happened, so every retry
/// sends the same bytes (and the same signature input but for the attempt's
/// `webhook-timestamp`).
public enum WebhookPayload {
    public static func body(type: WebhookEventType, changedAtMs: Int64, jobJSON: [UInt8]) -> [UInt8] {
        JSONValue.object([
            .init("type", .string(type.rawValue)),
            .init("timestamp", .string(ISO8601.string(milliseconds: changedAtMs))),
            .init("data", .raw(jobJSON)),
        ]).encoded()
    }
}
