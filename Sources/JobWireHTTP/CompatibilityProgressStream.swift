import JobWireJSON
import JobWireProtocol
import JobWireServer
import NIOCore

/// `GET /events/{job_id}/progress` (003): WatchJob as 003's Server-Sent
/// Events — a `progress` event for the job as it is and for each change,
/// then, once it has ended, `complete`, and the stream ends.
///
/// A ``JobEventStream`` in 003's dialect: the same watch, the same hold-back
/// of a slow reader (plain changes collapse to the latest, status transitions
/// and the end are kept) and heartbeats; only the events are 003's. 003
/// polled its database every 2 s; this sends each change as it commits.
///
/// Each `progress` event carries `id:` (the job's revision), which 003's
/// events did not: EventSource reconnects by itself whenever a stream ends,
/// and with `Last-Event-ID` it resumes after the last event it had, with no
/// gap or repeat. Reconnecting after `complete` answers 204, which stops
/// EventSource (003's endpoint started over and sent `complete` again).
enum CompatibilityProgressStream {
    static func open(jobID: String, request: HTTPRequest, caller: Caller, api: HTTPAPI) throws(JobWireError) -> RouteResult {
        // A Last-Event-ID that is not a revision (not one this stream sent) is
        // ignored: the stream starts from the job as it is, as a first connection does.
        let after = request.headers.first(name: "last-event-id").flatMap { UInt64($0) } ?? 0
        let watch = WatchJobRequest(jobID: jobID, afterRevision: after)
        return try JobEventStream.open(watch, caller: caller, api: api, eventLoop: request.eventLoop, dialect: .progress003)
    }
}

extension JobEventDialect {
    /// 003's: `progress` events and `complete`; no `error` events (EventSource
    /// hands that name to its own error listeners, and 003's stream just
    /// stopped once its job was gone), no bookmarks (its front ends know none).
    static let progress003 = JobEventDialect(
        cacheKey: "p",
        event: { jobID, encodedEvent, _ in progressEvents(jobID: jobID, encodedEvent) },
        error: nil,
        bookmarks: false)

    /// An encoded WatchEvent as 003's events: `progress`, and `complete` after
    /// it once the job has ended. Empty for an event without a job or one that
    /// does not decode (never expected: the registry made it), since 003's
    /// clients know no other event.
    private static func progressEvents(jobID: String, _ encodedEvent: [UInt8]) -> ByteBuffer {
        guard let event = try? WatchEvent(decoding: encodedEvent), let job = event.job else { return ByteBuffer() }
        var bytes = ServerSentEvents.event(id: String(event.revision), name: "progress",
                                           data: CompatibilityJSON.progressEvent(jobID: jobID, job).encoded())
        if job.status.isTerminal {
            var complete = ServerSentEvents.event(id: nil, name: "complete",
                                                  data: CompatibilityJSON.completeEvent(jobID: jobID, job).encoded())
            bytes.writeBuffer(&complete)
        }
        return bytes
    }
}
