/// Watch deliveries bound for the connections of one event loop.
///
/// The registry delivers an update to each watcher of the job, under its
/// lock. Through each connection's own inbox that cost, per watcher, a task
/// closure, two lock round trips and a flush of its own; with 10,000
/// watchers over 100 jobs that was a third of the server's user time in
/// fan-out (`perf`, scenario (b)). Here the deliveries of every connection of
/// the loop queue in one list: the first one posted schedules a single task,
/// which hands each delivery to its connection and then flushes every
/// connection it touched once.
///
/// Per watcher, deliveries keep the order the registry posted them in (one
/// list, drained in order); a connection's write-call completions still go
/// through its inbox, as they concern other streams.
///
/// Items hold their connection unretained. A connection has weak references
/// (its timers), so its reference count lives in a side table and every
/// retain and release takes the slow path: two per delivery were a tenth of
/// the CPU of fan-out to 10,000 watchers. The connection outlives its items:
/// the registry retains it while the watch is registered, and items are only
/// posted then. ``Connection/close()`` unregisters its watches and then
/// queues a task that keeps the connection alive: every item was posted
/// before that, and the drain that takes it was queued before that task (or
/// is the task running now). The drain retains a connection only to flush
/// it, once per batch, since flushing may close it.
///
/// Threading: `pending` is shared under its lock; `drain` runs on `loop`,
/// which owns the connections' state it touches.
final class LoopDeliveries: Sendable {
    struct Item: @unchecked Sendable {
        let connection: Unmanaged<Connection>
        let streamID: UInt32
        let watcherID: UInt64
        let delivery: WatchDelivery
    }

    let loop: EventLoop
    private let pending = Mailbox<Item>()

    init(loop: EventLoop) {
        self.loop = loop
    }

    /// Any thread, with the connection's watch registered (under the
    /// registry's lock): queues `item`; the first item of a batch schedules
    /// the drain.
    func post(_ item: Item) {
        if pending.post(item) {
            loop.execute { self.drain() }
        }
    }

    /// On the loop: every queued delivery, then one flush per connection.
    private func drain() {
        let items = pending.takeAll()
        var touched: [Unmanaged<Connection>] = []
        for item in items {
            item.connection._withUnsafeGuaranteedRef { connection in
                guard connection.phase != .closed else { return }
                connection.handleWatchDelivery(streamID: item.streamID, watcherID: item.watcherID, item.delivery)
                if !connection.inDeliveryBatch {
                    connection.inDeliveryBatch = true
                    touched.append(item.connection)
                }
            }
        }
        for unretained in touched {
            // Retained here: `flush` may close the connection, which drops the
            // server's reference to it (handling a delivery never closes).
            let connection = unretained.takeUnretainedValue()
            connection.inDeliveryBatch = false
            connection.flush()
        }
    }
}
