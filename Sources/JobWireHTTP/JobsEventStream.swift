import JobWireJSON
import JobWireProtocol
import JobWireServer
import NIOCore
import NIOHTTP1

/// `GET /v1/events?…filters`: WatchJobs (the list-watch) as Server-Sent Events.
///
/// The stream opens with `snapshot` pages and `synced`, then `entered`,
/// `changed` and `left` events; each event's `id:` is its cursor, and
/// `Last-Event-ID` (or `?cursor=`) resumes from it with no gap and no
/// duplicate, or answers `resync` when the history is gone. Like the binary
/// port's stream, it holds a position, never a queue: it reads the change
/// log a step at a time while the socket has room, and a live stream that
/// falls behind goes back to catching up from its position.
final class JobsEventStream: StreamingBody, DeliveryTarget {
    let status = HTTPResponseStatus.ok
    let headers = ServerSentEvents.headers
    private let api: HTTPAPI
    private let tenant: String
    private let pageSize: Int
    private var watcherID: UInt64 = 0
    private var epoch = ""
    /// The cursor could not be resumed: a `resync` event goes first.
    private var resync = false
    private var position: UInt64
    private var snapshot: Bool
    private var since: UInt64
    private var live = false
    private var writer: (any StreamWriter)?
    private var lastSentAtMs = MonotonicClock.nowMs()
    private var ended = false

    /// Bytes of events one catch-up step reads before they are written.
    static let catchUpStepBytes = 64 * 1024

    static func open(request: HTTPRequest, caller: Caller, api: HTTPAPI) throws(JobWireError) -> RouteResult {
        try HTTPAPI.allowOnly(HTTPAPI.listParameters.subtracting(["order_by", "ascending", "page_token"]).union(["cursor"]), in: request)
        var cursor = request.parameter("cursor") ?? ""
        if let lastEventID = request.headers.first(name: "last-event-id"), !lastEventID.isEmpty {
            cursor = lastEventID
        }
        let watch = try WatchJobsRequest(filter: try HTTPAPI.listRequest(from: request), cursor: cursor).validated()
        let stream = JobsEventStream(api: api, tenant: caller.tenant, pageSize: watch.filter.pageSize)
        let start = try api.service.watchJobs(watch, caller: caller, sink: LoopSink(stream, mailbox: api.mailbox(for: request.eventLoop)), streamID: 0)
        stream.begin(start)
        return .streaming(stream)
    }

    private init(api: HTTPAPI, tenant: String, pageSize: UInt32) {
        self.api = api
        self.tenant = tenant
        self.pageSize = pageSize == 0 ? Limits.defaultPageSize : Int(pageSize)
        self.position = 0
        self.snapshot = true
        self.since = 0
    }

    private func begin(_ start: JobRegistry.JobsWatchStart) {
        watcherID = start.watcherID
        epoch = start.epoch
        position = start.position
        snapshot = start.snapshot
        since = start.snapshot ? start.head : start.position
        resync = start.resync
    }

    func start(_ writer: any StreamWriter) {
        self.writer = writer
        writer.write(ServerSentEvents.retryAdvice)
        if resync {
            let cursor = ChangeCursor(epoch: epoch, position: 0).encoded
            writer.write(Self.sse(JobsEvents.encode(type: .resync, cursor: cursor)))
        }
        catchUp()
        writer.flush()
        scheduleHeartbeat()
    }

    /// Reads the change log in steps while the socket has room.
    private func catchUp() {
        guard let writer else { return }
        while !live, !ended {
            guard writer.isWritable else { return }
            let step = api.service.catchUpJobs(watcherID: watcherID, tenant: tenant, from: position, since: since,
                                               snapshot: snapshot, pageSize: pageSize, maxBytes: Self.catchUpStepBytes)
            guard !step.ended else { return }
            for event in step.events {
                writer.write(Self.sse(event))
            }
            position = step.position
            if !step.events.isEmpty { lastSentAtMs = MonotonicClock.nowMs() }
            if step.live {
                live = true
                snapshot = false
            }
            if step.waiting {
                // A change made before the tenant had watchers is still being stored (milliseconds).
                writer.schedule(afterMs: 1) { [weak self] in
                    guard let self, !self.ended else { return }
                    self.catchUp()
                    self.writer?.flush()
                }
                return
            }
        }
    }

    func receive(watcherID: UInt64, _ delivery: WatchDelivery) {
        guard !ended, watcherID == self.watcherID, let writer, live,
              case .jobs(let sequence, let encodedEvent) = delivery, sequence > position else { return }
        guard writer.isWritable else {
            // Behind: stop taking pushes and catch up from the position once the socket drained.
            live = false
            since = position
            api.service.pauseJobsWatch(watcherID: watcherID, tenant: tenant)
            return
        }
        writer.write(api.events.bytes(key: "t" + tenant, encoded: encodedEvent) { Self.sse(encodedEvent, jobJSON: api.jobJSON) })
        position = sequence
        lastSentAtMs = MonotonicClock.nowMs()
    }

    func flushDeliveries() {
        writer?.flush()
    }

    func resume() {
        guard !ended, !live else { return }
        catchUp()
        writer?.flush()
    }

    /// An encoded JobsEvent as its SSE event; with `jobJSON`, each job's JSON
    /// is the one reads and other streams share.
    static func sse(_ encodedEvent: [UInt8], jobJSON: JobJSONCache? = nil) -> ByteBuffer {
        do throws(JobWireError) {
            let event = try JobsEvent(decoding: encodedEvent)
            let data = MessageJSON.jobsEvent(event) { job in
                guard let jobJSON, job.logTail.isEmpty else { return JobJSON.value(job) }
                return .raw(jobJSON.json(of: job))
            }
            return ServerSentEvents.event(id: event.cursor, name: event.type.name, data: data.encoded())
        } catch {
            return ServerSentEvents.event(id: nil, name: "error", data: MessageJSON.error(error.status).encoded())
        }
    }

    private func scheduleHeartbeat() {
        let interval = Int64(api.configuration.heartbeatIntervalMs)
        writer?.schedule(afterMs: interval) { [weak self] in
            guard let self, !self.ended, let writer = self.writer else { return }
            if self.live, MonotonicClock.nowMs() - self.lastSentAtMs >= interval {
                writer.write(ServerSentEvents.heartbeat)
                let cursor = ChangeCursor(epoch: self.epoch, position: self.position).encoded
                writer.write(Self.sse(JobsEvents.encode(type: .bookmark, cursor: cursor)))
                writer.flush()
                self.lastSentAtMs = MonotonicClock.nowMs()
            }
            self.scheduleHeartbeat()
        }
    }

    func stop(ending status: Status?) {
        guard !ended else { return }
        if let status, let writer {
            writer.write(ServerSentEvents.event(id: nil, name: "error", data: MessageJSON.error(status).encoded()))
            ended = true
            api.service.unwatchJobs(watcherID: watcherID, tenant: tenant)
            writer.finish(code: status.code, reason: status.reason)
            return
        }
        ended = true
        api.service.unwatchJobs(watcherID: watcherID, tenant: tenant)
    }
}
