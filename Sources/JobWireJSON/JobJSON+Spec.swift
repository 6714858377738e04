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
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(bytes))
        } catch {
            throw JobWireError(.invalidArgument, Reason.malformedMessage, "the job spec is not valid JSON")
        }
        guard let object = parsed as? [String: Any] else {
            throw JobWireError(.invalidArgument, Reason.malformedMessage, "the job spec must be a JSON object")
        }
        if let unknown = object.keys.sorted().first(where: { !settableMembers.contains($0) && !outputOnlyMembers.contains($0) }) {
            throw JobWireError(.invalidArgument, Reason.fieldNotAllowed, "unknown field \"\(unknown.prefix(100))\"")
        }
        let reader = SpecReader(object: object)
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
            let nested = SpecReader(object: fields, path: "metadata.")
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
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime],
                                                       [.withFullDate]] {
            formatter.formatOptions = options
            if let date = formatter.date(from: text) { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        }
        return nil
    }
}

/// Reads typed members of a parsed JSON object, naming the member in every error.
private struct SpecReader {
    let object: [String: Any]
    var path = ""

    private func value(_ key: String) -> Any? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        return value
    }

    private func wrongType(_ key: String, _ expected: String) -> JobWireError {
        JobWireError(.invalidArgument, Reason.malformedMessage, "\(path)\(key) must be \(expected)")
    }

    func string(_ key: String) throws(JobWireError) -> String? {
        guard let value = value(key) else { return nil }
        guard let text = value as? String else { throw wrongType(key, "a string") }
        return text
    }

    func number(_ key: String) throws(JobWireError) -> Double? {
        guard let value = value(key) else { return nil }
        return try Self.number(value, orThrow: wrongType(key, "a number"))
    }

    func integer<Integer: FixedWidthInteger>(_ key: String) throws(JobWireError) -> Integer? {
        guard let number = try number(key) else { return nil }
        guard number.rounded() == number else { throw wrongType(key, "a whole number") }
        guard let integer = Integer(exactly: number) else {
            throw JobWireError(.invalidArgument, Reason.valueOutOfRange,
                               "\(path)\(key) must be between \(Integer.min) and \(Integer.max)")
        }
        return integer
    }

    func numbers(_ key: String) throws(JobWireError) -> [Double]? {
        guard let value = value(key) else { return nil }
        guard let list = value as? [Any] else { throw wrongType(key, "a list of numbers") }
        var numbers: [Double] = []
        for element in list {
            numbers.append(try Self.number(element, orThrow: wrongType(key, "a list of numbers")))
        }
        return numbers
    }

    func labels(_ key: String) throws(JobWireError) -> [String: String]? {
        guard let value = value(key) else { return nil }
        guard let labels = value as? [String: String] else { throw wrongType(key, "an object of strings") }
        return labels
    }

    func object(_ key: String) throws(JobWireError) -> [String: Any]? {
        guard let value = value(key) else { return nil }
        guard let fields = value as? [String: Any] else { throw wrongType(key, "an object") }
        return fields
    }

    func channelMap(_ key: String) throws(JobWireError) -> [UInt32: UInt32]? {
        guard let object = try object(key) else { return nil }
        var map: [UInt32: UInt32] = [:]
        for (channel, index) in object {
            let problem = JobWireError(.invalidArgument, Reason.malformedMessage,
                                       "\(path)\(key) must map channel numbers to stream indexes, such as {\"1\": 0}")
            guard let channel = UInt32(channel) else { throw problem }
            let number = try Self.number(index, orThrow: problem)
            guard let stream = UInt32(exactly: number) else { throw problem }
            map[channel] = stream
        }
        return map
    }

    private static func number(_ value: Any, orThrow error: JobWireError) throws(JobWireError) -> Double {
        // (On Linux a JSON 0 or 1 also bridges to Bool, so booleans cannot be told apart here.)
        guard let number = value as? NSNumber, !(value is String) else { throw error }
        return number.doubleValue
    }
}
