import Foundation
import JobWireProtocol
@testable import JobWireServer
import JobWireTestSupport
import Testing

/// WatchJob: snapshot, ordered changes, resume, resync, bookmarks, endings.
@Suite("WatchJob over loopback", .ownThread)
struct WatchTests {
    private func event(_ client: TestClient, _ stream: UInt32) throws -> WatchEvent {
        switch try client.nextEvent(stream) {
        case .success(let event): return event
        case .failure(let end): throw TestClient.Failure(description: "stream ended: \(end.status)")
        }
    }

    private func end(_ client: TestClient, _ stream: UInt32) throws -> Status {
        switch try client.nextEvent(stream) {
        case .success(let event): throw TestClient.Failure(description: "expected the end, got \(event.type) \(event.revision)")
        case .failure(let end): return end.status
        }
    }

    @Test("snapshot first, then every change in order, ending with OK after the terminal event")
    func snapshotAndChanges() throws {
        let server = try TestServer()
        let worker = try server.client()
        let watcher = try server.client()
        let job = try worker.unary(.configure, ConfigureRequest(job: streamJob()), as: ConfigureResponse.self).job
        let stream = try watcher.start(.watchJob, WatchJobRequest(jobID: job.jobID))
        let snapshot = try event(watcher, stream)
        #expect(snapshot.type == .snapshot && snapshot.revision == 1 && snapshot.job == job)

        _ = try worker.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, status: .running, logLines: ["go"]), as: Job.self)
        for progress in stride(from: 10.0, through: 90, by: 10) {
            _ = try worker.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, progress: progress), as: Job.self)
        }
        let final = try worker.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, status: .completed, progress: 100),
                                     as: Job.self)

        let running = try event(watcher, stream)
        #expect(running.type == .change && running.revision == 2 && running.job?.status == .running)
        #expect(running.newLogLines == ["go"])
        var revisions: [UInt64] = [running.revision]
        var last = running
        while last.job?.status.isTerminal != true {
            last = try event(watcher, stream)
            revisions.append(last.revision)
        }
        #expect(revisions == Array(2...12), "every revision once, in order")
        #expect(last.job == final)
        #expect(try end(watcher, stream) == .ok)
    }

    @Test("resuming after a dropped connection gives no gap and no duplicate")
    func resumeAfterDisconnect() throws {
        let server = try TestServer()
        let worker = try server.client()
        let job = try worker.unary(.configure, ConfigureRequest(job: streamJob()), as: ConfigureResponse.self).job
        _ = try worker.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, status: .running), as: Job.self)

        var seen: [UInt64] = []
        do {
            let first = try server.client()
            let stream = try first.start(.watchJob, WatchJobRequest(jobID: job.jobID))
            seen.append(try event(first, stream).revision)  // snapshot at 2
            _ = try worker.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, progress: 1), as: Job.self)
            seen.append(try event(first, stream).revision)  // 3
        }  // the first connection drops here
        for progress in 2...6 {
            _ = try worker.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, progress: Double(progress)), as: Job.self)
        }
        let second = try server.client()
        let stream = try second.start(.watchJob, WatchJobRequest(jobID: job.jobID, afterRevision: seen.last ?? 0))
        for _ in 0..<5 {
            let next = try event(second, stream)
            #expect(next.type == .change)
            seen.append(next.revision)
        }
        _ = try worker.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, progress: 50), as: Job.self)
        seen.append(try event(second, stream).revision)
        #expect(seen == Array(2...9))
    }

    @Test("history is bounded in bytes too: a big job keeps fewer events, and resumes beyond them resync")
    func historyByteBound() throws {
        let server = try TestServer { $0.registry.historyBytesPerJob = 20_000 }
        let client = try server.client()
        var spec = streamJob()
        spec.frequenciesList = Array(repeating: 1, count: 1000)  // ~8 KB per event
        let job = try client.unary(.configure, ConfigureRequest(job: spec), as: ConfigureResponse.self).job
        _ = try client.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, status: .running), as: Job.self)
        var current = job
        for progress in 1...5 {
            current = try client.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, progress: Double(progress)), as: Job.self)
        }
        let kept = server.server.registry.state.withLock { $0.jobs[job.jobID]?.events(after: 0).count ?? 0 }
        #expect(kept == 2)
        let stream = try client.start(.watchJob, WatchJobRequest(jobID: job.jobID, afterRevision: current.revision - 3))
        guard case .success(let first) = try client.nextEvent(stream) else { Issue.record("no event"); return }
        #expect(first.type == .resync && first.job == current)
    }

    @Test("a resume point that is no longer retained gets a RESYNC with the full state")
    func resyncWhenHistoryIsGone() throws {
        let server = try TestServer { $0.registry.historyPerJob = 4 }
        let worker = try server.client()
        let job = try worker.unary(.configure, ConfigureRequest(job: streamJob()), as: ConfigureResponse.self).job
        _ = try worker.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, status: .running), as: Job.self)
        var current = job
        for progress in 1...10 {
            current = try worker.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, progress: Double(progress)), as: Job.self)
        }
        let watcher = try server.client()
        let stream = try watcher.start(.watchJob, WatchJobRequest(jobID: job.jobID, afterRevision: 2))
        let resync = try event(watcher, stream)
        #expect(resync.type == .resync && resync.revision == current.revision && resync.job == current)

        // Still retained: plain changes.
        let recent = try watcher.start(.watchJob, WatchJobRequest(jobID: job.jobID, afterRevision: current.revision - 2))
        #expect(try event(watcher, recent).revision == current.revision - 1)
        #expect(try event(watcher, recent).revision == current.revision)

        // A revision the job never had (a client from before a memory store restarted).
        let future = try watcher.start(.watchJob, WatchJobRequest(jobID: job.jobID, afterRevision: current.revision + 100))
        let replaced = try event(watcher, future)
        #expect(replaced.type == .resync && replaced.revision == current.revision)
    }

    @Test("idle watches get bookmarks carrying the revision to resume from")
    func bookmarks() throws {
        let server = try TestServer { $0.bookmarkIntervalMs = 100 }
        let client = try server.client()
        let job = try client.unary(.configure, ConfigureRequest(job: streamJob()), as: ConfigureResponse.self).job
        let stream = try client.start(.watchJob, WatchJobRequest(jobID: job.jobID))
        #expect(try event(client, stream).type == .snapshot)
        let bookmark = try event(client, stream)
        #expect(bookmark.type == .bookmark && bookmark.revision == 1 && bookmark.job == nil)
    }

    @Test("watching a terminal job sends its state and ends with OK")
    func watchTerminal() throws {
        let server = try TestServer()
        let client = try server.client()
        let job = try client.unary(.configure, ConfigureRequest(job: streamJob()), as: ConfigureResponse.self).job
        let cancelled = try client.unary(.cancel, CancelRequest(jobID: job.jobID), as: Job.self)
        let stream = try client.start(.watchJob, WatchJobRequest(jobID: job.jobID))
        #expect(try event(client, stream).job == cancelled)
        #expect(try end(client, stream) == .ok)
        // Resuming at the terminal revision: nothing more to say.
        let resumed = try client.start(.watchJob, WatchJobRequest(jobID: job.jobID, afterRevision: cancelled.revision))
        #expect(try end(client, resumed) == .ok)
    }

    @Test("deleting a watched job ends the watch with JOB_DELETED; unknown jobs fail at once")
    func deletedAndUnknown() throws {
        let server = try TestServer()
        let client = try server.client()
        let job = try client.unary(.configure, ConfigureRequest(job: streamJob()), as: ConfigureResponse.self).job
        let stream = try client.start(.watchJob, WatchJobRequest(jobID: job.jobID))
        _ = try event(client, stream)
        _ = try client.unary(.deleteJob, DeleteJobRequest(jobID: job.jobID), as: DeleteJobResponse.self)
        let status = try end(client, stream)
        #expect(status.code == .notFound && status.reason == Reason.jobDeleted)

        let unknown = try client.start(.watchJob, WatchJobRequest(jobID: "00000000-0000-4000-8000-000000000000"))
        #expect(try end(client, unknown).reason == Reason.jobNotFound)
    }

    @Test("cancel with a worker lease: CANCELLING, the worker sees it on its watch and reports CANCELLED")
    func cancelWithLease() throws {
        let server = try TestServer()
        let worker = try server.client()
        let frontEnd = try server.client()
        let job = try worker.unary(.configure, ConfigureRequest(job: streamJob(), leaseTTLMs: 60_000), as: ConfigureResponse.self).job
        #expect(job.leaseExpiresAtMs > job.createdAtMs)
        _ = try worker.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, status: .running), as: Job.self)
        let workerWatch = try worker.start(.watchJob, WatchJobRequest(jobID: job.jobID))
        #expect(try event(worker, workerWatch).job?.status == .running)

        let cancelling = try frontEnd.unary(.cancel, CancelRequest(jobID: job.jobID, reason: "stop"), as: Job.self)
        #expect(cancelling.status == .cancelling && cancelling.cancelReason == "stop")
        let seen = try event(worker, workerWatch)
        #expect(seen.job?.status == .cancelling)
        let again = try frontEnd.unary(.cancel, CancelRequest(jobID: job.jobID), as: Job.self)
        #expect(again.status == .cancelling && again.revision == cancelling.revision)

        let done = try worker.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, status: .cancelled), as: Job.self)
        #expect(done.status == .cancelled && done.leaseExpiresAtMs == 0)
        #expect(try event(worker, workerWatch).job?.status == .cancelled)
        #expect(try end(worker, workerWatch) == .ok)
    }

    @Test("a watch with a deadline ends with DEADLINE_EXCEEDED")
    func watchDeadline() throws {
        let server = try TestServer()
        let client = try server.client()
        let job = try client.unary(.configure, ConfigureRequest(job: streamJob()), as: ConfigureResponse.self).job
        let started = Date()
        let stream = try client.start(.watchJob, WatchJobRequest(jobID: job.jobID), timeoutMs: 200)
        _ = try event(client, stream)
        let status = try end(client, stream)
        #expect(status.code == .deadlineExceeded && status.reason == Reason.deadlineExceeded)
        #expect(Date().timeIntervalSince(started) >= 0.19)
    }

    @Test("many watches of one job, several on each connection, over both event loops: each gets every revision once, in order")
    func fanOutKeepsOrderPerWatch() throws {
        let server = try TestServer()
        let worker = try server.client()
        let job = try worker.unary(.configure, ConfigureRequest(job: streamJob()), as: ConfigureResponse.self).job
        // Connections alternate between the loops; deliveries for all of a
        // loop's connections share one batch, flushed once per connection.
        let watchers = try (0..<4).map { _ in try server.client() }
        var streams: [(TestClient, UInt32)] = []
        for watcher in watchers {
            for _ in 0..<3 {
                let stream = try watcher.start(.watchJob, WatchJobRequest(jobID: job.jobID))
                #expect(try event(watcher, stream).type == .snapshot)
                streams.append((watcher, stream))
            }
        }
        _ = try worker.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, status: .running), as: Job.self)
        for progress in 1...40 {
            _ = try worker.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, progress: Double(progress)), as: Job.self)
        }
        _ = try worker.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, status: .completed), as: Job.self)
        for (watcher, stream) in streams {
            var revisions: [UInt64] = []
            var last = try event(watcher, stream)
            revisions.append(last.revision)
            while last.job?.status.isTerminal != true {
                last = try event(watcher, stream)
                revisions.append(last.revision)
            }
            #expect(revisions == Array(2...43), "stream \(stream): every revision once, in order")
            #expect(try end(watcher, stream) == .ok)
        }
    }

    @Test("a client cancel stops the watch: nothing more arrives on it and the id is free again")
    func clientCancel() throws {
        let server = try TestServer()
        let client = try server.client()
        let job = try client.unary(.configure, ConfigureRequest(job: streamJob()), as: ConfigureResponse.self).job
        let stream = try client.start(.watchJob, WatchJobRequest(jobID: job.jobID))
        _ = try event(client, stream)
        try client.send(.cancelCall(CancelCall(streamID: stream)))
        _ = try client.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, status: .running), as: Job.self)
        // Reusing the id is legal once cancelled: only the new call's frames may arrive on it.
        let reused = try client.start(.getMetadata, GetMetadataRequest(jobID: job.jobID), streamID: stream)
        let result = try client.collect(reused)
        #expect(result.status == .ok && result.replies.count == 1)
        #expect(try Job(decoding: result.replies[0]).status == .running)
        #expect(eventually { server.server.registry.state.withLock { $0.watchers.isEmpty } })
        let stats = try client.unary(.stats, StatsRequest(), as: StatsResponse.self)
        #expect(stats.streams == 0)
    }
}
