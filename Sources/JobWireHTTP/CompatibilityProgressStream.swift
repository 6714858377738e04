import JobWireJSON
import JobWireProtocol
import JobWireServer
import NIOCore
import NIOHTTP1

/// `GET /events/{job_id}/progress` (003): WatchJob as 003's Server-Sent
/// Events — a `progress` event for the job as it is and for each change,
/// then, once it has ended, `complete`, and the stream ends.
///
/// A variant of ``JobEventStream``: the same watch, the same hold-back of a
/// slow reader (plain changes collapse to the latest, status transitions and
/// the end are kept) and heartbeats; only the events are 003's. 003 polled
/// its database every 2 s; this sends each change as it commits.
///
/// Each `progress` event carries `id:` (the job's revision), which 003's
/// events did not: EventSource reconnects by itself whenever a stream ends,
/// and with `Last-Event-ID` it resumes after the last event it had, with no
/// gap or repeat. Reconnecting after `complete` answers 204, which stops
/// EventSource (003's endpoint started over and sent `complete` again).
final class CompatibilityProgressStream: StreamingBody, DeliveryTarget {
    let status = HTTPResponseStatus.ok
    let headers = ServerSentEvents.headers
    private let api: HTTPAPI
    private let jobID: String
    private var watcherID: UInt64?
    private var lastRevision: UInt64
    private var firstEvents: [(revision: UInt64, encodedEvent: [UInt8])] = []
    private var endsAfterFirst = false
    private var held: [Pending] = []
    private var writer: (any StreamWriter)?
    private var lastSentAtMs = MonotonicClock.nowMs()
    private var ended = false

    static func open(jobID: String, request: HTTPRequest, caller: Caller, api: HTTPAPI) throws(JobWireError) -> RouteResult {
        // A Last-Event-ID that is not a revision (not one this stream sent) is
        // ignored: the stream starts from the job as it is, as a first connection does.
        let after = request.headers.first(name: "last-event-id").flatMap { UInt64($0) } ?? 0
        let stream = CompatibilityProgressStream(api: api, jobID: jobID, after: after)
        let watch = WatchJobRequest(jobID: jobID, afterRevision: after)
        let start = try api.service.watch(watch, caller: caller, sink: LoopSink(stream, mailbox: api.mailbox(for: request.eventLoop)), streamID: 0)
        if start.ended && start.events.isEmpty {
            // Resumed after the end: nothing will follow. 204 stops EventSource's reconnecting.
            return .response(HTTPResponse(status: .noContent))
        }
        stream.watcherID = start.watcherID
        stream.firstEvents = start.events
        stream.endsAfterFirst = start.ended
        return .streaming(stream)
    }

    private init(api: HTTPAPI, jobID: String, after: UInt64) {
        self.api = api
        self.jobID = jobID
        self.lastRevision = after
    }

    /// A live event not yet sent.
    private struct Pending {
        var revision: UInt64
        var encodedEvent: [UInt8]
        var isStatusTransition: Bool
        var isTerminal: Bool
    }

    func start(_ writer: any StreamWriter) {
        self.writer = writer
        writer.write(ServerSentEvents.retryAdvice)
        for event in firstEvents {
            send(revision: event.revision, bytes: Self.sse(jobID: jobID, event.encodedEvent))
        }
        firstEvents = []
        writer.flush()
        if endsAfterFirst {
            finish(.ok, "")
            return
        }
        scheduleHeartbeat()
    }

    func receive(watcherID: UInt64, _ delivery: WatchDelivery) {
        guard !ended, watcherID == self.watcherID, let writer else { return }
        switch delivery {
        case .jobs:
            return
        case .end(let status):
            // 003's stream just stopped once its job was gone. No `error`
            // event: EventSource hands that name to its own error listeners.
            finish(status.code, status.reason)
        case .event(let revision, let encodedEvent, let isStatusTransition, let isTerminal):
            guard revision > lastRevision else { return }
            let event = Pending(revision: revision, encodedEvent: encodedEvent,
                                isStatusTransition: isStatusTransition, isTerminal: isTerminal)
            if !held.isEmpty || !writer.isWritable {
                hold(event)
                return
            }
            sendLive(event)
        }
    }

    func flushDeliveries() {
        writer?.flush()
    }

    /// As ``JobEventStream``: a plain change replaces the plain change before it.
    private func hold(_ event: Pending) {
        if let last = held.last, !last.isStatusTransition, !last.isTerminal {
            held[held.count - 1] = event
        } else {
            held.append(event)
        }
    }

    func resume() {
        guard !ended, let writer else { return }
        while !held.isEmpty, writer.isWritable, !ended {
            sendLive(held.removeFirst())
        }
        writer.flush()
    }

    private func sendLive(_ event: Pending) {
        // Made once for every 003 stream of the job ("p": not JobEventStream's "j" events).
        let jobID = self.jobID
        let bytes = api.events.bytes(key: "p" + jobID, encoded: event.encodedEvent) {
            Self.sse(jobID: jobID, event.encodedEvent)
        }
        send(revision: event.revision, bytes: bytes)
        if event.isTerminal { finish(.ok, "") }
    }

    private func send(revision: UInt64, bytes: ByteBuffer) {
        // An event with nothing to say is not written: an empty write must never reach the chunked body.
        if bytes.readableBytes > 0 {
            writer?.write(bytes)
            lastSentAtMs = MonotonicClock.nowMs()
        }
        lastRevision = max(lastRevision, revision)
    }

    /// An encoded WatchEvent as 003's events: `progress`, and `complete` after
    /// it once the job has ended. Empty for an event without a job or one that
    /// does not decode (never expected: the registry made it), since 003's
    /// clients know no other event.
    static func sse(jobID: String, _ encodedEvent: [UInt8]) -> ByteBuffer {
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

    private func scheduleHeartbeat() {
        let interval = Int64(api.configuration.heartbeatIntervalMs)
        writer?.schedule(afterMs: interval) { [weak self] in
            guard let self, !self.ended, let writer = self.writer else { return }
            if MonotonicClock.nowMs() - self.lastSentAtMs >= interval {
                // A comment alone: 003's front ends know no bookmark event.
                writer.write(ServerSentEvents.heartbeat)
                writer.flush()
                self.lastSentAtMs = MonotonicClock.nowMs()
            }
            self.scheduleHeartbeat()
        }
    }

    private func finish(_ code: StatusCode, _ reason: String) {
        guard !ended else { return }
        ended = true
        if let watcherID { api.service.unwatch(jobID: jobID, watcherID: watcherID) }
        writer?.finish(code: code, reason: reason)
    }

    func stop(draining: Bool) {
        guard !ended else { return }
        if draining, writer != nil {
            // Ended without an `error` event (see receive): EventSource
            // reconnects with Last-Event-ID, to another node or after the restart.
            finish(.unavailable, Reason.serverShuttingDown)
            return
        }
        ended = true
        if let watcherID { api.service.unwatch(jobID: jobID, watcherID: watcherID) }
    }
}
