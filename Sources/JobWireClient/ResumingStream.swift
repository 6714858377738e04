import JobWireProtocol

/// A server stream that survives its connection: WatchJob after the last
/// revision delivered, WatchJobs after the last cursor. ``run()`` opens the
/// call, hands its replies to ``consume(_:)``, and after a retryable end
/// (the connection dropped, the server drained, a rate limit) reconnects with
/// the client's backoff and opens it again from where the consumer is; it
/// stops when the stream is complete, on a final error, or when its task is
/// cancelled (which cancels the call on the wire).
protocol ResumingStream: Sendable {
    associatedtype Event: Sendable

    var client: JobWireClient { get }
    var method: Method { get }
    var output: AsyncThrowingStream<Event, any Error>.Continuation { get }

    /// The request that opens the stream from where the consumer is now.
    func request() -> [UInt8]

    /// Forwards one call's replies to `output` until it ends: what to do
    /// next, or throws the end's error (a retryable one is retried).
    mutating func consume(_ signals: AsyncStream<StreamSignal>) async throws -> StreamEnding
}

/// What a stream's connection passes to its driver.
enum StreamSignal: Sendable {
    case reply([UInt8])
    case end(Status)
}

/// How one call of a resuming stream ended.
enum StreamEnding {
    /// The stream is complete (a watched job ended).
    case finished
    /// Reconnect and resume; `delivered` says whether this call delivered
    /// anything (the backoff starts over), `retryAfter` how long the server
    /// asked to wait, if it did.
    case retry(delivered: Bool, retryAfter: Duration?)
}

extension ResumingStream {
    mutating func run() async {
        var attempt = 0
        while !Task.isCancelled {
            do {
                let connection = try await client.manager.connection(deadline: .now + .seconds(3600))
                let (signals, feed) = AsyncStream<StreamSignal>.makeStream()
                let handler = ClientConnection.CallHandler(onReply: { feed.yield(.reply($0)) },
                                                           onEnd: { feed.yield(.end($0)); feed.finish() })
                guard let streamID = await connection.startCall(method: method, request: request(), timeoutMs: 0,
                                                                tenant: client.configuration.tenant ?? "",
                                                                handler: handler) else {
                    continue
                }
                let ended = try await withTaskCancellationHandler {
                    try await consume(signals)
                } onCancel: {
                    connection.cancel(streamID: streamID)
                }
                switch ended {
                case .finished:
                    output.finish()
                    return
                case .retry(let delivered, let retryAfter):
                    if delivered { attempt = 0 }
                    var pause = attempt == 0 ? Duration.milliseconds(50) : client.configuration.backoff.delay(forAttempt: attempt - 1)
                    if let retryAfter, retryAfter > pause { pause = retryAfter }
                    attempt += 1
                    try await Task.sleep(for: pause)
                }
            } catch is CancellationError {
                break
            } catch let error as JobWireError where RetryPolicy.watchEndIsRetryable(error) {
                attempt += 1
                var pause = client.configuration.backoff.delay(forAttempt: attempt - 1)
                if let wait = error.retryAfter, wait > pause { pause = wait }
                try? await Task.sleep(for: pause)
            } catch {
                output.finish(throwing: error)
                return
            }
        }
        output.finish(throwing: CancellationError())
    }
}
