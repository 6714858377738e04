import JobWireJSON
import JobWireProtocol
import JobWireServer
import NIOCore
import NIOHTTP1

/// `GET /v1/jobs/{id}/events`: WatchJob as Server-Sent Events (and, in
/// 003's dialect, `GET /events/{id}/progress`; see ``JobEventDialect``).
///
/// Each event's `id:` is its revision; `Last-Event-ID` (or `?after_revision=`)
/// resumes after it with no gap and no duplicate, as WatchJob's
/// `after_revision` does, across restarts on a durable store. The stream ends
/// after the job's terminal event; reconnecting then answers 204, which
/// tells `EventSource` to stop. A reader too slow for the events has plain
/// changes collapsed to the latest while status transitions are kept, as on
/// the binary port.
final class JobEventStream: StreamingBody, DeliveryTarget {
    let status = HTTPResponseStatus.ok
    let headers = ServerSentEvents.headers
    private let api: HTTPAPI
    private let jobID: String
    private let dialect: JobEventDialect
    private var watcherID: UInt64?
    private var lastRevision: UInt64
    private var firstEvents: [(revision: UInt64, encodedEvent: [UInt8])]
    private var endsAfterFirst = false
    private var held: [Pending] = []
    private var writer: (any StreamWriter)?
    private var lastSentAtMs = MonotonicClock.nowMs()
    private var ended = false

    static let parameters: Set<String> = ["log_tail", "after_revision"]

    static func open(jobID: String, request: HTTPRequest, caller: Caller, api: HTTPAPI) throws(JobWireError) -> RouteResult {
        try HTTPAPI.allowOnly(parameters, in: request)
        var after: UInt64 = try HTTPAPI.integer("after_revision", in: request) ?? 0
        if let lastEventID = request.headers.first(name: "last-event-id"), !lastEventID.isEmpty {
            guard let revision = UInt64(lastEventID) else {
                throw HTTPAPI.invalid("Last-Event-ID must be a revision this stream sent, not \"\(lastEventID.prefix(40))\"")
            }
            after = revision
        }
        let watch = try WatchJobRequest(jobID: jobID, afterRevision: after, logTail: try HTTPAPI.integer("log_tail", in: request) ?? 0).validated()
        return try open(watch, caller: caller, api: api, eventLoop: request.eventLoop, dialect: .v1)
    }

    /// Starts the watch and answers its stream, or 204 when the watch resumes
    /// after the job's end (nothing will follow; 204 stops EventSource).
    static func open(_ watch: WatchJobRequest, caller: Caller, api: HTTPAPI, eventLoop: any EventLoop,
                     dialect: JobEventDialect) throws(JobWireError) -> RouteResult {
        let stream = JobEventStream(api: api, jobID: watch.jobID, after: watch.afterRevision, dialect: dialect)
        let start = try api.service.watch(watch, caller: caller, sink: LoopSink(stream, mailbox: api.mailbox(for: eventLoop)), streamID: 0)
        if start.ended && start.events.isEmpty {
            return .response(HTTPResponse(status: .noContent))
        }
        stream.watcherID = start.watcherID
        stream.firstEvents = start.events
        stream.endsAfterFirst = start.ended
        return .streaming(stream)
    }

    private init(api: HTTPAPI, jobID: String, after: UInt64, dialect: JobEventDialect) {
        self.api = api
        self.jobID = jobID
        self.dialect = dialect
        self.lastRevision = after
        self.firstEvents = []
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
            // Snapshots carry each watcher's own log tail: made for this stream alone. A resync
            // names a revision below a Last-Event-ID from elsewhere; later changes follow it.
            send(dialect.event(jobID, event.encodedEvent, nil))
            lastRevision = event.revision
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
            if let error = dialect.error { writer.write(error(status)) }
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

    /// As on the binary port: a plain change replaces the plain change before it.
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
        let (jobID, dialect, jobJSON) = (self.jobID, self.dialect, api.jobJSON)
        send(api.events.bytes(key: dialect.cacheKey + jobID, encoded: event.encodedEvent) {
            dialect.event(jobID, event.encodedEvent, jobJSON)
        })
        lastRevision = max(lastRevision, event.revision)
        if event.isTerminal { finish(.ok, "") }
    }

    /// Writes an event; one with nothing to say is not written (an empty
    /// write must never reach the chunked body: it would end it).
    private func send(_ bytes: ByteBuffer) {
        guard bytes.readableBytes > 0 else { return }
        writer?.write(bytes)
        lastSentAtMs = MonotonicClock.nowMs()
    }

    private func scheduleHeartbeat() {
        let interval = Int64(api.configuration.heartbeatIntervalMs)
        writer?.schedule(afterMs: interval) { [weak self] in
            guard let self, !self.ended, let writer = self.writer else { return }
            if MonotonicClock.nowMs() - self.lastSentAtMs >= interval {
                writer.write(ServerSentEvents.heartbeat)
                if self.dialect.bookmarks {
                    let bookmark = WatchEvents.encode(type: .bookmark, revision: self.lastRevision, encodedJob: nil, logLines: [])
                    writer.write(self.dialect.event(self.jobID, bookmark, nil))
                }
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

    func stop(ending status: Status?) {
        guard !ended else { return }
        if let status, let writer {
            // Draining: the client reconnects with Last-Event-ID, to another node or after the restart.
            // A revoked key: the client needs another key first.
            if let error = dialect.error { writer.write(error(status)) }
            finish(status.code, status.reason)
            return
        }
        ended = true
        if let watcherID { api.service.unwatch(jobID: jobID, watcherID: watcherID) }
    }
}
