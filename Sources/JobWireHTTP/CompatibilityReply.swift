import Foundation
import JobWireJSON
import JobWireProtocol
import JobWireServer
import NIOCore
import NIOHTTP1

/// Input FastAPI's validation would have refused (a query parameter that is
/// not a number, out of range, not a date): answered 422 with pydantic's list.
struct CompatibilityInvalidInput: Error {
    /// Where, as FastAPI names it: `["query", "per_page"]`, `["body"]`.
    let location: [String]
    /// pydantic's error type, e.g. `int_parsing`.
    let type: String
    let message: String
    let input: String?

    static func query(_ name: String, _ type: String, _ message: String, input: String?) -> CompatibilityInvalidInput {
        CompatibilityInvalidInput(location: ["query", name], type: type, message: message, input: input)
    }
}

/// How one compatibility route answers what is not a success: in the
/// dialect of the service it stands in for. Sendable: write calls answer
/// with it from the store's completion.
struct CompatibilityReply: Sendable {
    enum Dialect: Sendable {
        /// FastAPI (000, 001, 003): `{"detail": "..."}`; 422 with pydantic's list for invalid input.
        case fastAPI
        /// 002's JobStore endpoint: `{"error", "timestamp", "path"}`.
        case jobStore
        /// 004's fastify route: `{"error": "..."}`.
        case fastify
    }

    let dialect: Dialect
    /// The request's path, which 002's error bodies name.
    let path: String
    /// What the route says of a job it cannot find (000 names the id; 003's event stream says "Access denied").
    let notFound: String
    /// 404, or 403 for 003's event stream, which answered a missing job as it answered another key's.
    let notFoundStatus: HTTPResponseStatus
    /// INVALID_ARGUMENT about the body is pydantic's 422 (000's configure).
    let bodyValidation: Bool

    init(_ dialect: Dialect, _ request: HTTPRequest, notFound: String = "Job not found",
         notFoundStatus: HTTPResponseStatus = .notFound, bodyValidation: Bool = false) {
        self.dialect = dialect
        self.path = String(request.head.uri.prefix { $0 != "?" && $0 != "#" }.prefix(2048))
        self.notFound = notFound
        self.notFoundStatus = notFoundStatus
        self.bodyValidation = bodyValidation
    }

    /// The dialect's error body.
    func body(_ message: String) -> JSONValue {
        switch dialect {
        case .fastAPI:
            .object(["detail": .string(message)])
        case .jobStore:
            .object(["error": .string(message), "timestamp": .string(ISO8601.string(milliseconds: WallClock.nowMs())),
                     "path": .string(path)])
        case .fastify:
            .object(["error": .string(message)])
        }
    }

    /// A response with the dialect's body; `code` and `reason` are what Stats and Usage record.
    func response(_ status: HTTPResponseStatus, _ message: String, code: StatusCode, reason: String) -> HTTPResponse {
        var response = HTTPResponse.json(body(message), status: status)
        response.code = code
        response.reason = reason
        return response
    }

    func jobNotFound(reason: String = Reason.jobNotFound) -> HTTPResponse {
        response(notFoundStatus, notFound, code: .notFound, reason: reason)
    }

    /// A job id that is not a UUID: 002 and 004 validated ids (400); the
    /// FastAPI services looked them up and found nothing.
    func invalidJobID() -> HTTPResponse {
        switch dialect {
        case .fastAPI:
            return jobNotFound(reason: Reason.invalidJobID)
        case .jobStore:
            return response(.badRequest, "Invalid job_id format (must be UUID)", code: .invalidArgument, reason: Reason.invalidJobID)
        case .fastify:
            return response(.badRequest, "Invalid job ID format", code: .invalidArgument, reason: Reason.invalidJobID)
        }
    }

    /// A JobWire error in the dialect: any NOT_FOUND (EXPIRED included) is the
    /// route's 404, since the services had no 410 and their pollers stop on
    /// 404; everything else keeps JobWire's status and headers (Retry-After,
    /// WWW-Authenticate) with the dialect's body.
    func error(_ error: JobWireError) -> HTTPResponse {
        if error.code == .notFound {
            return jobNotFound(reason: error.reason)
        }
        if bodyValidation, error.code == .invalidArgument, error.reason != Reason.unsupportedMediaType {
            return invalid(CompatibilityInvalidInput(location: ["body"], type: "value_error", message: error.message, input: nil))
        }
        var response = HTTPResponse.error(error)
        response.body = ByteBuffer(bytes: body(error.message).encoded())
        return response
    }

    /// An error `call(...)` answered itself (key, role, tenant, rate limit),
    /// restated in the dialect; its message is read back from JobWire's body.
    func restated(_ original: HTTPResponse) -> HTTPResponse {
        var response = original
        response.body = ByteBuffer(bytes: body(Self.message(of: original)).encoded())
        return response
    }

    private static func message(of response: HTTPResponse) -> String {
        var body = response.body
        guard let bytes = body.readBytes(length: body.readableBytes),
              let object = try? JSONMemberReader.object(from: bytes, what: "the error"),
              let error = object["error"] as? [String: Any], let message = error["message"] as? String else {
            return response.status.reasonPhrase
        }
        return message
    }

