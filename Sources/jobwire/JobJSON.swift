import Foundation
import JobWireProtocol

/// The JSON form of a job, the shape the REST services print today: snake_case
/// keys, lowercase status, channel map keys as strings, ISO 8601 UTC times or
/// null. Used everywhere the CLI prints a job.
enum JobJSON {
    static func object(_ job: Job) -> [String: Any] {
        var object: [String: Any] = [
            "job_id": job.jobID,
            "tenant": job.tenant,
            "status": job.status.name,
            "type": job.type,
            "labels": job.labels,
            "priority": Int(job.priority),
            "stream_url": job.streamURL,
            "stream_port": Int(job.streamPort),
            "view_type": Int(job.viewType),
            "frequencies_list": job.frequenciesList,
            "lines_dt": job.linesDt,
            "channel_to_stream_index": Dictionary(uniqueKeysWithValues: job.channelToStreamIndex.map { (String($0.key), Int($0.value)) }),
            "stream_amount": Int(job.streamAmount),
            "frequencies_amount": Int(job.frequenciesAmount),
            "channel_amount": Int(job.channelAmount),
            "metadata": job.metadata.map(metadata) ?? NSNull(),
            "progress": job.progress,
            "current_task": job.currentTask,
            "eta_seconds": job.etaSeconds ?? NSNull(),
            "created_at": time(job.createdAtMs),
            "updated_at": time(job.updatedAtMs),
            "completed_at": time(job.completedAtMs),
            "expires_at": time(job.expiresAtMs),
            "lease_expires_at": time(job.leaseExpiresAtMs),
            "revision": Int(job.revision),
            "result": job.result.map(result) ?? NSNull(),
            "error": job.error.map(error) ?? NSNull(),
            "cancel_reason": job.cancelReason,
            "log_tail": job.logTail,
            "log_line_count": Int(job.logLineCount),
        ]
        if job.status == .unspecified { object["status"] = NSNull() }
        return object
    }

    static func metadata(_ metadata: StreamMetadata) -> [String: Any] {
        ["dx": metadata.dx, "prr": metadata.prr, "fiber_start_meters": metadata.fiberStartMeters,
         "fiber_length_meters": metadata.fiberLengthMeters, "sw_version": metadata.swVersion]
    }

    /// JSON results are embedded as JSON; other text as a string; anything else as base64.
    static func result(_ result: JobResult) -> [String: Any] {
        let data = Data(result.data)
        if result.contentType.contains("json"), let value = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) {
            return ["content_type": result.contentType, "data": value]
        }
        if let text = String(data: data, encoding: .utf8) {
            return ["content_type": result.contentType, "data": text]
        }
        return ["content_type": result.contentType, "data_base64": data.base64EncodedString()]
    }

    static func error(_ error: JobError) -> [String: Any] {
        ["message": error.message, "failed_task": error.failedTask, "retry_count": Int(error.retryCount), "reason": error.reason]
    }

    static func time(_ milliseconds: Int64) -> Any {
        guard milliseconds != 0 else { return NSNull() }
        return iso8601(milliseconds)
    }

    static func iso8601(_ milliseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }

    static func parseTime(_ text: String) -> Int64? {
        let formatter = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime],
                                                       [.withFullDate]] {
            formatter.formatOptions = options
            if let date = formatter.date(from: text) { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        }
        return nil
    }

    /// Pretty JSON for one value, keys sorted.
    static func text(_ value: Any, pretty: Bool = true) -> String {
        var options: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes]
        if pretty { options.insert(.prettyPrinted) }
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: options) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }

    // MARK: Reading a spec

    /// The fields a creator may set, from a SPEC.json in the same form `get --json` prints.
    /// Output-only fields (job_id, status, times, …) are ignored, so a `get --json` can be fed back.
    static func spec(from data: Data) throws -> Job {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CLIError(message: "the spec file is not a JSON object")
        }
        let settable: Set<String> = ["type", "labels", "priority", "stream_url", "stream_port", "view_type", "frequencies_list",
                                     "lines_dt", "channel_to_stream_index", "stream_amount", "frequencies_amount",
                                     "channel_amount", "metadata"]
        let outputOnly: Set<String> = ["job_id", "tenant", "status", "progress", "current_task", "eta_seconds", "created_at",
                                       "updated_at", "completed_at", "expires_at", "lease_expires_at", "revision", "result",
                                       "error", "cancel_reason", "log_tail", "log_line_count"]
        if let unknown = object.keys.first(where: { !settable.contains($0) && !outputOnly.contains($0) }) {
            throw CLIError(message: "unknown field \"\(unknown)\" in the spec file")
        }
        var job = Job()
        job.type = try string(object, "type") ?? ""
        job.labels = try object["labels"].map { value in
            guard let labels = value as? [String: String] else { throw CLIError(message: "labels must map strings to strings") }
            return labels
        } ?? [:]
        job.priority = Int32(try integer(object, "priority") ?? 0)
        job.streamURL = try string(object, "stream_url") ?? ""
        job.streamPort = UInt32(try integer(object, "stream_port") ?? 0)
        job.viewType = Int32(try integer(object, "view_type") ?? 0)
        job.frequenciesList = try object["frequencies_list"].map { value in
            guard let list = value as? [Any], let numbers = try? list.map(number) else {
                throw CLIError(message: "frequencies_list must be a list of numbers")
            }
            return numbers
        } ?? []
        job.linesDt = try object["lines_dt"].map(number) ?? 0
        job.channelToStreamIndex = try object["channel_to_stream_index"].map(channelMap) ?? [:]
        job.streamAmount = UInt32(try integer(object, "stream_amount") ?? 0)
        job.frequenciesAmount = UInt32(try integer(object, "frequencies_amount") ?? 0)
        job.channelAmount = UInt32(try integer(object, "channel_amount") ?? 0)
        if let metadata = object["metadata"], !(metadata is NSNull) {
            guard let fields = metadata as? [String: Any] else { throw CLIError(message: "metadata must be an object") }
            job.metadata = StreamMetadata(
                dx: try fields["dx"].map(number) ?? 0, prr: try fields["prr"].map(number) ?? 0,
                fiberStartMeters: try fields["fiber_start_meters"].map(number) ?? 0,
                fiberLengthMeters: try fields["fiber_length_meters"].map(number) ?? 0,
                swVersion: fields["sw_version"] as? String ?? "")
        }
        return job
    }

    private static func string(_ object: [String: Any], _ key: String) throws -> String? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        guard let text = value as? String else { throw CLIError(message: "\(key) must be a string") }
        return text
    }

    private static func integer(_ object: [String: Any], _ key: String) throws -> Int? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        let number = try number(value)
        guard number.rounded() == number, let integer = Int(exactly: number) else {
            throw CLIError(message: "\(key) must be a whole number")
        }
        return integer
    }

    private static func number(_ value: Any) throws -> Double {
        // (On Linux a JSON 0 or 1 also bridges to Bool, so booleans cannot be told apart here.)
        if let number = value as? NSNumber { return number.doubleValue }
        throw CLIError(message: "expected a number, found \(value)")
    }

    private static func channelMap(_ value: Any) throws -> [UInt32: UInt32] {
        guard let object = value as? [String: Any] else {
            throw CLIError(message: "channel_to_stream_index must be an object such as {\"1\": 0}")
        }
        var map: [UInt32: UInt32] = [:]
        for (key, index) in object {
            guard let channel = UInt32(key), let stream = UInt32(exactly: try number(index)) else {
                throw CLIError(message: "channel_to_stream_index: \"\(key)\" must map a channel number to a stream index")
            }
            map[channel] = stream
        }
        return map
    }
}
