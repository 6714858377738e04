import Foundation
import JobWireClient
import JobWireProtocol
import JobWireServer
import JobWireSync
import JobWireTestSupport
import Testing

@Suite("JobWireClient against a real server", .ownThread)
struct ClientTests {
    @Test("every call, and errors as JobWireError with code and reason")
    func everyCall() async throws {
        let harness = ServerHarness { $0.registry.streamPorts = 51_000...51_010 }
        try harness.start()
        let client = harness.client()
        let hello = try await client.connect()
        #expect(hello.tenant == "default" && hello.maxConcurrentStreams == 100)

        let created = try await client.configure(streamJob(), requestID: "r1")
        #expect(created.created && created.job.status == .pending && (51_000...51_010).contains(created.job.streamPort))
        let replay = try await client.configure(streamJob(), requestID: "r1")
        #expect(!replay.created && replay.job == created.job)
        let id = created.job.jobID

        #expect(try await client.metadata(for: id) == created.job)
        let running = try await client.update(UpdateJobRequest(jobID: id, status: .running, progress: 5, logLines: ["a", "b"]))
        #expect(running.status == .running && running.progress == 5)
        #expect(try await client.metadata(for: id, logTail: 1).logTail == ["b"])
        let batch = try await client.batchMetadata([id, "nope"])
        #expect(batch.count == 2 && batch[0].outcome == .job(running))
        let page = try await client.listPage(ListJobsRequest(statuses: [.running]))
        #expect(page.jobs.map(\.jobID) == [id] && page.totalCount == 1)
        #expect(try await client.health().status == .serving)
        #expect(try await client.stats().jobs == [StatusCount(status: .running, count: 1)])
        let cancelled = try await client.cancel(id, reason: "done here")
        #expect(cancelled.status == .cancelled && cancelled.cancelReason == "done here")
        #expect(try await client.delete(id).revision == cancelled.revision)

        do {
            _ = try await client.metadata(for: id)
            Issue.record("a deleted job was found")
        } catch let error as JobWireError {
            #expect(error.isNotFound && error.reason == Reason.jobNotFound && !error.isExpired)
        }
        do {
            _ = try await client.metadata(for: "not-a-job-id")
            Issue.record("a malformed id was accepted")
        } catch let error as JobWireError {
            #expect(error.isInvalidArgument && error.reason == Reason.invalidJobID)
        }
        let other = try await client.configure(streamJob())
        do {
            _ = try await client.update(UpdateJobRequest(jobID: other.job.jobID, status: .completed))
            Issue.record("an illegal transition was accepted")
        } catch let error as JobWireError {
            #expect(error.isFailedPrecondition && error.reason == Reason.illegalTransition)
        }
        await client.close()
    }