    /// Invalid input: FastAPI's 422 with pydantic's error list, 400 elsewhere.
    func invalid(_ problem: CompatibilityInvalidInput) -> HTTPResponse {
        var response: HTTPResponse
        switch dialect {
        case .fastAPI:
            let entry: JSONValue = .object([
                "type": .string(problem.type),
                "loc": .array(problem.location.map(JSONValue.string)),
                "msg": .string(problem.message),
                "input": problem.input.map(JSONValue.string) ?? .null,
            ])
            response = .json(.object(["detail": .array([entry])]), status: .unprocessableEntity)
        case .jobStore, .fastify:
            response = .json(body(problem.message), status: .badRequest)
        }
        response.code = .invalidArgument
        response.reason = Reason.invalidParameter
        return response
    }

    /// 405 with `Allow`, as the services' frameworks answered it.
    func methodNotAllowed(_ allowed: String) -> HTTPResponse {
        var response = self.response(.methodNotAllowed, "Method Not Allowed", code: .unimplemented, reason: Reason.methodNotAllowed)
        response.headers.add(name: "allow", value: allowed)
        return response
    }

    /// 003's answer to cancelling a job that has ended.
    func cannotCancel(_ status: JobStatus) -> HTTPResponse {
        response(.badRequest, "Cannot cancel job with status: \(status.name)", code: .failedPrecondition, reason: Reason.jobTerminal)
    }
}

// MARK: - Query parameters as FastAPI read them

/// Query parameters read as FastAPI's declarations read them: unknown ones
/// are ignored (their front ends add cache busters), malformed ones are 422.
enum CompatibilityQuery {
    static func integer(_ name: String, in request: HTTPRequest, minimum: Int? = nil,
                        maximum: Int? = nil) throws(CompatibilityInvalidInput) -> Int? {
        guard let text = request.parameter(name) else { return nil }
        guard let value = Int(text) else {
            throw CompatibilityInvalidInput.query(name, "int_parsing", "Input should be a valid integer, unable to parse string as an integer", input: text)
        }
        if let minimum, value < minimum {
            throw CompatibilityInvalidInput.query(name, "greater_than_equal", "Input should be greater than or equal to \(minimum)", input: text)
        }
        if let maximum, value > maximum {
            throw CompatibilityInvalidInput.query(name, "less_than_equal", "Input should be less than or equal to \(maximum)", input: text)
        }
        return value
    }

    /// A time: ISO 8601 with a zone, without one (read as UTC: the services
    /// stored naive UTC times), or a plain date; as epoch milliseconds.
    static func time(_ name: String, in request: HTTPRequest) throws(CompatibilityInvalidInput) -> Int64? {
        guard let text = request.parameter(name) else { return nil }
        guard let milliseconds = JobJSON.parseTime(text) ?? JobJSON.parseTime(text + "Z") else {
            throw CompatibilityInvalidInput.query(name, "datetime_from_date_parsing", "Input should be a valid datetime", input: text)
        }
        return milliseconds
    }

    /// pydantic's booleans.
    static func bool(_ name: String, in request: HTTPRequest) throws(CompatibilityInvalidInput) -> Bool? {
        guard let text = request.parameter(name) else { return nil }
        switch text.lowercased() {
        case "true", "1", "yes", "on", "t", "y": return true
        case "false", "0", "no", "off", "f", "n": return false
        default: throw CompatibilityInvalidInput.query(name, "bool_parsing", "Input should be a valid boolean, unable to interpret input", input: text)
        }
    }
}

/// 003's `GET /jobs` query: filters, sort and page.
struct CompatibilityListQuery {
    var list = ListJobsRequest()
    var page = 1
    var perPage = Limits.defaultPageSize
    /// A `status` JobWire does not have: 003's equality filter matched no job.
    var matchesNothing = false

    init(_ request: HTTPRequest) throws(CompatibilityInvalidInput) {
        page = try CompatibilityQuery.integer("page", in: request, minimum: 1) ?? 1
        perPage = try CompatibilityQuery.integer("per_page", in: request, minimum: 1, maximum: Limits.maxPageSize)
            ?? Limits.defaultPageSize
        if let name = request.parameter("status"), !name.isEmpty {
            if let status = JobStatus.allCases.first(where: { $0.name == name && $0 != .unspecified }) {
                list.statuses = [status]
            } else {
                matchesNothing = true
            }
        }
        if let priority = try CompatibilityQuery.integer("priority", in: request, minimum: Int(Int32.min),
                                                         maximum: Int(Int32.max)) {
            list.priority = PriorityRange(min: Int32(priority), max: Int32(priority))
        }
        // 003 took both ends inclusively; ListJobs' upper bound is exclusive.
        list.createdAfterMs = try CompatibilityQuery.time("from_date", in: request) ?? 0
        list.createdBeforeMs = try CompatibilityQuery.time("to_date", in: request).map { $0 &+ 1 } ?? 0
        list.query = request.parameter("search") ?? ""
        switch request.parameter("sort_by") ?? "created_at" {
        case "created_at": list.orderBy = .created
        case "updated_at": list.orderBy = .updated
        case "priority": list.orderBy = .priority
        case let other:
            throw CompatibilityInvalidInput.query("sort_by", "literal_error", "Input should be 'created_at', 'updated_at' or 'priority'", input: other)
        }
        // 003: "desc" sorts descending, any other value ascending.
        list.ascending = (request.parameter("sort_order") ?? "desc") != "desc"
    }
}
