/// The documented limits of protocol version 1 (docs/PROTOCOL.md, "Limits").
///
/// The codec enforces the field limits on every message it decodes, so an
/// oversized field is a typed error before it reaches the server's state.
public enum Limits {
    /// Default and negotiated upper bound of one frame's body.
    public static let defaultMaxFrameBytes = 4 * 1024 * 1024
    /// The smallest maximum frame size a peer may announce.
    public static let minMaxFrameBytes = 64 * 1024

    /// Identifiers and short texts: type, tenant, stream_url, current_task,
    /// content types, reasons, method names, tokens, names.
    public static let maxShortStringBytes = 4 * 1024
    /// Free-form messages: `Status.message`, `JobError.message`.
    public static let maxMessageStringBytes = 64 * 1024
    public static let maxRequestIDBytes = 128
    public static let maxCancelReasonBytes = 1024
    public static let maxAPIKeyBytes = 1024

    public static let maxLabels = 64
    public static let maxLabelKeyBytes = 63
    public static let maxLabelValueBytes = 256

    public static let maxFrequencies = 65_536
    public static let maxChannelMapEntries = 65_536

    public static let maxResultBytes = 1024 * 1024
    public static let maxLogLinesPerUpdate = 1_000
    public static let maxLogLineBytes = 8 * 1024
    /// Largest `log_tail` a request may ask for, and the most lines a job carries.
    public static let maxLogTail = 10_000

    public static let maxBatchIDs = 1_000
    public static let defaultPageSize = 100
    public static let maxPageSize = 500
    public static let maxStatusFilters = 16
    public static let maxStatsEntries = 256
    /// Earlier attempts a retried job keeps (`Job.previous_attempts`).
    public static let maxPreviousAttempts = 16
    /// Bytes of ListJobs' `query`.
    public static let maxQueryBytes = 256
    /// Keys one Usage reply lists.
    public static let maxUsageKeys = 10_000
    /// Event types a webhook endpoint names (there are six; repeats are allowed and dropped).
    public static let maxWebhookEventTypes = 32
    /// Attempts one delivery lists (every retry and redelivery of one message).
    public static let maxWebhookAttempts = 1_000
    /// Endpoints one ListWebhooks reply lists.
    public static let maxWebhookEndpoints = 1_000
    /// Deliveries one ListWebhookDeliveries asks for and lists.
    public static let maxWebhookDeliveries = 500
    /// How long RotateWebhookSecret lets the previous secret sign: 7 days.
    public static let maxWebhookSecretOverlapMs: UInt32 = 7 * 24 * 3_600_000
}
