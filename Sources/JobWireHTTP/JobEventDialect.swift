import JobWireJSON
import JobWireProtocol
import NIOCore

/// What a ``JobEventStream`` writes: the events of one job's watch in one
/// API's words. `/v1` has its own; the monitoring service JobWire replaces
/// (003) has another (``progress003``). The watch, the hold-back of a slow
/// reader, resuming and heartbeats are the stream's and the same for both.
struct JobEventDialect: Sendable {
    /// Names the dialect in ``EventEncodingCache`` keys: one encoding per change and dialect.
    let cacheKey: String
    /// An encoded WatchEvent as this dialect's SSE bytes (empty: nothing to send).
    /// `jobJSON`, when given, supplies the job's JSON made once per revision.
    let event: @Sendable (_ jobID: String, _ encodedEvent: [UInt8], _ jobJSON: JobJSONCache?) -> ByteBuffer
    /// The event that says why a stream ends early (the job was deleted, the
    /// server drains), or nil when the dialect has none and the stream just ends.
    let error: (@Sendable (Status) -> ByteBuffer)?
    /// Whether an idle stream gets a bookmark event beside the heartbeat comment.
    let bookmarks: Bool

    /// `/v1/jobs/{id}/events`: `snapshot`, `change`, `resync`, `bookmark` and `error` events, `id:` the revision.
    static let v1 = JobEventDialect(
        cacheKey: "j",
        event: { _, encodedEvent, jobJSON in sse(encodedEvent, jobJSON: jobJSON) },
        error: { status in ServerSentEvents.event(id: nil, name: "error", data: MessageJSON.error(status).encoded()) },
        bookmarks: true)

    /// An encoded WatchEvent as its `/v1` event. An event that does not decode
    /// (never expected: the registry made it) is sent as an error event.
    private static func sse(_ encodedEvent: [UInt8], jobJSON: JobJSONCache?) -> ByteBuffer {
        do throws(JobWireError) {
            let event = try WatchEvent(decoding: encodedEvent)
            let job = event.job.map { job -> JSONValue in
                guard let jobJSON, job.logTail.isEmpty else { return JobJSON.value(job) }
                return .raw(jobJSON.json(of: job))
            }
            let data = MessageJSON.watchEvent(type: event.type, revision: event.revision, job: job,
                                              newLogLines: event.newLogLines)
            return ServerSentEvents.event(id: String(event.revision), name: MessageJSON.name(event.type), data: data.encoded())
        } catch {
            return ServerSentEvents.event(id: nil, name: "error", data: MessageJSON.error(error.status).encoded())
        }
    }
}
