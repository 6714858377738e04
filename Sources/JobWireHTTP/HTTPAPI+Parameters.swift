import JobWireJSON
import JobWireProtocol
import NIOHTTP1

/// Reading query parameters and conditional headers; each failure names the
/// parameter (INVALID_ARGUMENT / INVALID_PARAMETER, HTTP 400).
extension HTTPAPI {
    static func invalid(_ message: String) -> JobWireError {
        JobWireError(.invalidArgument, Reason.invalidParameter, message)
    }

    /// Unknown query parameters are refused, so a misspelt filter never silently matches everything.
    static func allowOnly(_ names: Set<String>, in request: HTTPRequest) throws(JobWireError) {
        if let unknown = request.query.first(where: { !names.contains($0.name) && $0.name != "stream_token" }) {
            throw invalid("unknown query parameter \"\(unknown.name.prefix(64))\"; this route takes \(names.sorted().joined(separator: ", "))")
        }
    }

    static func integer<Integer: FixedWidthInteger>(_ name: String, in request: HTTPRequest) throws(JobWireError) -> Integer? {
        guard let text = request.parameter(name) else { return nil }
        guard let value = Integer(text) else {
            throw invalid("\(name) must be a whole number between \(Integer.min) and \(Integer.max), not \"\(text.prefix(32))\"")
        }
        return value
    }

    static func bool(_ name: String, in request: HTTPRequest) throws(JobWireError) -> Bool? {
        guard let text = request.parameter(name) else { return nil }
        switch text.lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default: throw invalid("\(name) must be true or false, not \"\(text.prefix(32))\"")
        }
    }

    static func time(_ name: String, in request: HTTPRequest) throws(JobWireError) -> Int64? {
        guard let text = request.parameter(name) else { return nil }
        guard let milliseconds = JobJSON.parseTime(text) else {
            throw invalid("\(name) must be an ISO 8601 time such as 2026-12-02T08:00:00Z, not \"\(text.prefix(40))\"")
        }
        return milliseconds
    }

    static let listParameters: Set<String> = [
        "status", "type", "label", "created_after", "created_before", "priority_min", "priority_max", "search",
        "order_by", "ascending", "page_size", "page_token",
    ]

    /// ListJobs' filters from the query: `status` (repeated or comma-separated),
    /// `type`, `label=KEY=VALUE` (repeated), `created_after`, `created_before`,
    /// `priority_min`, `priority_max`, `search`, `order_by`, `ascending`,
    /// `page_size`, `page_token`.
    static func listRequest(from request: HTTPRequest) throws(JobWireError) -> ListJobsRequest {
        var list = ListJobsRequest()
        for name in request.parameters("status", splittingCommas: true) {
            list.statuses.append(try JobJSON.status(named: name, field: "status"))
        }
        list.type = request.parameter("type") ?? ""
        for label in request.parameters("label", splittingCommas: false) {
            let parts = label.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty else { throw invalid("label must be KEY=VALUE, not \"\(label.prefix(64))\"") }
            list.labels[String(parts[0])] = String(parts[1])
        }
        list.createdAfterMs = try time("created_after", in: request) ?? 0
        list.createdBeforeMs = try time("created_before", in: request) ?? 0
        let minimum: Int32? = try integer("priority_min", in: request)
        let maximum: Int32? = try integer("priority_max", in: request)
        if minimum != nil || maximum != nil {
            list.priority = PriorityRange(min: minimum ?? .min, max: maximum ?? .max)
        }
        list.query = request.parameter("search") ?? ""
        if let order = request.parameter("order_by") {
            guard let parsed = JobOrder(name: order) else { throw invalid("order_by must be created, updated or priority") }
            list.orderBy = parsed
        }
        list.ascending = try bool("ascending", in: request) ?? false
        list.pageSize = try integer("page_size", in: request) ?? 0
        list.pageToken = request.parameter("page_token") ?? ""
        return list
    }

    /// A job's entity tag: its revision, quoted (RFC 9110).
    static func entityTag(_ revision: UInt64) -> String { "\"\(revision)\"" }

    /// Whether `If-None-Match` names the revision (or is `*`).
    static func noneMatch(_ headers: HTTPHeaders, revision: UInt64) -> Bool {
        let tag = entityTag(revision)
        return headers[canonicalForm: "if-none-match"].contains { value in
            let candidate = value.hasPrefix("W/") ? String(value.dropFirst(2)) : String(value)
            return candidate == tag || candidate == "*"
        }
    }

    /// `If-Match` as an expected revision: 0 when absent or `*`.
    static func expectedRevision(_ headers: HTTPHeaders) throws(JobWireError) -> UInt64 {
        guard let value = headers.first(name: "if-match")?.trimmingCharacters(in: .whitespaces), value != "*" else { return 0 }
        let bare = value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2 ? String(value.dropFirst().dropLast()) : value
        guard let revision = UInt64(bare), revision > 0 else {
            throw invalid("If-Match must be a job's ETag, such as \"3\", not \(value.prefix(40))")
        }
        return revision
    }

    /// The body of a POST or PATCH: JSON, within the server's limit (NIO's handler enforces the size).
    static func jsonBody(_ request: HTTPRequest, required: Bool) throws(JobWireError) -> [UInt8]? {
        let bytes = request.bodyBytes
        guard !bytes.isEmpty else {
            if required { throw JobWireError(.invalidArgument, Reason.missingField, "this call needs a JSON body") }
            return nil
        }
        guard request.contentTypeIs("application/json") else {
            throw JobWireError(.invalidArgument, Reason.unsupportedMediaType, "the body must be application/json")
        }
        return bytes
    }
}
