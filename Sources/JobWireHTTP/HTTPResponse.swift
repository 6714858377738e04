import JobWireJSON
import JobWireProtocol
import NIOCore
import NIOHTTP1

/// A whole response: status, headers and body. Event streams and CSV
/// exports are written in parts instead (see ``EventStream`` and ``CSVExport``).
struct HTTPResponse {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: ByteBuffer
    /// The call's outcome, for Stats and Usage.
    var code: StatusCode = .ok
    var reason = ""

    init(status: HTTPResponseStatus, headers: HTTPHeaders = HTTPHeaders(), body: ByteBuffer = ByteBuffer()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// JSON bytes with their content type.
    static func json(_ bytes: [UInt8], status: HTTPResponseStatus = .ok) -> HTTPResponse {
        json(ByteBuffer(bytes: bytes), status: status)
    }

    /// JSON already in a buffer (a cached encoding, shared, not copied).
    static func json(_ buffer: ByteBuffer, status: HTTPResponseStatus = .ok) -> HTTPResponse {
        var response = HTTPResponse(status: status, body: buffer)
        response.headers.add(name: "content-type", value: "application/json")
        return response
    }

    static func json(_ value: JSONValue, status: HTTPResponseStatus = .ok) -> HTTPResponse {
        json(value.encoded(), status: status)
    }

    /// The error body every route answers, with the HTTP status of its code
    /// (see ``httpStatus(of:)``) and `Retry-After` when the server asked to wait.
    static func error(_ error: JobWireError) -> HTTPResponse {
        var response = json(MessageJSON.error(error.status), status: httpStatus(of: error.status))
        response.code = error.code
        response.reason = error.reason
        if error.status.retryAfterMs > 0 {
            response.headers.add(name: "retry-after", value: String((error.status.retryAfterMs + 999) / 1000))
        }
        if error.code == .unauthenticated {
            response.headers.add(name: "www-authenticate", value: "Bearer realm=\"jobwire\"")
        }
        return response
    }

    static func error(_ code: StatusCode, _ reason: String, _ message: String) -> HTTPResponse {
        error(JobWireError(code, reason, message))
    }

    /// The HTTP status of a JobWire status: the code decides, and a few
    /// reasons that HTTP has a closer word for refine it (docs/HTTP.md has the table).
    static func httpStatus(of status: Status) -> HTTPResponseStatus {
        switch status.reason {
        case Reason.expired: return .gone
        case Reason.revisionMismatch: return .preconditionFailed
        case Reason.messageTooLarge: return .payloadTooLarge
        case Reason.headersTooLarge: return .requestHeaderFieldsTooLarge
        case Reason.requestTimeout: return .requestTimeout
        case Reason.methodNotAllowed: return .methodNotAllowed
        case Reason.unsupportedMediaType: return .unsupportedMediaType
        default: break
        }
        switch status.code {
        case .ok: return .ok
        case .invalidArgument, .outOfRange: return .badRequest
        case .unauthenticated: return .unauthorized
        case .permissionDenied: return .forbidden
        case .notFound: return .notFound
        case .alreadyExists, .failedPrecondition, .aborted: return .conflict
        case .resourceExhausted: return .tooManyRequests
        case .deadlineExceeded: return .gatewayTimeout
        case .unavailable: return .serviceUnavailable
        case .unimplemented: return .notImplemented
        case .cancelled: return .init(statusCode: 499, reasonPhrase: "Client Closed Request")
        case .unknown, .internal, .dataLoss: return .internalServerError
        }
    }
}
