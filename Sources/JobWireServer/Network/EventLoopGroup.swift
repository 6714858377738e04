import JobWireProtocol

/// The server's event loops, one per core (``ServerConfiguration/eventLoopCount``).
/// A connection stays on the loop its id picks for its whole life.
///
/// The threads start with the server (``start()``) and end in ``stop()``,
/// once every connection is closed: tests run hundreds of servers in one
/// process, so a server must leave no thread or descriptor behind.
final class EventLoopGroup: Sendable {
    let loops: [EventLoop]
    /// One per loop, at the same index.
    let deliveries: [LoopDeliveries]

    init(count: Int, bufferBytes: Int = 64 * 1024) {
        loops = (0..<max(1, count)).map { EventLoop(name: "jobwire.loop.\($0)", bufferBytes: bufferBytes) }
        deliveries = loops.map(LoopDeliveries.init(loop:))
    }

    func start() throws(JobWireError) {
        for (index, loop) in loops.enumerated() {
            do {
                try loop.start()
            } catch {
                for started in loops[..<index] { started.stop() }
                throw error
            }
        }
    }

    func stop() {
        for loop in loops { loop.stop() }
    }

    func loop(for connectionID: UInt64) -> EventLoop {
        loops[Int(connectionID % UInt64(loops.count))]
    }

    /// The watch-delivery batch of ``loop(for:)``'s loop.
    func deliveries(for connectionID: UInt64) -> LoopDeliveries {
        deliveries[Int(connectionID % UInt64(loops.count))]
    }
}
