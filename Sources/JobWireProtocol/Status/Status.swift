/// The outcome of a call or of a connection: a canonical code, a stable
/// machine-readable reason, a message for people and an optional retry hint.
public struct Status: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var code: StatusCode
    /// UPPER_SNAKE_CASE, stable across releases; empty for OK. See ``Reason``.
    public var reason: String
    public var message: String
    /// When non-zero, how long the caller should wait before retrying.
    public var retryAfterMs: UInt32

    public init(code: StatusCode, reason: String = "", message: String = "", retryAfterMs: UInt32 = 0) {
        self.code = code
        self.reason = reason
        self.message = message
        self.retryAfterMs = retryAfterMs
    }

    public static let ok = Status(code: .ok)

    public var isOK: Bool { code == .ok }

    public var description: String {
        var text = code.name
        if !reason.isEmpty { text += " (\(reason))" }
        if !message.isEmpty { text += ": \(message)" }
        if retryAfterMs > 0 { text += " [retry after \(retryAfterMs) ms]" }
        return text
    }
}
