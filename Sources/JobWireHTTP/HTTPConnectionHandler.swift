import JobWireJSON
import JobWireProtocol
import JobWireServer
import NIOCore
import JobWireKeys
import NIOHTTP1
import NIOSSL
import Synchronization

/// One HTTP connection: assembles each request (head and bounded body) from
/// NIO's HTTP/1.1 decoder, routes it, and writes the answer: whole, once a
/// write call committed, or in parts for event streams and exports. NIO's
/// pipelining handler before it delivers one request at a time.
///
/// Lives on its channel's event loop; only ``drain()`` is called from
/// elsewhere, and it hops onto the loop.
final class HTTPConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        /// Reading a request's body.
        case receiving(HTTPRequestHead, ByteBuffer?)
        /// The body was too large (413 sent): the rest of the request is ignored and the connection closes.
        case discarding
        /// Routed; the response (or a streaming body) is in progress.
        case responding(Exchange)
        case closed
    }

    /// What a response in progress needs to finish.
    private struct Exchange {
        let head: HTTPRequestHead
        let keepAlive: Bool
        let routed: Routed
        let startedAtNs: UInt64
        var body: (any StreamingBody)?
        var bytesOut = 0
    }

    private let api: HTTPAPI
    private let connections: HTTPConnections
    /// The connection's first handler, on the same loop.
    private let timeouts: RequestTimeouts
    private var state = State.idle
    private var context: ChannelHandlerContext?
    /// Set when the server drains: finish the exchange in progress, then close.
    private var draining = false
    /// The fingerprint of the client's TLS certificate (mutual TLS), read once per connection; nil without one.
    private var certificateFingerprint: [UInt8]??

    init(api: HTTPAPI, connections: HTTPConnections, timeouts: RequestTimeouts) {
        self.api = api
        self.connections = connections
        self.timeouts = timeouts
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .responding(let exchange) = state {
            exchange.body?.stop(ending: nil)
            if exchange.body != nil {
                streamEnded()
                // A stream's client went away: the call ends there.
                api.record(exchange.routed, code: .cancelled, reason: Reason.connectionLost, bytesOut: exchange.bytesOut,
                           startedAtNs: exchange.startedAtNs)
            }
        }
        state = .closed
        connections.remove(self)
        self.context = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            guard case .idle = state else { return }
            if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > api.configuration.maxBodyBytes {
                rejectBody(context, head, declared: length)
                return
            }
            state = .receiving(head, nil)
        case .body(var chunk):
            guard case .receiving(let head, var body) = state else { return }
            if (body?.readableBytes ?? 0) + chunk.readableBytes > api.configuration.maxBodyBytes {
                rejectBody(context, head, declared: nil)
                return
            }
            if body == nil {
                body = chunk
            } else {
                body?.writeBuffer(&chunk)
            }
            state = .receiving(head, body)
        case .end:
            guard case .receiving(let head, let body) = state else { return }
            timeouts.requestReceived()
            handle(context, head, body)
        }
    }

    /// NIO's decoder found bytes that are not HTTP/1.1, or a head over the
    /// limits: answered (when no response has started) with the JSON error,
    /// then the decoder closes the connection.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.close(promise: nil)
            return
        }
        switch state {
        case .idle, .receiving:
            let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")
            state = .responding(Exchange(head: head, keepAlive: false, routed: Routed.unrouted,
                                         startedAtNs: MonotonicClock.nowNs()))
            if parserError == .headerOverflow {
                respond(.error(.resourceExhausted, Reason.headersTooLarge,
                               "the request's headers exceed this server's limit of \(api.configuration.maxHeaderBytes) bytes or \(api.configuration.maxHeaderFields) fields"))
            } else {
                respond(.error(.invalidArgument, Reason.malformedRequest, "the request is not valid HTTP/1.1 (\(parserError))"))
            }
        case .responding, .discarding, .closed:
            context.close(promise: nil)
        }
    }

    // MARK: Routing

    /// SHA-256 of the DER of the certificate the client presented in the TLS handshake (verified by the context's
    /// client CAs), the same fingerprint the keys file names it by.
    private func clientCertificateFingerprint(_ context: ChannelHandlerContext) -> [UInt8]? {
        if let known = certificateFingerprint { return known }
        let tls = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)
        let fingerprint = (try? tls?.peerCertificate?.toDERBytes()).flatMap { $0 }.map(APIKey.sha256)
        certificateFingerprint = .some(fingerprint)
        return fingerprint
    }

    private func handle(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ body: ByteBuffer?) {
        let startedAtNs = MonotonicClock.nowNs()
        let keepAlive = head.isKeepAlive && !draining
        guard let request = HTTPRequest(head: head, body: body, startedAtNs: startedAtNs, eventLoop: context.eventLoop,
                                        certificateFingerprint: clientCertificateFingerprint(context)) else {
            let exchange = Exchange(head: head, keepAlive: keepAlive, routed: Routed.unrouted, startedAtNs: startedAtNs)
            state = .responding(exchange)
            respond(.error(.invalidArgument, Reason.malformedRequest, "the request target is not a valid path and query"))
            return
        }
        let routed: Routed
        if head.method == .OPTIONS, head.headers.contains(name: "access-control-request-method") {
            routed = Routed(.response(api.preflight(head)))
        } else {
            routed = api.route(request)
        }
        state = .responding(Exchange(head: head, keepAlive: keepAlive, routed: routed, startedAtNs: startedAtNs))
        switch routed.result {
        case .response(let response):
            respond(response)
        case .pending(let start):
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            let eventLoop = context.eventLoop
            start { makeResponse in
                eventLoop.execute { loopBound.value.respond(makeResponse()) }
            }
        case .streaming(let body):
            startStreaming(body)
        }
    }

    // MARK: Whole responses

    /// Writes a whole response for the exchange in progress and records the call.
    private func respond(_ response: HTTPResponse) {
        guard let context, case .responding(var exchange) = state else { return }
        var response = response
        var head = HTTPResponseHead(version: exchange.head.version, status: response.status, headers: response.headers)
        api.addCORSHeaders(to: &head.headers, for: exchange.head)
        let hasBody = response.status != .notModified && response.status != .noContent
        if hasBody {
            head.headers.replaceOrAdd(name: "content-length", value: String(response.body.readableBytes))
        }
        if !exchange.keepAlive {
            head.headers.replaceOrAdd(name: "connection", value: "close")
        }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if hasBody, exchange.head.method != .HEAD, response.body.readableBytes > 0 {
            exchange.bytesOut = response.body.readableBytes
            context.write(wrapOutboundOut(.body(.byteBuffer(response.body))), promise: nil)
        }
        api.record(exchange.routed, code: response.code, reason: response.reason, bytesOut: exchange.bytesOut,
                   startedAtNs: exchange.startedAtNs)
        response.body.clear()
        endExchange(context, keepAlive: exchange.keepAlive)
    }

    private func endExchange(_ context: ChannelHandlerContext, keepAlive: Bool) {
        state = .idle
        if keepAlive && !draining {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            timeouts.responseSent()
        } else {
            state = .closed
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    /// 413 for a body over the limit; the connection closes, since the rest of the body would have to be read.
    private func rejectBody(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, declared: Int?) {
        let routed = Routed.unrouted
        state = .responding(Exchange(head: head, keepAlive: false, routed: routed, startedAtNs: MonotonicClock.nowNs()))
        let size = declared.map { "\($0)-byte" } ?? "larger"
        respond(.error(.invalidArgument, Reason.messageTooLarge,
                       "a \(size) body exceeds this server's limit of \(api.configuration.maxBodyBytes) bytes"))
        state = .discarding
    }

    // MARK: Streaming bodies

    private func startStreaming(_ body: any StreamingBody) {
        guard let context, case .responding(var exchange) = state else { return }
        exchange.body = body
        state = .responding(exchange)
        // Counted with the binary port's open streams, in Stats.
        api.service.stats.streams.add(1, ordering: .relaxed)
        var head = HTTPResponseHead(version: exchange.head.version, status: body.status, headers: body.headers)
        api.addCORSHeaders(to: &head.headers, for: exchange.head)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        body.start(self)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, case .responding(let exchange) = state {
            exchange.body?.resume()
        }
        context.fireChannelWritabilityChanged()
    }

    // MARK: Draining

    /// The server is shutting down: an idle connection closes now, a
    /// request in progress finishes first, an event stream ends with an
    /// `error` event saying so (its client reconnects elsewhere or later).
    func drain() {
        guard let context else { return }
        draining = true
        switch state {
        case .idle:
            state = .closed
            context.close(promise: nil)
        case .responding(let exchange):
            exchange.body?.stop(ending: Status(code: .unavailable, reason: Reason.serverShuttingDown,
                                               message: "the server is shutting down; reconnect"))
        case .receiving, .discarding, .closed:
            break
        }
    }

    /// After a keys reload: a streaming body whose key was revoked (or now
    /// grants another tenant or role) ends, as the binary port closes such a
    /// connection; the client authenticates again to go on.
    func recheckKey() {
        guard case .responding(let exchange) = state, let body = exchange.body, let authority = exchange.routed.authority,
              !api.service.isCurrent(authority) else { return }
        body.stop(ending: Status(code: .unauthenticated, reason: Reason.invalidAPIKey, message: "the API key was revoked or changed"))
    }
}

extension HTTPConnectionHandler: StreamWriter {
    var isWritable: Bool { context?.channel.isWritable ?? false }

    func write(_ bytes: ByteBuffer) {
        guard let context, case .responding(var exchange) = state, exchange.body != nil else { return }
        exchange.bytesOut += bytes.readableBytes
        state = .responding(exchange)
        if exchange.head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil)
        }
    }

    func flush() {
        context?.flush()
    }

    private func streamEnded() {
        api.service.stats.streams.subtract(1, ordering: .relaxed)
    }

    func finish(code: StatusCode, reason: String) {
        guard let context, case .responding(let exchange) = state, exchange.body != nil else { return }
        streamEnded()
        api.record(exchange.routed, code: code, reason: reason, bytesOut: exchange.bytesOut, startedAtNs: exchange.startedAtNs)
        endExchange(context, keepAlive: exchange.keepAlive)
    }

    func abort(code: StatusCode, reason: String) {
        guard let context, case .responding(let exchange) = state, exchange.body != nil else { return }
        streamEnded()
        api.record(exchange.routed, code: code, reason: reason, bytesOut: exchange.bytesOut, startedAtNs: exchange.startedAtNs)
        state = .closed
        context.close(promise: nil)
    }

    func schedule(afterMs milliseconds: Int64, _ body: @escaping () -> Void) {
        guard let context else { return }
        let loopBound = NIOLoopBound(body, eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: .milliseconds(milliseconds)) { loopBound.value() }
    }
}
