import Foundation
import JobWireClient
import JobWireProtocol
import JobWireServer
import JobWireTestSupport
import Testing

/// The client's calls for retry, priority, claims, search and order, Stats,
/// Usage, detailed Health and WatchJobs, against a real server.
@Suite("JobWireClient: retry, claims, search, figures and watching many jobs", .ownThread)
struct ClientMissingPiecesTests {
    @Test("retry, setPriority, claim (one winner), a JobReporter that claims, and list with search and order")
    func writesAndListing() async throws {
        let harness = ServerHarness()
        try harness.start()
        let client = harness.client()
        let job = try await client.configure(Job(type: "transcode", labels: ["site": "Haifa"])).job
        let failed = try await client.update(UpdateJobRequest(jobID: job.jobID, status: .failed, error: JobError(message: "boom")))
        let retried = try await client.retry(job.jobID, expectedRevision: failed.revision)
        #expect(retried.status == .pending && retried.attempt == 2 && retried.previousAttempts.first?.error?.message == "boom")
        await #expect(throws: JobWireError.self) { try await client.retry(job.jobID) }
        let raised = try await client.setPriority(job.jobID, to: 9)
        #expect(raised.priority == 9 && raised.revision == retried.revision + 1)

        // Two workers claim the same revision: one wins.
        let other = harness.client()
        @Sendable func claim(_ worker: JobWireClient) async -> Result<Job, JobWireError> {
            do {
                return .success(try await worker.claim(job.jobID, revision: raised.revision, lease: .seconds(30)))
            } catch let error as JobWireError {
                return .failure(error)
            } catch {
                return .failure(JobWireError(.unknown, "UNEXPECTED", "\(error)"))
            }
        }
        async let first = claim(client)
        async let second = claim(other)
        let outcomes = await [first, second]
        let winners = outcomes.compactMap { try? $0.get() }
        #expect(winners.count == 1 && winners.first?.status == .running)
        for case .failure(let error) in outcomes {
            #expect(error.code == .aborted && error.reason == Reason.revisionMismatch)
        }

        let queued = try await client.configure(Job(type: "queue")).job
        let reporter = try await JobReporter.claim(client: client, jobID: queued.jobID, revision: queued.revision,
                                                   lease: .seconds(30))
        #expect(reporter.job?.status == .running)
        #expect(try await reporter.complete().status == .completed)

        let found = try await client.listPage(ListJobsRequest(query: "haifa", orderBy: .priority))
        #expect(found.jobs.map(\.jobID) == [job.jobID] && found.totalCount == 1)
        // Closed here, not when released: a released client's socket closes later, on Dispatch's queue, and a test
        // that counts the process's descriptors may be running by then.
        await client.close()
        await other.close()
    }

    @Test("stats by range, usage and detailed health")
    func figures() async throws {
        let harness = ServerHarness()
        try harness.start()
        let client = harness.client()
        let job = try await client.configure(Job(type: "t")).job
        _ = try await client.update(UpdateJobRequest(jobID: job.jobID, status: .running))
        _ = try await client.update(UpdateJobRequest(jobID: job.jobID, status: .completed))
        let stats = try await client.stats(createdAfterMs: job.createdAtMs)
        #expect(stats.totalJobs == 1 && stats.successRate == 1)
        #expect(try await client.stats(createdBeforeMs: job.createdAtMs).totalJobs == 0)
        let usage = try await client.usage()
        #expect(usage.keys.first?.methods.first { $0.method == Method.updateJob.rawValue }?.calls == 2)
        let health = try await client.health(detailed: true)
        #expect(health.status == .serving && health.components.map(\.name) == ["store", "disk", "event_loops"])
        await client.close()
    }

    @Test("watchJobs: snapshot, live changes, and a resume across a server restart with no gap, no duplicate and no resync")
    func watchAcrossRestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("jobwire-client-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let harness = ServerHarness(store: try SQLiteJobStore(directory: directory), port: try freePort())
        try harness.start()
        let client = harness.client()
        let first = try await client.configure(Job(type: "watched")).job
        var view = JobsView()
        let writer = harness.client()
        var seen: [JobsEvent] = []
        do {
            var events = client.watchJobs(ListJobsRequest(type: "watched")).makeAsyncIterator()
            var types: [JobsEventType] = []
            while !view.isSynced, let event = try await events.next() {
                view.apply(event)
                types.append(event.type)
            }
            #expect(types == [.snapshot, .synced] && Set(view.jobs.keys) == [first.jobID])

            // The server restarts (gracefully: the watch is told to go elsewhere) while jobs change.
            harness.stop()
            try harness.start()
            let second = try await writer.configure(Job(type: "watched")).job
            let running = try await writer.update(UpdateJobRequest(jobID: first.jobID, status: .running))
            _ = try await writer.configure(Job(type: "unrelated"))

            while view.jobs[first.jobID]?.revision != running.revision || view.jobs[second.jobID] == nil,
                  let event = try await events.next() {
                view.apply(event)
                seen.append(event)
            }
        }
        // The watch's iterator is released above (its driver stops); the clients are closed before the test ends.
        #expect(!seen.contains { $0.type == .resync }, "the SQLite store's history resumes")
        #expect(seen.filter { $0.type != .synced }.count == 2, "each change once: \(seen.map(\.type))")
        let listed = try await writer.listPage(ListJobsRequest(type: "watched"))
        #expect(Dictionary(uniqueKeysWithValues: listed.jobs.map { ($0.jobID, $0) }) == view.jobs)
        await client.close()
        await writer.close()
    }
}
