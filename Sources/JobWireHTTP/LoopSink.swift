import JobWireServer
import NIOCore

/// Something on an event loop that takes the registry's deliveries.
protocol DeliveryTarget: AnyObject {
    func receive(watcherID: UInt64, _ delivery: WatchDelivery)
}

/// The registry's view of an event stream: it calls ``deliver`` under its
/// lock from any thread, and the sink only hands the delivery to the
/// stream's event loop.
final class LoopSink: WatchSink {
    private let target: NIOLoopBound<any DeliveryTarget>
    private let eventLoop: any EventLoop

    init(_ target: any DeliveryTarget, eventLoop: any EventLoop) {
        self.target = NIOLoopBound(target, eventLoop: eventLoop)
        self.eventLoop = eventLoop
    }

    package func deliver(streamID: UInt32, watcherID: UInt64, _ delivery: WatchDelivery) {
        let target = self.target
        eventLoop.execute { target.value.receive(watcherID: watcherID, delivery) }
    }
}
