import JobWireProtocol
@testable import JobWireServer
import JobWireTestSupport
import Testing

/// The reaper's deadline queue and the lazily compacted creation order,
/// driven through the registry with explicit clocks (no sockets, no sleeping).
@Suite("Reaper deadlines and job order", .ownThread)
struct ReaperDeadlineTests {
    private let tenant = "default"

    /// Runs one registry write; the in-memory store completes it at once.
    private func write(_ start: (@escaping WriteCompletion) throws(JobWireError) -> Void) throws -> [UInt8] {
        try RegistryWrite(start).reply()
    }

    private func create(_ registry: JobRegistry, leaseTTLMs: UInt32 = 0) throws -> Job {
        let reply = try write { completion throws(JobWireError) in
            try registry.configure(ConfigureRequest(job: Job(type: "t"), leaseTTLMs: leaseTTLMs), tenant: tenant, completion: completion)
        }
        return try ConfigureResponse(decoding: reply).job
    }

    private func get(_ registry: JobRegistry, _ jobID: String) throws -> Job {
        try Job(decoding: registry.metadata(jobID: jobID, tenant: tenant, logTail: 0))
    }

    @Test("a renewed lease is not expired at its old deadline, and is at its new one")
    func renewedLease() throws {
        let registry = try JobRegistry(configuration: RegistryConfiguration(), store: InMemoryJobStore())
        let job = try create(registry, leaseTTLMs: 1_000)
        _ = try write { completion throws(JobWireError) in
            try registry.update(UpdateJobRequest(jobID: job.jobID, status: .running, leaseTTLMs: 60_000), tenant: tenant,
                                completion: completion)
        }
        let renewed = try get(registry, job.jobID).leaseExpiresAtMs
        #expect(renewed >= job.leaseExpiresAtMs + 58_000)

        // The first deadline's queue entry is popped, found stale, and re-queued at the new one.
        #expect(registry.reap(now: job.leaseExpiresAtMs + 1) == JobRegistry.ReapReport())
        #expect(try get(registry, job.jobID).status == .running)
        #expect(registry.state.withLock { $0.deadlines.count } == 1)

        #expect(registry.reap(now: renewed - 1).leasesExpired == 0)
        #expect(registry.reap(now: renewed).leasesExpired == 1)
        let failed = try get(registry, job.jobID)
        #expect(failed.status == .failed && failed.error?.reason == Reason.leaseExpired)
    }

    @Test("only what is due is reaped: leases, then retention, then tombstones, each at its own time")
    func onlyDue() throws {
        var configuration = RegistryConfiguration()
        configuration.retentionMs = 10_000
        configuration.expiredRetentionMs = 20_000
        let registry = try JobRegistry(configuration: configuration, store: InMemoryJobStore())
        let start = WallClock.nowMs()
        var leased: [Job] = []
        for index in 1...50 {
            leased.append(try create(registry, leaseTTLMs: UInt32(index * 100)))
        }
        let unleased = try create(registry)
        let latest = try #require(leased.map(\.leaseExpiresAtMs).max())

        let cutoff = start + 2_550
        let dueNow = leased.filter { $0.leaseExpiresAtMs <= cutoff }.count
        #expect(registry.reap(now: cutoff).leasesExpired == dueNow)
        for job in leased {
            #expect(try get(registry, job.jobID).status == (job.leaseExpiresAtMs <= cutoff ? .failed : .pending))
        }

        #expect(registry.reap(now: latest).leasesExpired == 50 - dueNow)
        #expect(try get(registry, unleased.jobID).status == .pending, "a job without a lease has no deadline")

        // Each failed job is kept for retention after the pass that failed it, then answers EXPIRED.
        #expect(registry.reap(now: latest + 10_000).jobsExpired == 50)
        #expect(registry.jobCount == 1)
        #expect(registry.reap(now: latest + 10_000 + 20_000).tombstonesForgotten == 50)
        #expect(registry.state.withLock { $0.tombstones.isEmpty && $0.deadlines.count == 0 })
    }

    @Test("deleted jobs leave no queue entries or order entries behind for long, and listing stays exact")
    func deletesCompact() throws {
        let registry = try JobRegistry(configuration: RegistryConfiguration(), store: InMemoryJobStore())
        var ids: [String] = []
        for _ in 0..<3_000 {
            let job = try create(registry)
            _ = try write { completion throws(JobWireError) in
                try registry.cancel(CancelRequest(jobID: job.jobID), tenant: tenant, completion: completion)
            }
            ids.append(job.jobID)
        }
        #expect(registry.state.withLock { $0.deadlines.count } == 3_000, "each cancelled job waits for its retention")
        for id in ids.prefix(2_500) {
            _ = try write { completion throws(JobWireError) in
                try registry.delete(DeleteJobRequest(jobID: id), tenant: tenant, completion: completion)
            }
        }
        let (entries, removed) = registry.state.withLock { state in
            (state.tenants[tenant]?.slots.count ?? 0, state.tenants[tenant]?.removedEntries ?? 0)
        }
        #expect(entries - removed == 500)
        #expect(removed <= 1_024, "compacted once removed entries were half")

        // A pass with nothing due rebuilds the queue without the deleted jobs' entries.
        #expect(registry.reap() == JobRegistry.ReapReport())
        #expect(registry.state.withLock { $0.deadlines.count } == 500)

        var listed: [String] = []
        var token = ""
        repeat {
            let page = try ListJobsResponse(decoding: registry.list(ListJobsRequest(pageSize: 64, pageToken: token), tenant: tenant))
            #expect(page.totalCount == 500)
            listed += page.jobs.map(\.jobID)
            token = page.nextPageToken
        } while !token.isEmpty
        #expect(listed == Array(ids.suffix(500).reversed()))
    }
}
