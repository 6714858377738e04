import JobWireProtocol
import JobWireServer
import NIOCore
import NIOHTTP1

/// What a route answers.
enum RouteResult {
    /// A whole response, now.
    case response(HTTPResponse)
    /// A write call: `start` hands the change to the job service and calls
    /// its argument (from any thread) once the store committed, with what
    /// makes the response; the connection runs that on its own loop, so no
    /// encoding happens on the store's thread.
    case pending(start: (@escaping @Sendable (@escaping @Sendable () -> HTTPResponse) -> Void) -> Void)
    /// A body written in parts: an event stream or a CSV export.
    case streaming(any StreamingBody)
}

/// A route's answer and the call it was, for Stats and Usage.
struct Routed {
    var result: RouteResult
    /// The job API call this request was (nil for the API's own documents and preflights).
    var method: Method?
    /// Whose call it was (nil when it failed before authentication).
    var account: KeyAccount?
    /// The principal whose key must stay valid while a streaming body runs:
    /// the key's own, or the key that minted the stream token.
    var authority: Principal?

    /// A request that reached no route (unparseable, or refused before it was read whole).
    static var unrouted: Routed { Routed(.response(HTTPResponse(status: .badRequest))) }

    init(_ result: RouteResult, method: Method? = nil, account: KeyAccount? = nil, authority: Principal? = nil) {
        self.result = result
        self.method = method
        self.account = account
        self.authority = authority
    }
}

/// Where a streaming body writes: the connection, on its event loop.
protocol StreamWriter: AnyObject {
    /// Queues bytes; they go out with the next flush.
    func write(_ bytes: ByteBuffer)
    func flush()
    /// Whether the socket has room (the connection's output is under its
    /// high-water mark, `maxStreamBufferBytes`): a body stops producing
    /// while it has none and is resumed with ``StreamingBody/resume()``.
    var isWritable: Bool { get }
    /// Ends the body (and the call with `code`); the connection may be kept.
    func finish(code: StatusCode, reason: String)
    /// Ends the call with `code` by closing the connection without ending
    /// the body, so the client sees a truncated transfer, not a short success.
    func abort(code: StatusCode, reason: String)
    /// Schedules `body` on the connection's loop after `milliseconds`.
    func schedule(afterMs milliseconds: Int64, _ body: @escaping () -> Void)
}

/// A response body produced over time, on its connection's event loop.
protocol StreamingBody: AnyObject {
    var status: HTTPResponseStatus { get }
    var headers: HTTPHeaders { get }
    /// The head was written: start producing.
    func start(_ writer: any StreamWriter)
    /// The socket drained after it had no room.
    func resume()
    /// Ends the body before its end. With `status`, the server ended it (it
    /// drains, or the caller's key was revoked): say so where the format has a
    /// way, then finish. Without, the connection closed: release everything
    /// and write nothing more.
    func stop(ending status: Status?)
}
