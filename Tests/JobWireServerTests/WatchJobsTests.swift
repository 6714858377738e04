import Foundation
import JobWireProtocol
import JobWireTestSupport
@testable import JobWireServer
import JobWireSync
import Testing

/// WatchJobs (list + watch) end to end over loopback: snapshot pages, live
/// ENTERED / CHANGED / LEFT, resumes from a cursor (across restarts too),
/// resyncs, and slow readers.
@Suite("WatchJobs: watching many jobs", .ownThread)
struct WatchJobsTests {
    /// The next event on `stream`, or a failure naming what came instead.
    private func next(_ client: TestClient, _ stream: UInt32, timeout: TimeInterval = 5) throws -> JobsEvent {
        switch try client.nextOnStream(stream, timeout: timeout) {
        case .reply(let reply): return try JobsEvent(decoding: reply.message)
        case let other: throw TestClient.Failure(description: "expected an event, got \(other)")
        }
    }

    /// Events up to and including the next SYNCED.
    private func untilSynced(_ client: TestClient, _ stream: UInt32) throws -> [JobsEvent] {
        var events: [JobsEvent] = []
        repeat { events.append(try next(client, stream)) } while events.last?.type != .synced
        return events
    }

    private func create(_ client: TestClient, type: String = "t", labels: [String: String] = [:]) throws -> Job {
        try client.unary(.configure, ConfigureRequest(job: Job(type: type, labels: labels)), as: ConfigureResponse.self).job
    }

