import Foundation
import JobWireProtocol
import JobWireTestSupport
@testable import JobWireServer
import Testing

/// Retry, the worker-pool claim and SetPriority, end to end over loopback.
@Suite("Retry, claim and priority", .ownThread)
struct RetryAndPriorityTests {
    private func failed(_ client: TestClient, _ spec: Job = streamJob(labels: ["site": "haifa"], priority: 4)) throws -> Job {
        let job = try client.unary(.configure, ConfigureRequest(job: spec), as: ConfigureResponse.self).job
        _ = try client.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, status: .running, progress: 40, currentTask: "mux",
                                                          etaSeconds: 12, leaseTTLMs: 60_000), as: Job.self)
        return try client.unary(.updateJob, UpdateJobRequest(
            jobID: job.jobID, status: .failed, error: JobError(message: "disk full", failedTask: "mux", reason: "NO_SPACE")),
            as: Job.self)
    }

    @Test("a FAILED job goes back to PENDING under the same id: a new attempt, the old one kept, the revision continuing")
    func retryFailed() throws {
        let server = try TestServer { $0.registry.streamPorts = 54_100...54_101 }
        let client = try server.client()
        let ended = try failed(client)
        #expect(ended.status == .failed && ended.expiresAtMs > 0 && ended.completedAtMs > 0)

        let retried = try client.unary(.retry, RetryRequest(jobID: ended.jobID), as: Job.self)
        #expect(retried.jobID == ended.jobID && retried.status == .pending)
        #expect(retried.attempt == 2 && retried.revision == ended.revision + 1)
        #expect(retried.previousAttempts == [JobAttempt(attempt: 1, status: .failed, error: ended.error,
                                                        completedAtMs: ended.completedAtMs)])
        #expect(retried.labels == ended.labels && retried.priority == 4 && retried.type == ended.type)
        #expect(retried.streamURL == ended.streamURL && retried.streamPort == ended.streamPort && retried.streamPort != 0)
        #expect(retried.progress == 0 && retried.currentTask.isEmpty && retried.etaSeconds == nil)
        #expect(retried.error == nil && retried.result == nil && retried.completedAtMs == 0 && retried.expiresAtMs == 0)
        #expect(retried.leaseExpiresAtMs == 0)
        #expect(try client.unary(.getMetadata, GetMetadataRequest(jobID: ended.jobID), as: Job.self) == retried)

        // The port is the job's again: the pool's other port is the only one left to give.
        let other = try client.unary(.configure, ConfigureRequest(job: streamJob()), as: ConfigureResponse.self).job
        #expect(other.streamPort != retried.streamPort)
        let none = try client.call(.configure, ConfigureRequest(job: streamJob()))
        #expect(none.status.code == .resourceExhausted && none.status.reason == Reason.noStreamPort)

        // Cancelled, then retried again: the attempts accumulate, oldest first.
        let cancelled = try client.unary(.cancel, CancelRequest(jobID: ended.jobID, reason: "wrong input"), as: Job.self)
        #expect(cancelled.status == .cancelled)
        let third = try client.unary(.retry, RetryRequest(jobID: ended.jobID, expectedRevision: cancelled.revision), as: Job.self)
        #expect(third.attempt == 3 && third.previousAttempts.map(\.status) == [.failed, .cancelled])
        #expect(third.previousAttempts.last?.cancelReason == "wrong input" && third.cancelReason.isEmpty)
    }

    @Test("only FAILED and CANCELLED jobs can be retried; a stale revision or a taken port is refused")
    func retryErrors() throws {
        let server = try TestServer { $0.registry.streamPorts = 54_200...54_200 }
        let client = try server.client()
        let pending = try client.unary(.configure, ConfigureRequest(job: Job(type: "t")), as: ConfigureResponse.self).job
        let running = try client.unary(.updateJob, UpdateJobRequest(jobID: pending.jobID, status: .running, leaseTTLMs: 60_000),
                                       as: Job.self)
        var refused = try client.call(.retry, RetryRequest(jobID: running.jobID))
        #expect(refused.status.code == .failedPrecondition && refused.status.reason == Reason.notRetryable)
        let completed = try client.unary(.updateJob, UpdateJobRequest(jobID: running.jobID, status: .completed), as: Job.self)
        refused = try client.call(.retry, RetryRequest(jobID: completed.jobID))
        #expect(refused.status.code == .failedPrecondition && refused.status.reason == Reason.notRetryable)
        #expect(try client.unary(.getMetadata, GetMetadataRequest(jobID: completed.jobID), as: Job.self) == completed)

        let ended = try failed(client)
        refused = try client.call(.retry, RetryRequest(jobID: ended.jobID, expectedRevision: ended.revision - 1))
        #expect(refused.status.code == .aborted && refused.status.reason == Reason.revisionMismatch)
        refused = try client.call(.retry, RetryRequest(jobID: "00000000-0000-4000-8000-000000000000"))
        #expect(refused.status.code == .notFound && refused.status.reason == Reason.jobNotFound)

        // The failed job gave its port back; another job took it, so the retry cannot have it.
        let taker = try client.unary(.configure, ConfigureRequest(job: Job(type: "t")), as: ConfigureResponse.self).job
        #expect(taker.streamPort == ended.streamPort)
        refused = try client.call(.retry, RetryRequest(jobID: ended.jobID))
        #expect(refused.status.code == .failedPrecondition && refused.status.reason == Reason.streamPortInUse)
        #expect(try client.unary(.getMetadata, GetMetadataRequest(jobID: ended.jobID), as: Job.self) == ended)
        _ = try client.unary(.deleteJob, DeleteJobRequest(jobID: taker.jobID), as: DeleteJobResponse.self)
        #expect(try client.unary(.retry, RetryRequest(jobID: ended.jobID), as: Job.self).streamPort == ended.streamPort)
    }

    @Test("eight workers claim one PENDING job at its revision at once: exactly one wins, the others get REVISION_MISMATCH")
    func claimRace() throws {
        let server = try TestServer()
        let owner = try server.client()
        let job = try owner.unary(.configure, ConfigureRequest(job: Job(type: "queue")), as: ConfigureResponse.self).job
        let workers = try (0..<8).map { _ in try server.client() }
        let claim = UpdateJobRequest(jobID: job.jobID, status: .running, leaseTTLMs: 30_000, expectedRevision: job.revision)
        // Every claim is on the wire before any answer is read.
        let streams = try workers.map { try $0.start(.updateJob, claim) }
        let results = try zip(workers, streams).map { try $0.collect($1) }
        let winners = results.filter(\.status.isOK)
        #expect(winners.count == 1)
        for loser in results where !loser.status.isOK {
            #expect(loser.status.code == .aborted && loser.status.reason == Reason.revisionMismatch, "\(loser.status)")
        }
        let running = try owner.unary(.getMetadata, GetMetadataRequest(jobID: job.jobID), as: Job.self)
        #expect(running.status == .running && running.revision == job.revision + 1 && running.leaseExpiresAtMs > 0)
        #expect(try winners.first.map { try Job(decoding: $0.replies[0]) } == running)
    }

    @Test("SetPriority changes a live job's priority, watchers see it, the same priority changes nothing, ended jobs refuse")
    func setPriority() throws {
        let server = try TestServer()
        let client = try server.client()
        let watcher = try server.client()
        let job = try client.unary(.configure, ConfigureRequest(job: streamJob(priority: 1)), as: ConfigureResponse.self).job
        let stream = try watcher.start(.watchJob, WatchJobRequest(jobID: job.jobID))
        guard case .reply(let first) = try watcher.nextOnStream(stream) else {
            Issue.record("no snapshot")
            return
        }
        #expect(try WatchEvent(decoding: first.message).type == .snapshot)

        let raised = try client.unary(.setPriority, SetPriorityRequest(jobID: job.jobID, priority: 50), as: Job.self)
        #expect(raised.priority == 50 && raised.revision == 2 && raised.status == .pending)
        guard case .reply(let change) = try watcher.nextOnStream(stream) else {
            Issue.record("no change event")
            return
        }
        let event = try WatchEvent(decoding: change.message)
        #expect(event.type == .change && event.revision == 2 && event.job?.priority == 50)

        let same = try client.unary(.setPriority, SetPriorityRequest(jobID: job.jobID, priority: 50), as: Job.self)
        #expect(same == raised, "no new revision for the same priority")
        let stale = try client.call(.setPriority, SetPriorityRequest(jobID: job.jobID, priority: 7, expectedRevision: 1))
        #expect(stale.status.code == .aborted && stale.status.reason == Reason.revisionMismatch)

        _ = try client.unary(.cancel, CancelRequest(jobID: job.jobID), as: Job.self)
        let ended = try client.call(.setPriority, SetPriorityRequest(jobID: job.jobID, priority: 9))
        #expect(ended.status.code == .failedPrecondition && ended.status.reason == Reason.jobTerminal)
    }

    @Test("attempts, previous errors and priority survive a restart of the SQLite store")
    func durable() throws {
        let directory = DurableStoreTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var retried = Job()
        do {
            let server = try TestServer(store: try SQLiteJobStore(directory: directory))
            let client = try server.client()
            let ended = try failed(client)
            _ = try client.unary(.retry, RetryRequest(jobID: ended.jobID), as: Job.self)
            retried = try client.unary(.setPriority, SetPriorityRequest(jobID: ended.jobID, priority: -3), as: Job.self)
            server.stop()
        }
        let server = try TestServer(store: try SQLiteJobStore(directory: directory))
        let client = try server.client()
        #expect(try client.unary(.getMetadata, GetMetadataRequest(jobID: retried.jobID), as: Job.self) == retried)
        let page = try client.unary(.listJobs, ListJobsRequest(query: "MUX"), as: ListJobsResponse.self)
        #expect(page.totalCount == 0, "the current task was cleared by the retry, in the store too")
        let byPriority = try client.unary(.listJobs, ListJobsRequest(priority: PriorityRange(min: -3, max: -3)),
                                          as: ListJobsResponse.self)
        #expect(byPriority.jobs.map(\.jobID) == [retried.jobID])
        // The restored job keeps going: a worker claims its new attempt.
        let claimed = try client.unary(.updateJob, UpdateJobRequest(jobID: retried.jobID, status: .running, leaseTTLMs: 10_000,
                                                                    expectedRevision: retried.revision), as: Job.self)
        #expect(claimed.status == .running && claimed.attempt == 2)
    }
}
