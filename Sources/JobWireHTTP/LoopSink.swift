import JobWireServer
import JobWireSync
import NIOCore

/// Something on an event loop that takes the registry's deliveries.
protocol DeliveryTarget: AnyObject {
    /// Writes what the delivery means, without flushing.
    func receive(watcherID: UInt64, _ delivery: WatchDelivery)
    /// Flushes what ``receive(watcherID:_:)`` wrote: once per batch of deliveries.
    func flushDeliveries()
}

/// The registry's view of an event stream: it calls ``deliver`` under its
/// lock from any thread, and the sink only posts the delivery to its event
/// loop's mailbox.
final class LoopSink: WatchSink {
    private let target: NIOLoopBound<any DeliveryTarget>
    private let mailbox: LoopMailbox

    init(_ target: any DeliveryTarget, mailbox: LoopMailbox) {
        self.target = NIOLoopBound(target, eventLoop: mailbox.eventLoop)
        self.mailbox = mailbox
    }

    package func deliver(streamID: UInt32, watcherID: UInt64, _ delivery: WatchDelivery) {
        mailbox.post(LoopMailbox.Item(target: target, watcherID: watcherID, delivery: delivery))
    }
}

/// One event loop's deliveries, handed over in batches: a change watched by
/// many streams on a loop costs that loop one task, not one per stream, and
/// each stream is flushed once per batch. (One task per delivery let a busy
/// job's events crowd out the loop's own I/O: SwiftNIO runs thousands of
/// queued tasks before it reads sockets again.)
final class LoopMailbox: Sendable {
    struct Item: Sendable {
        let target: NIOLoopBound<any DeliveryTarget>
        let watcherID: UInt64
        let delivery: WatchDelivery
    }

    private struct State {
        var items: [Item] = []
        var scheduled = false
    }

    let eventLoop: any EventLoop
    private let state = Locked(State())

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func post(_ item: Item) {
        let schedule = state.withLock { state -> Bool in
            state.items.append(item)
            guard !state.scheduled else { return false }
            state.scheduled = true
            return true
        }
        if schedule {
            eventLoop.execute { self.drain() }
        }
    }

    /// Deliveries one task handles before it lets the loop read and write
    /// sockets again (the rest follow in another task): a burst of changes
    /// to many streams never holds a request up for longer than one share.
    static let deliveriesPerTurn = 256

    /// On the loop: the oldest deliveries posted, in order, then one flush per stream touched.
    private func drain() {
        let (batch, more) = state.withLock { state -> (ArraySlice<Item>, Bool) in
            let count = min(state.items.count, Self.deliveriesPerTurn)
            let batch = state.items[..<count]
            state.items.removeFirst(count)
            // Still scheduled while items are left: this task queues the next one below.
            state.scheduled = !state.items.isEmpty
            return (batch, state.scheduled)
        }
        var touched: [ObjectIdentifier: any DeliveryTarget] = [:]
        for item in batch {
            let target = item.target.value
            target.receive(watcherID: item.watcherID, item.delivery)
            touched[ObjectIdentifier(target)] = target
        }
        for target in touched.values {
            target.flushDeliveries()
        }
        if more {
            // More were waiting: they go on after the loop's I/O (a task queued now runs in the next turn).
            eventLoop.execute { self.drain() }
        }
    }
}