    @Test("a snapshot in pages of the matching jobs, SYNCED, then ENTERED, CHANGED and LEFT as jobs enter, change in and leave the filter")
    func snapshotThenLive() throws {
        let server = try TestServer()
        let client = try server.client()
        let watcher = try server.client()
        var running: [String] = []
        for index in 0..<5 {
            let job = try create(client, labels: ["n": "\(index)"])
            _ = try client.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, status: .running), as: Job.self)
            running.append(job.jobID)
        }
        let idle = try create(client)
        let stream = try watcher.start(.watchJobs, WatchJobsRequest(filter: ListJobsRequest(statuses: [.running], pageSize: 2)))
        let first = try untilSynced(watcher, stream)
        #expect(first.map(\.type) == [.snapshot, .snapshot, .snapshot, .synced])
        #expect(first.map(\.jobs.count) == [2, 2, 1, 0])
        #expect(Set(first.flatMap(\.jobs).map(\.jobID)) == Set(running), "exactly the matching jobs, each once")
        #expect(!first.flatMap(\.jobs).contains { $0.jobID == idle.jobID })

        // Into the filter, inside it, out of it; and a job that never matches says nothing.
        let entering = try client.unary(.updateJob, UpdateJobRequest(jobID: idle.jobID, status: .running), as: Job.self)
        var event = try next(watcher, stream)
        #expect(event.type == .entered && event.jobID == idle.jobID && event.jobs == [entering])
        _ = try create(client, type: "never")
        let progressed = try client.unary(.updateJob, UpdateJobRequest(jobID: running[0], progress: 50), as: Job.self)
        event = try next(watcher, stream)
        #expect(event.type == .changed && event.jobs == [progressed], "the new job was PENDING, so not an event")
        let done = try client.unary(.updateJob, UpdateJobRequest(jobID: running[1], status: .completed), as: Job.self)
        event = try next(watcher, stream)
        #expect(event.type == .left && event.jobID == running[1] && event.jobs == [done])
        _ = try client.unary(.deleteJob, DeleteJobRequest(jobID: running[2]), as: DeleteJobResponse.self)
        event = try next(watcher, stream)
        #expect(event.type == .left && event.jobID == running[2] && event.jobs.isEmpty)
        // Cursors only grow.
        let cursors = try (first.map(\.cursor) + [event.cursor]).map { try ChangeCursor(parsing: $0).position }
        #expect(cursors == cursors.sorted())
    }

    @Test("a resume from a cursor sends each job changed since as CHANGED or LEFT, nothing before it, then SYNCED and live events")
    func resume() throws {
        let server = try TestServer()
        let client = try server.client()
        let a = try create(client, type: "keep")
        let b = try create(client, type: "keep")
        let c = try create(client, type: "keep")
        let filter = ListJobsRequest(statuses: [.pending, .running])
        var watcher = try server.client()
        var stream = try watcher.start(.watchJobs, WatchJobsRequest(filter: filter))
        let synced = try untilSynced(watcher, stream)
        let cursor = try #require(synced.last?.cursor)
        // The connection closes with the old client.

        // While away: a changes twice (one CHANGED, latest state), b leaves the filter, c is deleted, d is created.
        _ = try client.unary(.updateJob, UpdateJobRequest(jobID: a.jobID, progress: 10), as: Job.self)
        let aNow = try client.unary(.updateJob, UpdateJobRequest(jobID: a.jobID, progress: 20), as: Job.self)
        let bNow = try client.unary(.cancel, CancelRequest(jobID: b.jobID), as: Job.self)
        _ = try client.unary(.deleteJob, DeleteJobRequest(jobID: c.jobID), as: DeleteJobResponse.self)
        let d = try create(client, type: "keep")
        let gone = try create(client, type: "keep")
        _ = try client.unary(.cancel, CancelRequest(jobID: gone.jobID), as: Job.self)

        watcher = try server.client()
        stream = try watcher.start(.watchJobs, WatchJobsRequest(filter: filter, cursor: cursor))
        let caughtUp = try untilSynced(watcher, stream)
        #expect(caughtUp.map(\.type) == [.changed, .left, .left, .changed, .synced])
        #expect(caughtUp[0].jobs == [aNow])
        #expect(caughtUp[1].jobID == b.jobID && caughtUp[1].jobs == [bNow])
        #expect(caughtUp[2].jobID == c.jobID && caughtUp[2].jobs.isEmpty)
        #expect(caughtUp[3].jobs.map(\.jobID) == [d.jobID])
        // The job created and cancelled after the cursor was never the client's: no LEFT for it.
        #expect(!caughtUp.contains { $0.jobID == gone.jobID })
        let live = try client.unary(.updateJob, UpdateJobRequest(jobID: d.jobID, status: .running), as: Job.self)
        let event = try next(watcher, stream)
        #expect(event.type == .changed && event.jobs == [live])
    }

    @Test("a cursor from before a restart of the SQLite store resumes with no resync and no gap; the memory store resyncs")
    func restarts() throws {
        let directory = DurableStoreTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var cursor = ""
        var kept = Job()
        var deleted = Job()
        do {
            let server = try TestServer(store: try SQLiteJobStore(directory: directory))
            let client = try server.client()
            kept = try create(client)
            deleted = try create(client)
            let watcher = try server.client()
            let stream = try watcher.start(.watchJobs, WatchJobsRequest())
            cursor = try #require(try untilSynced(watcher, stream).last?.cursor)
            kept = try client.unary(.updateJob, UpdateJobRequest(jobID: kept.jobID, status: .running), as: Job.self)
            _ = try client.unary(.deleteJob, DeleteJobRequest(jobID: deleted.jobID), as: DeleteJobResponse.self)
            server.stop()
        }
        do {
            let server = try TestServer(store: try SQLiteJobStore(directory: directory))
            let watcher = try server.client()
            let stream = try watcher.start(.watchJobs, WatchJobsRequest(cursor: cursor))
            let events = try untilSynced(watcher, stream)
            #expect(events.map(\.type) == [.changed, .left, .synced])
            #expect(events[0].jobs == [kept] && events[1].jobID == deleted.jobID)
            // And a new change after the restart is numbered after every one before it.
            let client = try server.client()
            let later = try create(client)
            let entered = try next(watcher, stream)
            #expect(entered.type == .entered && entered.jobs == [later])
            #expect(try ChangeCursor(parsing: entered.cursor).position > ChangeCursor(parsing: events[1].cursor).position)
        }

        let memory = try TestServer()
        let memoryClient = try memory.client()
        let job = try create(memoryClient)
        let watcher = try memory.client()
        let stream = try watcher.start(.watchJobs, WatchJobsRequest(cursor: cursor))
        let events = try untilSynced(watcher, stream)
        #expect(events.map(\.type) == [.resync, .snapshot, .synced], "another history's cursor resyncs")
        #expect(events[1].jobs == [job])
    }

    @Test("bad requests: a malformed cursor, paging or ordering fields, and the tenant's watch limit")
    func badRequests() throws {
        let server = try TestServer { $0.registry.maxWatchesPerTenant = 1 }
        let client = try server.client()
        var result = try client.call(.watchJobs, WatchJobsRequest(cursor: "not a cursor"))
        #expect(result.status.code == .invalidArgument && result.status.reason == Reason.invalidCursor)
        result = try client.call(.watchJobs, WatchJobsRequest(filter: ListJobsRequest(pageToken: "x")))
        #expect(result.status.code == .invalidArgument && result.status.reason == Reason.fieldNotAllowed)
        result = try client.call(.watchJobs, WatchJobsRequest(filter: ListJobsRequest(orderBy: .priority)))
        #expect(result.status.code == .invalidArgument && result.status.reason == Reason.fieldNotAllowed)
        let open = try client.start(.watchJobs, WatchJobsRequest())
        #expect(try next(client, open).type == .synced)
        result = try client.call(.watchJobs, WatchJobsRequest())
        #expect(result.status.code == .resourceExhausted && result.status.reason == Reason.tooManyWatches)
        // The cancelled watch gives its place back (the server handles the cancel before the next call).
        try client.send(.cancelCall(CancelCall(streamID: open)))
        let again = try client.start(.watchJobs, WatchJobsRequest())
        #expect(try next(client, again).type == .synced)
    }

    @Test("a watcher that does not read costs the server a position, not a queue, and still ends with every job's latest state")
    func slowWatcher() throws {
        let server = try TestServer { $0.maxOutputBufferBytes = 64 * 1024 }
        let client = try server.client()
        let jobs = try (0..<20).map { _ in try create(client, type: "busy") }
        // A small receive buffer, so the kernel holds little for the watcher that does not read.
        let watcher = try TestClient(port: server.port, receiveBufferBytes: 4096)
        _ = try watcher.hello()
        let stream = try watcher.start(.watchJobs, WatchJobsRequest(filter: ListJobsRequest(type: "busy")))
        _ = try untilSynced(watcher, stream)
        // 4,000 changes of ~2 KiB each while the watcher reads nothing: far more than every buffer on the way holds.
        for round in 0..<200 {
            for job in jobs {
                _ = try client.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, progress: Double(round) / 2,
                                                                  currentTask: String(repeating: "x", count: 2_000)), as: Job.self)
            }
        }
        let watcherState = try #require(server.server.service.registry.state.withLock { state in
            state.jobsWatchers["default"]?.values.first
        })
        #expect(!watcherState.live, "it fell behind: the server stopped pushing to it")
        // Reading now: the events end with every job at its latest revision.
        var latest: [String: Job] = [:]
        let final = try jobs.map { try client.unary(.getMetadata, GetMetadataRequest(jobID: $0.jobID), as: Job.self) }
        var received = 0
        while latest.values.map(\.revision).reduce(0, +) < final.map(\.revision).reduce(0, +) {
            let event = try next(watcher, stream)
            received += 1
            for job in event.jobs { latest[job.jobID] = job }
        }
        #expect(Set(latest.values.map(\.jobID)) == Set(final.map(\.jobID)))
        #expect(final.allSatisfy { latest[$0.jobID] == $0 })
        #expect(received < 4_000, "changes the watcher had not read were merged into each job's latest state")
    }
}

