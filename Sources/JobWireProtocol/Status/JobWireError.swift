/// The one error type of JobWire: every failure carries a ``Status`` with a
/// canonical code and a machine-readable reason, so it can be sent on the
/// wire as it is.
public struct JobWireError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Status

    public init(_ status: Status) {
        self.status = status
    }

    public init(_ code: StatusCode, _ reason: String, _ message: String, retryAfterMs: UInt32 = 0) {
        self.status = Status(code: code, reason: reason, message: message, retryAfterMs: retryAfterMs)
    }

    public var code: StatusCode { status.code }
    public var reason: String { status.reason }
    public var message: String { status.message }

    public var description: String { status.description }
}

extension JobWireError {
    static func invalidArgument(_ reason: String, _ message: String) -> JobWireError {
        JobWireError(.invalidArgument, reason, message)
    }
}

extension JobWireError {
    /// How long the server asked to wait before retrying, if it did.
    public var retryAfter: Duration? {
        status.retryAfterMs > 0 ? .milliseconds(Int64(status.retryAfterMs)) : nil
    }

    /// `NOT_FOUND`, whatever the reason (unknown, expired, deleted).
    public var isNotFound: Bool { code == .notFound }
    /// `NOT_FOUND` because the job's retention is over (REST's 410).
    public var isExpired: Bool { code == .notFound && reason == Reason.expired }
    public var isInvalidArgument: Bool { code == .invalidArgument }
    public var isDeadlineExceeded: Bool { code == .deadlineExceeded }
    public var isUnavailable: Bool { code == .unavailable }
    public var isFailedPrecondition: Bool { code == .failedPrecondition }
    public var isResourceExhausted: Bool { code == .resourceExhausted }
    public var isAlreadyExists: Bool { code == .alreadyExists }
    public var isCancelled: Bool { code == .cancelled }
}
