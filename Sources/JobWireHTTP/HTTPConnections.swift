import JobWireSync
import NIOCore

/// The open HTTP connections: counted against the limit, and drained at shutdown.
final class HTTPConnections: Sendable {
    private struct Entry: Sendable {
        let handler: NIOLoopBound<HTTPConnectionHandler>
        let eventLoop: any EventLoop
    }

    private let entries = Locked<[ObjectIdentifier: Entry]>([:])
    let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    var count: Int { entries.withLock { $0.count } }

    /// Adds a connection; false when the limit is reached (the caller answers 503 and closes).
    func add(_ handler: HTTPConnectionHandler, on eventLoop: any EventLoop) -> Bool {
        let entry = Entry(handler: NIOLoopBound(handler, eventLoop: eventLoop), eventLoop: eventLoop)
        return entries.withLock { entries in
            guard entries.count < limit else { return false }
            entries[ObjectIdentifier(handler)] = entry
            return true
        }
    }

    func remove(_ handler: HTTPConnectionHandler) {
        _ = entries.withLock { $0.removeValue(forKey: ObjectIdentifier(handler)) }
    }

    /// Asks every connection to end a stream whose key no longer holds, each on its own loop.
    func recheckKeys() {
        for entry in entries.withLock({ Array($0.values) }) {
            let handler = entry.handler
            entry.eventLoop.execute { handler.value.recheckKey() }
        }
    }

    /// Asks every connection to drain, each on its own loop.
    func drainAll() {
        for entry in entries.withLock({ Array($0.values) }) {
            let handler = entry.handler
            entry.eventLoop.execute { handler.value.drain() }
        }
    }
}
