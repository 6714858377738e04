import Foundation
import JobWireProtocol
import JobWireServer
import JobWireTestSupport
import Testing

/// What time does to jobs: leases running out, retention, EXPIRED, forgetting.
@Suite("Leases and retention (short durations)", .ownThread)
struct RetentionAndLeaseTests {
    @Test("a RUNNING job whose lease runs out becomes FAILED with LEASE_EXPIRED; heartbeats keep it alive")
    func leaseExpiry() throws {
        let server = try TestServer()
        let client = try server.client()
        let kept = try client.unary(.configure, ConfigureRequest(job: streamJob(), leaseTTLMs: 300), as: ConfigureResponse.self).job
        let lost = try client.unary(.configure, ConfigureRequest(job: streamJob(), leaseTTLMs: 300), as: ConfigureResponse.self).job
        _ = try client.unary(.updateJob, UpdateJobRequest(jobID: kept.jobID, status: .running, currentTask: "a"), as: Job.self)
        _ = try client.unary(.updateJob, UpdateJobRequest(jobID: lost.jobID, status: .running, currentTask: "b"), as: Job.self)
        let watch = try client.start(.watchJob, WatchJobRequest(jobID: lost.jobID))
        _ = try client.nextEvent(watch)
        for _ in 0..<8 {
            usleep(100_000)
            // Renews with the lease length given at Configure.
            _ = try client.unary(.updateJob, UpdateJobRequest(jobID: kept.jobID), as: Job.self)
        }
        let failed = try client.unary(.getMetadata, GetMetadataRequest(jobID: lost.jobID), as: Job.self)
        #expect(failed.status == .failed)
        #expect(failed.error?.reason == Reason.leaseExpired && failed.error?.failedTask == "b")
        #expect(failed.leaseExpiresAtMs == 0 && failed.completedAtMs > 0)
        let alive = try client.unary(.getMetadata, GetMetadataRequest(jobID: kept.jobID), as: Job.self)
        #expect(alive.status == .running && alive.leaseExpiresAtMs > WallClock.nowMs())
        // The watcher learned that the worker died.
        if case .success(let event) = try client.nextEvent(watch) {
            #expect(event.job?.status == .failed && event.job?.error?.reason == Reason.leaseExpired)
        } else {
            Issue.record("the watcher should see the failure")
        }
    }

    @Test("a CANCELLING job whose worker disappears ends CANCELLED")
    func cancellingLeaseExpiry() throws {
        let server = try TestServer()
        let client = try server.client()
        let job = try client.unary(.configure, ConfigureRequest(job: streamJob(), leaseTTLMs: 200), as: ConfigureResponse.self).job
        #expect(try client.unary(.cancel, CancelRequest(jobID: job.jobID), as: Job.self).status == .cancelling)
        #expect(try eventually {
            try client.unary(.getMetadata, GetMetadataRequest(jobID: job.jobID), as: Job.self).status == .cancelled
        })
    }

    @Test("retention: served, then NOT_FOUND with EXPIRED, then plain NOT_FOUND")
    func retention() throws {
        let server = try TestServer { $0.registry.retentionMs = 300; $0.registry.expiredRetentionMs = 300 }
        let client = try server.client()
        let job = try client.unary(.configure, ConfigureRequest(job: streamJob()), as: ConfigureResponse.self).job
        let cancelled = try client.unary(.cancel, CancelRequest(jobID: job.jobID), as: Job.self)
        #expect(cancelled.expiresAtMs - cancelled.completedAtMs == 300)
        #expect(try client.call(.getMetadata, GetMetadataRequest(jobID: job.jobID)).status == .ok)
        #expect(try eventually {
            try client.call(.getMetadata, GetMetadataRequest(jobID: job.jobID)).status.reason == Reason.expired
        })
        let expired = try client.call(.getMetadata, GetMetadataRequest(jobID: job.jobID)).status
        #expect(expired.code == .notFound)
        #expect(try eventually {
            try client.call(.getMetadata, GetMetadataRequest(jobID: job.jobID)).status.reason == Reason.jobNotFound
        })
    }

    @Test("a job past its retention answers EXPIRED at once, not only after the reaper's next pass")
    func expiredBeforeReaping() throws {
        let server = try TestServer { $0.reaperIntervalMs = 600_000; $0.registry.retentionMs = 200 }
        let client = try server.client()
        let job = try client.unary(.configure, ConfigureRequest(job: Job(type: "t")), as: ConfigureResponse.self).job
        let running = try client.unary(.configure, ConfigureRequest(job: Job(type: "t")), as: ConfigureResponse.self).job
        let cancelled = try client.unary(.cancel, CancelRequest(jobID: job.jobID), as: Job.self)
        #expect(try client.call(.getMetadata, GetMetadataRequest(jobID: job.jobID)).status == .ok)
        while WallClock.nowMs() <= cancelled.expiresAtMs { usleep(10_000) }
        let status = try client.call(.getMetadata, GetMetadataRequest(jobID: job.jobID)).status
        #expect(status.code == .notFound && status.reason == Reason.expired)
        let update = try client.call(.updateJob, UpdateJobRequest(jobID: job.jobID, progress: 1)).status
        #expect(update.code == .notFound && update.reason == Reason.expired)
        // ListJobs leaves it out (and does not fail on it).
        let page = try client.unary(.listJobs, ListJobsRequest(), as: ListJobsResponse.self)
        #expect(page.jobs.map(\.jobID) == [running.jobID] && page.totalCount == 1)
        #expect(server.server.registry.jobCount == 2, "the reaper has not run; the job is still held")
    }

    @Test("the reaper works in batches and reports what it did")
    func reaperBatches() throws {
        let server = try TestServer { $0.reaperIntervalMs = 60_000; $0.registry.retentionMs = 1 }
        let client = try server.client()
        for _ in 0..<600 {
            let job = try client.unary(.configure, ConfigureRequest(job: Job(type: "t")), as: ConfigureResponse.self).job
            _ = try client.unary(.cancel, CancelRequest(jobID: job.jobID), as: Job.self)
        }
        let report = server.server.registry.reap(now: WallClock.nowMs() + 10, batch: 50)
        #expect(report.jobsExpired == 600)
        #expect(server.server.registry.jobCount == 0)
    }
}

