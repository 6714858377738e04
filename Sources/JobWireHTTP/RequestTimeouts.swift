import JobWireProtocol
import NIOCore

/// The first handler of every HTTP connection, on raw bytes: a request must
/// arrive whole within `requestTimeoutMs` of its first byte (against clients
/// that trickle headers or bodies: slowloris), and a keep-alive connection
/// may sit idle between requests for `idleTimeoutMs`. Event streams and
/// pending write calls are neither: they are the server's to finish.
///
/// The connection handler, on the same loop, tells it where the exchange is
/// by calling ``requestReceived()`` and ``responseSent()`` (an inbound-only
/// handler: responses do not pass through it).
final class RequestTimeouts: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Phase {
        case idle
        case reading
        case answering
    }

    private let requestTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private var phase = Phase.idle
    private var timer: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(requestTimeoutMs: Int, idleTimeoutMs: Int) {
        self.requestTimeout = .milliseconds(Int64(requestTimeoutMs))
        self.idleTimeout = .milliseconds(Int64(idleTimeoutMs))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { arm(context, idleTimeout) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context, idleTimeout)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if phase == .idle {
            phase = .reading
            arm(context, requestTimeout)
        }
        context.fireChannelRead(data)
    }

    /// A whole request arrived: the server is answering, with no deadline of this handler's.
    func requestReceived() {
        phase = .answering
        timer?.cancel()
        timer = nil
    }

    /// The answer went out: the connection is idle until the next request's first byte.
    func responseSent() {
        guard let context else { return }
        phase = .idle
        arm(context, idleTimeout)
    }

    private func arm(_ context: ChannelHandlerContext, _ delay: TimeAmount) {
        timer?.cancel()
        let loopBound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: delay) {
            loopBound.value.handler.expired(loopBound.value.context)
        }
    }

    private func expired(_ context: ChannelHandlerContext) {
        timer = nil
        switch phase {
        case .idle:
            context.close(promise: nil)
        case .reading:
            ClosingResponse.write("408 Request Timeout", Status(
                code: .deadlineExceeded, reason: Reason.requestTimeout,
                message: "the request did not arrive whole within the server's request timeout"), on: context)
        case .answering:
            break
        }
    }
}
