import JobWireSync

/// A list that any thread posts to and one owner drains on its own thread
/// (a connection's event loop, the store's serial queue). The first post
/// after a drain returns true: that caller schedules
/// the drain; later posts join the pending batch. Used by connections (watch
/// deliveries, store completions) and by the SQLite store (group commit:
/// everything posted while a commit syncs becomes the next batch).
package final class Mailbox<Item: Sendable>: Sendable {
    private struct State: ~Copyable {
        var items: [Item] = []
        var drainScheduled = false
    }

    private let state = Locked(State())

    package init() {}

    /// Adds `item`; true when the caller must schedule a drain.
    package func post(_ item: Item) -> Bool {
        state.withLock { state in
            state.items.append(item)
            if state.drainScheduled { return false }
            state.drainScheduled = true
            return true
        }
    }

    /// Everything posted so far; the next post schedules a new drain.
    package func takeAll() -> [Item] {
        state.withLock { state in
            state.drainScheduled = false
            defer { state.items.removeAll(keepingCapacity: true) }
            return state.items
        }
    }
}