/// The catch-up itself, step by step, on a registry with no transport.
@Suite("WatchJobs catch-up steps", .ownThread)
struct WatchJobsCatchUpTests {
    /// Collects what the registry pushes to a live watcher.
    final class Sink: WatchSink, @unchecked Sendable {
        let pushed = Locked<[[UInt8]]>([])

        func deliver(streamID: UInt32, watcherID: UInt64, _ delivery: WatchDelivery) {
            if case .jobs(_, let event) = delivery { pushed.withLock { $0.append(event) } }
        }
    }

    /// A client's view, as the clients' JobsView keeps it.
    struct View {
        var jobs: [String: Job] = [:]
        var isSynced = false

        mutating func apply(_ event: JobsEvent) {
            switch event.type {
            case .resync: jobs.removeAll()
            case .snapshot, .entered, .changed: for job in event.jobs { jobs[job.jobID] = job }
            case .left: jobs.removeValue(forKey: event.jobID)
            case .synced: isSynced = true
            case .bookmark, .unspecified: break
            }
        }
    }

    private func write(_ start: (@escaping WriteCompletion) throws(JobWireError) -> Void) throws -> [UInt8] {
        try RegistryWrite(start).reply()
    }

    @Test("churn keeps the change log bounded: deleted jobs' records are let go, removals beyond those retained are dropped")
    func boundedUnderChurn() throws {
        var configuration = RegistryConfiguration()
        configuration.retainedRemovals = 3_000
        let registry = try JobRegistry(configuration: configuration, store: InMemoryJobStore())
        weak var firstSlot: JobSlot?
        var mostJobEntries = 0
        for round in 0..<8_000 {
            if round % 100 == 0 {
                let jobEntries = registry.state.withLock { state in
                    state.changes["default"]?.entries.filter { !$0.isRemoval }.count ?? 0
                }
                mostJobEntries = max(mostJobEntries, jobEntries)
            }
            let reply = try write { completion throws(JobWireError) in
                try registry.configure(ConfigureRequest(job: Job(type: "t")), tenant: "default", completion: completion)
            }
            let job = try ConfigureResponse(decoding: reply).job
            if round == 0 { firstSlot = registry.state.withLock { $0.jobs.slot(job.jobID) } }
            _ = try write { completion throws(JobWireError) in
                try registry.update(UpdateJobRequest(jobID: job.jobID, progress: 50), tenant: "default", completion: completion)
            }
            _ = try write { completion throws(JobWireError) in
                try registry.delete(DeleteJobRequest(jobID: job.jobID), tenant: "default", completion: completion)
            }
        }
        let (retained, horizon) = registry.state.withLock { state in
            (state.removals.count - state.removalsHead, state.removalHorizon)
        }
        #expect(retained <= 3_000 + 1024, "removals beyond those retained are dropped (\(retained) kept)")
        #expect(horizon > 0)
        // Stale job entries are compacted once they are half of the job entries, however many removals are kept.
        #expect(mostJobEntries <= 2 * 1024 + 2, "stale job entries are compacted away (at most \(mostJobEntries) at once)")
        #expect(firstSlot == nil, "a deleted job's record is not held by the change log")
    }

