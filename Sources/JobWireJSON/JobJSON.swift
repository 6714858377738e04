import Foundation
import JobWireProtocol

/// The one JSON shape of a job, the shape the REST services JobWire replaces
/// print: snake_case keys, lower-case status names, the channel map with string
/// keys, ISO 8601 UTC times or null. The CLI's `--json`, the Python client's
/// `Job.to_dict()` and every JSON front end use it; golden files in
/// `Tests/JobWireProtocolTests/Fixtures/golden/*.json` hold it for both languages.
public enum JobJSON {
    /// The job as a JSON value, members in a fixed order.
    public static func value(_ job: Job) -> JSONValue {
        .object([
            .init("job_id", .string(job.jobID)),
            .init("tenant", .string(job.tenant)),
            .init("status", job.status == .unspecified ? .null : .string(job.status.name)),
            .init("type", .string(job.type)),
            .init("labels", .object(job.labels.sorted { $0.key < $1.key }.map { .init($0.key, .string($0.value)) })),
            .init("priority", .int(Int64(job.priority))),
            .init("stream_url", .string(job.streamURL)),
            .init("stream_port", .int(Int64(job.streamPort))),
            .init("view_type", .int(Int64(job.viewType))),
            .init("frequencies_list", .array(job.frequenciesList.map(JSONValue.double))),
            .init("lines_dt", .double(job.linesDt)),
            .init("channel_to_stream_index", .object(job.channelToStreamIndex.sorted { $0.key < $1.key }.map {
                .init(String($0.key), .int(Int64($0.value)))
            })),
            .init("stream_amount", .int(Int64(job.streamAmount))),
            .init("frequencies_amount", .int(Int64(job.frequenciesAmount))),
            .init("channel_amount", .int(Int64(job.channelAmount))),
            .init("metadata", job.metadata.map(metadata) ?? .null),
            .init("progress", .double(job.progress)),
            .init("current_task", .string(job.currentTask)),
            .init("eta_seconds", job.etaSeconds.map(JSONValue.double) ?? .null),
            .init("attempt", .int(Int64(job.attempt))),
            .init("created_at", time(job.createdAtMs)),
            .init("updated_at", time(job.updatedAtMs)),
            .init("completed_at", time(job.completedAtMs)),
            .init("expires_at", time(job.expiresAtMs)),
            .init("lease_expires_at", time(job.leaseExpiresAtMs)),
            .init("revision", .int(Int64(clamping: job.revision))),
            .init("result", job.result.map(result) ?? .null),
            .init("error", job.error.map(error) ?? .null),
            .init("cancel_reason", .string(job.cancelReason)),
            .init("previous_attempts", .array(job.previousAttempts.map(attempt))),
            .init("log_tail", .array(job.logTail.map(JSONValue.string))),
            .init("log_line_count", .int(Int64(job.logLineCount))),
        ])
    }

    /// The job's JSON text: compact, or indented for people.
    public static func encode(_ job: Job, pretty: Bool = false) -> [UInt8] {
        value(job).encoded(pretty: pretty)
    }

    static func metadata(_ metadata: StreamMetadata) -> JSONValue {
        .object([
            .init("dx", .double(metadata.dx)),
            .init("prr", .double(metadata.prr)),
            .init("fiber_start_meters", .double(metadata.fiberStartMeters)),
            .init("fiber_length_meters", .double(metadata.fiberLengthMeters)),
            .init("sw_version", .string(metadata.swVersion)),
        ])
    }

    /// A result whose content type names JSON and whose bytes are UTF-8 JSON is
    /// embedded as that JSON, byte for byte; other UTF-8 text as a string;
    /// anything else as base64 in `data_base64`.
    static func result(_ result: JobResult) -> JSONValue {
        let contentType = JSONValue.Member("content_type", .string(result.contentType))
        let text = String(validating: result.data, as: UTF8.self)
        if result.contentType.contains("json"), text != nil, isJSON(result.data) {
            return .object([contentType, .init("data", .raw(trimmed(result.data)))])
        }
        if let text {
            return .object([contentType, .init("data", .string(text))])
        }
        return .object([contentType, .init("data_base64", .string(Data(result.data).base64EncodedString()))])
    }

    static func error(_ error: JobError) -> JSONValue {
        .object([
            .init("message", .string(error.message)),
            .init("failed_task", .string(error.failedTask)),
            .init("retry_count", .int(Int64(error.retryCount))),
            .init("reason", .string(error.reason)),
        ])
    }

    static func attempt(_ attempt: JobAttempt) -> JSONValue {
        .object([
            .init("attempt", .int(Int64(attempt.attempt))),
            .init("status", attempt.status == .unspecified ? .null : .string(attempt.status.name)),
            .init("error", attempt.error.map(error) ?? .null),
            .init("cancel_reason", .string(attempt.cancelReason)),
            .init("completed_at", time(attempt.completedAtMs)),
        ])
    }

    /// null for 0 ("not set"), else the ISO 8601 text.
    public static func time(_ milliseconds: Int64) -> JSONValue {
        milliseconds == 0 ? .null : .string(ISO8601.string(milliseconds: milliseconds))
    }

    /// Whether `bytes` are one JSON text (any value, as RFC 8259 allows), strictly.
    private static func isJSON(_ bytes: [UInt8]) -> Bool {
        StrictJSON.isValid(bytes)
    }

    /// Without the whitespace JSON allows around a value, so the embedding stays one line.
    private static func trimmed(_ bytes: [UInt8]) -> [UInt8] {
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }),
              let last = bytes.lastIndex(where: { !isSpace($0) }) else { return bytes }
        return Array(bytes[first...last])
    }
}