/// ListJobs: filters, ordering, paging and its stability.
@Suite("ListJobs", .ownThread)
struct ListJobsTests {
    @Test("filters by status, type, labels, created range and priority; newest first; total count")
    func filters() throws {
        let server = try TestServer()
        let client = try server.client()
        var jobs: [Job] = []
        for index in 0..<12 {
            let spec = streamJob(type: index % 2 == 0 ? "even" : "odd", labels: ["group": index < 6 ? "a" : "b"],
                                 priority: Int32(index))
            jobs.append(try client.unary(.configure, ConfigureRequest(job: spec), as: ConfigureResponse.self).job)
        }
        _ = try client.unary(.updateJob, UpdateJobRequest(jobID: jobs[3].jobID, status: .running), as: Job.self)
        _ = try client.unary(.cancel, CancelRequest(jobID: jobs[4].jobID), as: Job.self)

        let all = try client.unary(.listJobs, ListJobsRequest(), as: ListJobsResponse.self)
        #expect(all.jobs.map(\.jobID) == jobs.reversed().map(\.jobID))
        #expect(all.totalCount == 12 && all.nextPageToken.isEmpty)
        #expect(all.jobs.allSatisfy { $0.logTail.isEmpty })

        let running = try client.unary(.listJobs, ListJobsRequest(statuses: [.running, .cancelled]), as: ListJobsResponse.self)
        #expect(Set(running.jobs.map(\.jobID)) == [jobs[3].jobID, jobs[4].jobID])
        let odd = try client.unary(.listJobs, ListJobsRequest(type: "odd", labels: ["group": "b"]), as: ListJobsResponse.self)
        #expect(odd.jobs.map(\.priority) == [11, 9, 7])
        let ranged = try client.unary(.listJobs, ListJobsRequest(priority: PriorityRange(min: 2, max: 4)), as: ListJobsResponse.self)
        #expect(ranged.jobs.map(\.priority) == [4, 3, 2] && ranged.totalCount == 3)
        let future = try client.unary(.listJobs, ListJobsRequest(createdAfterMs: WallClock.nowMs() + 60_000), as: ListJobsResponse.self)
        #expect(future.jobs.isEmpty && future.totalCount == 0)
        let past = try client.unary(.listJobs, ListJobsRequest(createdBeforeMs: WallClock.nowMs() + 60_000), as: ListJobsResponse.self)
        #expect(past.totalCount == 12)
    }

    @Test("pages of the default size; a token only works with its own filters")
    func paging() throws {
        let server = try TestServer()
        let client = try server.client()
        for _ in 0..<230 {
            _ = try client.unary(.configure, ConfigureRequest(job: Job(type: "t")), as: ConfigureResponse.self)
        }
        let first = try client.unary(.listJobs, ListJobsRequest(), as: ListJobsResponse.self)
        #expect(first.jobs.count == 100 && first.totalCount == 230 && !first.nextPageToken.isEmpty)
        let wrongFilters = try client.call(.listJobs, ListJobsRequest(type: "other", pageToken: first.nextPageToken))
        #expect(wrongFilters.status.code == .invalidArgument && wrongFilters.status.reason == Reason.invalidPageToken)
        let forged = try client.call(.listJobs, ListJobsRequest(pageToken: "jw1.zz"))
        #expect(forged.status.reason == Reason.invalidPageToken)
        let big = try client.unary(.listJobs, ListJobsRequest(pageSize: 500), as: ListJobsResponse.self)
        #expect(big.jobs.count == 230 && big.nextPageToken.isEmpty)
    }

    @Test("paging while jobs are created and deleted skips none and repeats none")
    func stableUnderConcurrentChanges() throws {
        let server = try TestServer()
        let client = try server.client()
        let writer = try server.client()
        var ids: [String] = []
        for _ in 0..<300 {
            ids.append(try client.unary(.configure, ConfigureRequest(job: Job(type: "t")), as: ConfigureResponse.self).job.jobID)
        }
        var seen: [String] = []
        var deleted: Set<String> = []
        var token = ""
        var page = 0
        repeat {
            let response = try client.unary(.listJobs, ListJobsRequest(pageSize: 37, pageToken: token), as: ListJobsResponse.self)
            seen += response.jobs.map(\.jobID)
            token = response.nextPageToken
            page += 1
            // Between pages: new jobs arrive and some not yet listed are deleted.
            for _ in 0..<20 {
                _ = try writer.unary(.configure, ConfigureRequest(job: Job(type: "t")), as: ConfigureResponse.self)
            }
            let unseen = ids.filter { !seen.contains($0) && !deleted.contains($0) }
            for id in unseen.prefix(3) {
                _ = try writer.unary(.deleteJob, DeleteJobRequest(jobID: id), as: DeleteJobResponse.self)
                deleted.insert(id)
            }
        } while !token.isEmpty && page < 100
        #expect(Set(seen).count == seen.count, "no job repeated")
        let expected = ids.filter { !deleted.contains($0) }
        #expect(Set(seen) == Set(expected), "every job that existed throughout was listed once")
        #expect(seen == expected.reversed(), "newest first")
    }
}
