import Foundation
import JobWireProtocol

extension JobJSON {
    /// The members a creator may set, in the job's JSON shape.
    static let settableMembers: Set<String> = [
        "type", "labels", "priority", "stream_url", "stream_port", "view_type", "frequencies_list", "lines_dt",
        "channel_to_stream_index", "stream_amount", "frequencies_amount", "channel_amount", "metadata",
    ]

    /// Members the server sets; a spec may carry them (so a job's JSON can be fed back) and they are ignored.
    static let outputOnlyMembers: Set<String> = [
        "job_id", "tenant", "status", "progress", "current_task", "eta_seconds", "created_at", "updated_at",
        "completed_at", "expires_at", "lease_expires_at", "revision", "result", "error", "cancel_reason", "log_tail",
        "log_line_count", "attempt", "previous_attempts",
    ]

    /// A job spec (what Configure takes) from JSON in the job's shape. Unknown
    /// members, wrong types and numbers that do not fit their field are
    /// INVALID_ARGUMENT errors that name the member; the server validates the
    /// values themselves as it does for every client.
    public static func spec(from bytes: [UInt8]) throws(JobWireError) -> Job {
        let object = try JSONMemberReader.object(from: bytes, what: "the job spec")
        let reader = JSONMemberReader(object: object)
        try reader.allowOnly(settableMembers.union(outputOnlyMembers))
        var job = Job()
        job.type = try reader.string("type") ?? ""
        job.labels = try reader.labels("labels") ?? [:]
        job.priority = try reader.integer("priority") ?? 0
        job.streamURL = try reader.string("stream_url") ?? ""
        job.streamPort = try reader.integer("stream_port") ?? 0
        job.viewType = try reader.integer("view_type") ?? 0
        job.frequenciesList = try reader.numbers("frequencies_list") ?? []
        job.linesDt = try reader.number("lines_dt") ?? 0
        job.channelToStreamIndex = try reader.channelMap("channel_to_stream_index") ?? [:]
        job.streamAmount = try reader.integer("stream_amount") ?? 0
        job.frequenciesAmount = try reader.integer("frequencies_amount") ?? 0
        job.channelAmount = try reader.integer("channel_amount") ?? 0
        if let fields = try reader.object("metadata") {
            let nested = JSONMemberReader(object: fields, path: "metadata.")
            try nested.allowOnly(["dx", "prr", "fiber_start_meters", "fiber_length_meters", "sw_version"])
            job.metadata = StreamMetadata(
                dx: try nested.number("dx") ?? 0, prr: try nested.number("prr") ?? 0,
                fiberStartMeters: try nested.number("fiber_start_meters") ?? 0,
                fiberLengthMeters: try nested.number("fiber_length_meters") ?? 0,
                swVersion: try nested.string("sw_version") ?? "")
        }
        return job
    }

    /// An ISO 8601 time (`2026-11-22T21:00:00Z`, with or without fractional
    /// seconds, or a plain date) as milliseconds since the epoch.
    public static func parseTime(_ text: String) -> Int64? {
        let formatter = ISO8601DateFormatter()
        // A plain date only when the text is one: the date-only format also reads the date at
        // the front of a longer text (a time without a zone) and would answer that day's midnight.
        let formats: [ISO8601DateFormatter.Options] = text.count == 10
            ? [[.withFullDate]] : [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime]]
        for options in formats {
            formatter.formatOptions = options
            if let date = formatter.date(from: text) { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        }
        return nil
    }
}