    @Test("a change made before the tenant had watchers and still being stored holds the watcher back; one made after is pushed")
    func changesInFlightWhenAWatcherStarts() throws {
        let store = CommitOrderTests.ManualStore()
        let registry = try JobRegistry(configuration: RegistryConfiguration(), store: store)
        let created = try RegistryWrite { completion throws(JobWireError) in
            try registry.configure(ConfigureRequest(job: Job(type: "t")), tenant: "default", completion: completion)
        }
        // Made with no watcher, not yet stored: nothing to push will come with it.
        let sink = Sink()
        let start = try registry.watchJobs(WatchJobsRequest(), tenant: "default", sink: sink, streamID: 1)
        var step = registry.catchUpJobs(watcherID: start.watcherID, tenant: "default", from: start.position, since: start.head,
                                        snapshot: true, pageSize: 100, maxBytes: 1 << 20)
        #expect(step.waiting && !step.live && step.events.isEmpty, "the watcher waits for the store")
        store.commit()
        let job = try ConfigureResponse(decoding: try created.reply()).job
        step = registry.catchUpJobs(watcherID: start.watcherID, tenant: "default", from: step.position, since: start.head,
                                    snapshot: true, pageSize: 100, maxBytes: 1 << 20)
        let events = try step.events.map { try JobsEvent(decoding: $0) }
        #expect(step.live && events.map(\.type) == [.snapshot, .synced] && events[0].jobs == [job])

        // Made while the tenant has a watcher: pushed once the store has it.
        _ = try RegistryWrite { completion throws(JobWireError) in
            try registry.update(UpdateJobRequest(jobID: job.jobID, progress: 5), tenant: "default", completion: completion)
        }
        #expect(sink.pushed.withLock { $0.isEmpty })
        store.commit()
        let pushed = try sink.pushed.withLock { $0 }.map { try JobsEvent(decoding: $0) }
        #expect(pushed.map(\.type) == [.changed] && pushed.first?.jobs.first?.progress == 5)
    }

    @Test("a job sent in an early snapshot page that is deleted or leaves the filter before the snapshot ends gets a LEFT")
    func changesDuringTheSnapshot() throws {
        let registry = try JobRegistry(configuration: RegistryConfiguration(), store: InMemoryJobStore())
        var ids: [String] = []
        for _ in 0..<5 {
            let reply = try write { completion throws(JobWireError) in
                try registry.configure(ConfigureRequest(job: Job(type: "t")), tenant: "default", completion: completion)
            }
            ids.append(try ConfigureResponse(decoding: reply).job.jobID)
        }
        let sink = Sink()
        let start = try registry.watchJobs(WatchJobsRequest(filter: ListJobsRequest(statuses: [.pending], pageSize: 1)),
                                           tenant: "default", sink: sink, streamID: 1)
        var view = View()
        var position = start.position
        // One event per step: the snapshot spans steps, as it does when the client reads slowly.
        func step() throws -> Bool {
            let step = registry.catchUpJobs(watcherID: start.watcherID, tenant: "default", from: position, since: start.head,
                                            snapshot: true, pageSize: 1, maxBytes: 1)
            for event in step.events { view.apply(try JobsEvent(decoding: event)) }
            position = step.position
            return step.live
        }
        #expect(try !step() && !step())
        #expect(Set(view.jobs.keys) == Set(ids.prefix(2)), "the first two jobs were sent")
        _ = try write { completion throws(JobWireError) in
            try registry.delete(DeleteJobRequest(jobID: ids[0]), tenant: "default", completion: completion)
        }
        _ = try write { completion throws(JobWireError) in
            try registry.cancel(CancelRequest(jobID: ids[1]), tenant: "default", completion: completion)
        }
        _ = try write { completion throws(JobWireError) in
            try registry.cancel(CancelRequest(jobID: ids[4]), tenant: "default", completion: completion)
        }
        var live = false
        for _ in 0..<20 where !live { live = try step() }
        #expect(live && view.isSynced)
        #expect(Set(view.jobs.keys) == [ids[2], ids[3]], "exactly the jobs still PENDING")
        #expect(sink.pushed.withLock { $0.isEmpty })
    }
}
