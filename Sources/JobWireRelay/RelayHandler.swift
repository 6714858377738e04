import NIOCore

/// One side of a relayed connection: what its channel reads is written to the
/// partner's channel, and it reads only while the partner can take more, so a
/// slow side slows the other instead of filling memory. An end of input is
/// passed on as a half close; a close or an error closes both.
///
/// Both handlers of a pair live on channels of one event loop (the relay dials
/// the writer on the client's loop), so they call each other directly. The
/// writer's channel becomes active before its partner is joined: what it
/// reads meanwhile (the writer speaks only after the client's Hello) would
/// have nowhere to go, so it reads nothing until joined.
final class RelayHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var partner: RelayHandler?
    private var context: ChannelHandlerContext?
    /// A read was asked for while the partner could not take more.
    private var readWaiting = false

    /// Makes two handlers relay to each other: one on the client's channel, one on the writer's.
    static func join(_ first: RelayHandler, _ second: RelayHandler) {
        first.partner = second
        second.partner = first
        first.readIfWaiting()
        second.readIfWaiting()
    }

    /// Reads now if a read was held back until the partner could take it.
    private func readIfWaiting() {
        guard readWaiting, let context, partner?.context?.channel.isWritable ?? false else { return }
        readWaiting = false
        context.read()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        partner?.context?.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.context?.flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner?.context?.close(promise: nil)
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            partner?.context?.close(mode: .output, promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        partner?.context?.close(promise: nil)
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner?.readIfWaiting() }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if let partner, partner.context?.channel.isWritable ?? false {
            context.read()
        } else {
            readWaiting = true
        }
    }
}
