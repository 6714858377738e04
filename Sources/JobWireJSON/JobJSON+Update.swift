import Foundation
import JobWireProtocol

extension JobJSON {
    /// The members of a worker's report (UpdateJob) in JSON.
    static let updateMembers: Set<String> = [
        "status", "progress", "current_task", "eta_seconds", "log_lines", "result", "error", "lease_ttl_ms",
    ]

    /// An UpdateJob request from JSON: the job's own member names for what
    /// the report sets (`status`, `progress`, `current_task`, `eta_seconds`,
    /// `result`, `error`), `log_lines` to append, and `lease_ttl_ms`. A
    /// member that is absent or null leaves the job's value as it is.
    /// `result.data` is a string, or any JSON value when `content_type`
    /// names JSON; `result.data_base64` carries bytes.
    public static func update(from bytes: [UInt8], jobID: String, expectedRevision: UInt64) throws(JobWireError) -> UpdateJobRequest {
        let reader = JSONMemberReader(object: try JSONMemberReader.object(from: bytes, what: "the update"))
        try reader.allowOnly(updateMembers)
        var request = UpdateJobRequest(jobID: jobID)
        request.expectedRevision = expectedRevision
        if let name = try reader.string("status") {
            request.status = try status(named: name, field: "status")
        }
        request.progress = try reader.number("progress")
        request.currentTask = try reader.string("current_task")
        request.etaSeconds = try reader.number("eta_seconds")
        request.logLines = try reader.strings("log_lines") ?? []
        request.leaseTTLMs = try reader.integer("lease_ttl_ms") ?? 0
        if let fields = try reader.object("result") {
            request.result = try result(from: fields)
        }
        if let fields = try reader.object("error") {
            let nested = JSONMemberReader(object: fields, path: "error.")
            try nested.allowOnly(["message", "failed_task", "retry_count", "reason"])
            request.error = JobError(message: try nested.string("message") ?? "", failedTask: try nested.string("failed_task") ?? "",
                                     retryCount: try nested.integer("retry_count") ?? 0, reason: try nested.string("reason") ?? "")
        }
        return request
    }

    /// A status by its lower-case name (`running`); INVALID_ENUM_VALUE names the field otherwise.
    public static func status(named name: String, field: String) throws(JobWireError) -> JobStatus {
        guard let status = JobStatus.allCases.first(where: { $0.name == name && $0 != .unspecified }) else {
            throw JobWireError(.invalidArgument, Reason.invalidEnumValue,
                               "\(field): \"\(name.prefix(40))\" is not a job status (pending, running, cancelling, completed, failed, cancelled)")
        }
        return status
    }

    private static func result(from fields: [String: Any]) throws(JobWireError) -> JobResult {
        let nested = JSONMemberReader(object: fields, path: "result.")
        try nested.allowOnly(["content_type", "data", "data_base64"])
        let contentType = try nested.string("content_type") ?? ""
        if let encoded = try nested.string("data_base64") {
            guard !nested.has("data") else {
                throw JobWireError(.invalidArgument, Reason.fieldNotAllowed, "result: give data or data_base64, not both")
            }
            guard let data = Data(base64Encoded: encoded) else {
                throw JobWireError(.invalidArgument, Reason.malformedMessage, "result.data_base64 is not base64")
            }
            return JobResult(contentType: contentType, data: Array(data))
        }
        guard let value = fields["data"], !(value is NSNull) else {
            return JobResult(contentType: contentType, data: [])
        }
        if let text = value as? String {
            return JobResult(contentType: contentType, data: Array(text.utf8))
        }
        guard contentType.contains("json"),
              let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys]) else {
            throw JobWireError(.invalidArgument, Reason.malformedMessage,
                               "result.data must be a string, or any JSON value when content_type names JSON")
        }
        return JobResult(contentType: contentType, data: Array(data))
    }
}
