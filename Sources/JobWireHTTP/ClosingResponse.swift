import JobWireJSON
import JobWireProtocol
import NIOCore

/// The answer written straight to the socket where there is no HTTP exchange
/// to answer within (a request that never arrived whole, a connection over
/// the limit): a fixed status line, the JSON error, then the close.
enum ClosingResponse {
    static func write(_ statusLine: String, _ status: Status, extraHeaders: String = "", on context: ChannelHandlerContext) {
        let body = MessageJSON.error(status).encoded()
        var buffer = context.channel.allocator.buffer(capacity: body.count + 160)
        buffer.writeString("HTTP/1.1 \(statusLine)\r\ncontent-type: application/json\r\n\(extraHeaders)connection: close\r\n"
                           + "content-length: \(body.count)\r\n\r\n")
        buffer.writeBytes(body)
        let channel = context.channel
        context.writeAndFlush(NIOAny(buffer)).whenComplete { _ in channel.close(promise: nil) }
    }
}
