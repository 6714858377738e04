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