    @Test("a rate-limited call waits as the server asks and goes through, within its deadline")
    func waitsOutRateLimits() async throws {
        let harness = ServerHarness { $0.security.tenantRate = RateLimit(perSecond: 10, burst: 1) }
        try harness.start()
        let client = harness.client()
        let start = ContinuousClock.now
        let created = try await client.configure(Job(type: "t"))
        for _ in 0..<4 {
            #expect(try await client.metadata(for: created.job.jobID).jobID == created.job.jobID)
        }
        // Five calls at 10/s with a burst of 1: the client waited out four refusals of ~100 ms.
        #expect(ContinuousClock.now - start >= .milliseconds(350))
        // A deadline shorter than the wait is reported, not slept through.
        await #expect(throws: JobWireError.self) {
            for _ in 0..<3 { _ = try await client.health(timeout: .milliseconds(20)) }
        }
    }

    @Test("list walks every page")
    func listAllPages() async throws {
        let harness = ServerHarness()
        try harness.start()
        let client = harness.client()
        var ids: [String] = []
        for _ in 0..<250 { ids.append(try await client.configure(Job(type: "t")).job.jobID) }
        var listed: [String] = []
        for try await job in client.list(ListJobsRequest(pageSize: 40)) { listed.append(job.jobID) }
        #expect(listed == ids.reversed())
    }

    @Test("a call waits for the server to come up, within its deadline")
    func waitsForServer() async throws {
        let port = try freePort()
        let harness = ServerHarness(port: port)
        let client = harness.client()
        let call = Task { try await client.health(timeout: .seconds(10)) }
        try await Task.sleep(for: .milliseconds(400))
        try harness.start()
        #expect(try await call.value.status == .serving)
    }

    @Test("a call that cannot reach any server fails with DEADLINE_EXCEEDED at its deadline")
    func deadlineWithoutServer() async throws {
        let port = try freePort()
        let client = ServerHarness(port: port).client()
        let started = ContinuousClock.now
        do {
            _ = try await client.health(timeout: .milliseconds(500))
            Issue.record("no server, yet the call succeeded")
        } catch let error as JobWireError {
            #expect(error.isDeadlineExceeded)
        }
        let elapsed = ContinuousClock.now - started
        #expect(elapsed >= .milliseconds(400) && elapsed < .seconds(3))
    }

    @Test("cancelling the task cancels the watch on the wire")
    func taskCancellation() async throws {
        let harness = ServerHarness()
        try harness.start()
        let client = harness.client()
        let job = try await client.configure(streamJob()).job
        let started = Locked(false)
        let watching = Task {
            for try await _ in client.watch(job.jobID) { started.withLock { $0 = true } }
        }
        while !started.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(try await client.stats().streams == 1)
        watching.cancel()
        await #expect(throws: CancellationError.self) { try await watching.value }
        var streams: UInt32 = 1
        for _ in 0..<100 where streams != 0 {
            try await Task.sleep(for: .milliseconds(20))
            streams = try await client.stats().streams
        }
        #expect(streams == 0)
    }

    @Test("a watch keeps going while the server is stopped, then killed, and restarted on the same port: no gap, no duplicate")
    func watchAcrossRestart() async throws {
        let harness = ServerHarness(store: SurvivingStore())
        try harness.start()
        let worker = harness.client()
        let watcher = harness.client()
        let job = try await worker.configure(streamJob()).job
        let received = Locked<[JobEvent]>([])
        let watching = Task {
            for try await event in watcher.watch(job.jobID) { received.withLock { $0.append(event) } }
        }
        while received.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(10)) }
        _ = try await worker.update(UpdateJobRequest(jobID: job.jobID, status: .running))
        for step in 1...5 { _ = try await worker.update(UpdateJobRequest(jobID: job.jobID, progress: Double(step))) }
        while received.withLock({ $0.last?.revision ?? 0 }) < 7 { try await Task.sleep(for: .milliseconds(10)) }

        harness.stop()  // GoAway, the watch ends with UNAVAILABLE, the socket closes
        try harness.start()  // same port, same store
        // The worker may not have noticed yet that its connection is gone; an update
        // written into it would fail with CONNECTION_LOST and, rightly, not be retried
        // (it might have landed). A read is safe to retry and reconnects first.
        _ = try await worker.metadata(for: job.jobID)
        for step in 6...10 { _ = try await worker.update(UpdateJobRequest(jobID: job.jobID, progress: Double(step))) }
        while received.withLock({ $0.last?.revision ?? 0 }) < 12 { try await Task.sleep(for: .milliseconds(10)) }
        harness.kill()  // no GoAway: connections just vanish
        try harness.start()
        _ = try await worker.metadata(for: job.jobID)
        _ = try await worker.update(UpdateJobRequest(jobID: job.jobID, status: .completed, progress: 100))
        try await watching.value

        let events = received.withLock { $0 }
        #expect(events.map(\.revision) == Array(1...13), "every revision once, in order, across two restarts")
        #expect(events.first?.kind == .snapshot && events.dropFirst().allSatisfy { $0.kind == .change })
        #expect(events.last?.job.status == .completed)
    }

    @Test("the watch says RESYNC when the server no longer has the history")
    func resync() async throws {
        let harness = ServerHarness { $0.registry.historyPerJob = 2 }
        try harness.start()
        let client = harness.client()
        let job = try await client.configure(streamJob()).job
        _ = try await client.update(UpdateJobRequest(jobID: job.jobID, status: .running))
        var last = job
        for step in 1...6 { last = try await client.update(UpdateJobRequest(jobID: job.jobID, progress: Double(step))) }
        var iterator = client.watch(job.jobID, after: 2).makeAsyncIterator()
        let first = try await iterator.next()
        #expect(first?.kind == .resync && first?.job == last && first?.revision == last.revision)
    }

    @Test("a RESYNC at a revision below the one resumed from is delivered, and changes follow it", .timeLimit(.minutes(1)))
    func resyncBelowResumePoint() async throws {
        let harness = ServerHarness()
        try harness.start()
        let client = harness.client()
        let job = try await client.configure(streamJob()).job
        // Resuming after a revision the job never had (say, remembered from before a store was lost).
        var iterator = client.watch(job.jobID, after: 50).makeAsyncIterator()
        let first = try await iterator.next()
        #expect(first?.kind == .resync && first?.revision == 1)
        let changed = try await client.update(UpdateJobRequest(jobID: job.jobID, progress: 5))
        let next = try await iterator.next()
        #expect(next?.kind == .change && next?.revision == changed.revision && next?.job.progress == 5)
    }

    @Test("GOAWAY: new calls go to a fresh connection")
    func goAway() async throws {
        let harness = ServerHarness(store: SurvivingStore())
        try harness.start()
        let client = harness.client()
        let job = try await client.configure(streamJob()).job
        harness.stop()
        try harness.start()
        #expect(try await client.metadata(for: job.jobID) == job)
        #expect(harness.server?.connectionCount == 1)
    }

    @Test("JobReporter: reports, keeps its lease alive, and learns of a cancel")
    func reporter() async throws {
        let harness = ServerHarness()
        try harness.start()
        let client = harness.client()
        let reporter = try await JobReporter.create(client: client, job: streamJob(), lease: .milliseconds(1200))
        try await reporter.report(status: .running, progress: 10, task: "warm-up", eta: .seconds(90), log: ["started"])
        try await Task.sleep(for: .seconds(3))  // two and a half lease lengths: only heartbeats keep it alive
        let alive = try await client.metadata(for: reporter.jobID, logTail: 5)
        #expect(alive.status == .running && alive.currentTask == "warm-up" && alive.etaSeconds == 90)
        #expect(alive.logTail == ["started"])
        #expect(!reporter.isCancellationRequested)

        #expect(try await client.cancel(reporter.jobID).status == .cancelling)
        let noticed = Task { await reporter.waitForCancellation() }
        _ = try await reporter.report(progress: 11)
        await noticed.value
        #expect(reporter.isCancellationRequested)
        #expect(try await reporter.cancelled().status == .cancelled)
    }
}

