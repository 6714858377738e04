import JobWireSync
import NIOCore
import NIOHTTP1

/// The text/event-stream framing (WHATWG HTML, "Server-sent events").
enum ServerSentEvents {
    /// One event. `data` is compact JSON: it holds no line breaks, so it is one `data:` line.
    static func event(id: String?, name: String, data: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(data.count + name.utf8.count + (id?.utf8.count ?? 0) + 24)
        if let id {
            buffer.writeStaticString("id: ")
            buffer.writeString(id)
            buffer.writeStaticString("\n")
        }
        buffer.writeStaticString("event: ")
        buffer.writeString(name)
        buffer.writeStaticString("\ndata: ")
        buffer.writeBytes(data)
        buffer.writeStaticString("\n\n")
        return buffer
    }

    /// A comment line: ignored by `EventSource`, but traffic to proxies that close idle connections.
    static let heartbeat = ByteBuffer(string: ": heartbeat\n\n")

    /// How long `EventSource` waits before it reconnects, sent first on every stream.
    static let retryAdvice = ByteBuffer(string: "retry: 2000\n\n")

    /// The head of every event stream.
    static var headers: HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/event-stream")
        headers.add(name: "cache-control", value: "no-cache")
        // nginx buffers responses unless told not to; events must not wait in a proxy.
        headers.add(name: "x-accel-buffering", value: "no")
        return headers
    }
}

/// Each event's SSE bytes, made once for all the streams that send it.
///
/// The registry encodes each change once and hands the same encoding to
/// every watcher; streams on both event loops ask here with a key naming
/// where the change happened (a job, a tenant), and the encoding it was made
/// from confirms the entry (so a key never answers with another event's
/// bytes). Only the latest few events of each key are kept: the cache is for
/// a change reaching its watchers, not a history (a held-back stream that
/// misses encodes its event itself).
final class EventEncodingCache: Sendable {
    private struct Entry: Sendable {
        let encoded: [UInt8]
        let bytes: ByteBuffer
    }

    private let entries = Locked<[String: [Entry]]>([:])
    private let capacity: Int

    init(capacity: Int = 16_384) {
        self.capacity = capacity
    }

    func bytes(key: String, encoded: [UInt8], make: () throws -> ByteBuffer) rethrows -> ByteBuffer {
        if let hit = entries.withLock({ $0[key]?.first { $0.encoded == encoded } }) {
            return hit.bytes
        }
        let bytes = try make()
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            // The latest few: a change reaches list watchers as one of a few kinds (entered, changed, left).
            var list = entries[key] ?? []
            if list.count >= 4 { list.removeFirst() }
            list.append(Entry(encoded: encoded, bytes: bytes))
            entries[key] = list
        }
        return bytes
    }
}
