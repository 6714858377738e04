import JobWireProtocol
@testable import JobWireServer
import JobWireSync
import JobWireTestSupport
import Testing

/// What the registry does around a durable store's commits: watch events
/// only after the commit, and nothing more once a commit failed. Driven with
/// a store whose commits the test completes by hand.
@Suite("Commits and watch deliveries", .ownThread)
struct CommitOrderTests {
    /// A durable-looking store: holds every change until the test commits or fails it.
    final class ManualStore: JobStore, Sendable {
        private let held = Locked<[@Sendable (Result<Void, JobWireError>) -> Void]>([])
        private let stopped = Locked<JobWireError?>(nil)

        var kind: String { "manual" }
        var state: String { "ok" }
        var stoppedBecause: JobWireError? { stopped.withLock { $0 } }
        var commits: Int { 0 }
        func onStop(_ handler: @escaping @Sendable (JobWireError) -> Void) {}

        func load(expect: (Int) -> Void,
                  restore: (StoredJob) throws(JobWireError) -> Void) throws(JobWireError) -> [StoredTombstone] { [] }
        func loadDetails(sequence: UInt64) throws(JobWireError) -> StoredDetails { StoredDetails() }

        func persist(_ change: StoredChange, completion: @escaping @Sendable (Result<Void, JobWireError>) -> Void) {
            if let reason = stoppedBecause {
                completion(.failure(reason))
            } else {
                held.withLock { $0.append(completion) }
            }
        }

        /// Completes everything held, as one group commit would.
        func commit() {
            for completion in held.withLock({ held in defer { held.removeAll() }; return held }) {
                completion(.success(()))
            }
        }

        /// Completes the oldest change held, as a commit of one would.
        func commitOne() {
            let first = held.withLock { held in held.isEmpty ? nil : held.removeFirst() }
            first?(.success(()))
        }

        /// Fails everything held and stops, as the SQLite store does.
        func fail() {
            let reason = JobWireError(.unavailable, Reason.storeUnavailable, "disk full")
            stopped.withLock { $0 = reason }
            for completion in held.withLock({ held in defer { held.removeAll() }; return held }) {
                completion(.failure(reason))
            }
        }
    }

    final class Sink: WatchSink {
        let revisions = Locked<[UInt64]>([])
        func deliver(streamID: UInt32, watcherID: UInt64, _ delivery: WatchDelivery) {
            if case .event(let revision, _, _, _) = delivery {
                revisions.withLock { $0.append(revision) }
            }
        }
    }

    private let tenant = "default"

    /// A new job, its creation committed.
    private func createCommitted(in registry: JobRegistry, _ store: ManualStore) throws -> Job {
        let created = try RegistryWrite { completion throws(JobWireError) in
            try registry.configure(ConfigureRequest(job: Job(type: "t")), tenant: tenant, completion: completion)
        }
        store.commit()
        return try ConfigureResponse(decoding: created.reply()).job
    }

    @Test("a watcher gets a change only once it is committed, and never one whose commit failed")
    func deliveriesFollowCommits() throws {
        let store = ManualStore()
        let registry = try JobRegistry(configuration: RegistryConfiguration(), store: store)
        let job = try createCommitted(in: registry, store)

        let sink = Sink()
        let watch = try registry.watch(WatchJobRequest(jobID: job.jobID), tenant: tenant, sink: sink, streamID: 1)
        #expect(watch.events.map(\.revision) == [1])

        let updated = try RegistryWrite { completion throws(JobWireError) in
            try registry.update(UpdateJobRequest(jobID: job.jobID, progress: 10), tenant: tenant, completion: completion)
        }
        #expect(sink.revisions.withLock { $0 }.isEmpty, "not before the commit")
        #expect(updated.value == nil, "no reply before the commit")
        store.commit()
        #expect(sink.revisions.withLock { $0 } == [2])
        #expect(try Job(decoding: try #require(updated.value).get()).revision == 2)

        let lost = try RegistryWrite { completion throws(JobWireError) in
            try registry.update(UpdateJobRequest(jobID: job.jobID, progress: 20), tenant: tenant, completion: completion)
        }
        store.fail()
        #expect(sink.revisions.withLock { $0 } == [2], "a failed commit reaches no watcher")
        let failure = try #require(lost.value)
        #expect(throws: JobWireError.self) { try failure.get() }

        // Memory is now ahead of the store: every call is refused until a restart.
        let refused = Result { () throws(JobWireError) in try registry.metadata(jobID: job.jobID, tenant: tenant, logTail: 0) }
        guard case .failure(let error) = refused else {
            Issue.record("reads must be refused once the store stopped")
            return
        }
        #expect(error.code == .unavailable && error.reason == Reason.storeUnavailable)
        #expect(throws: JobWireError.self) {
            try registry.configure(ConfigureRequest(job: Job(type: "t")), tenant: tenant) { _ in }
        }
        #expect(registry.reap(now: .max) == JobRegistry.ReapReport(), "the reaper changes nothing either")
    }

    @Test("a watch that starts while a change commits starts from what the store has, and gets the change once it is committed")
    func watchDuringCommit() throws {
        let store = ManualStore()
        let registry = try JobRegistry(configuration: RegistryConfiguration(), store: store)
        let job = try createCommitted(in: registry, store)
        let early = Sink()
        _ = try registry.watch(WatchJobRequest(jobID: job.jobID), tenant: tenant, sink: early, streamID: 1)
        _ = try RegistryWrite { completion throws(JobWireError) in
            try registry.update(UpdateJobRequest(jobID: job.jobID, progress: 10), tenant: tenant, completion: completion)
        }
        let late = Sink()
        let lateStart = try registry.watch(WatchJobRequest(jobID: job.jobID, afterRevision: 1), tenant: tenant, sink: late,
                                           streamID: 2)
        let fresh = try registry.watch(WatchJobRequest(jobID: job.jobID), tenant: tenant, sink: Sink(), streamID: 3)
        #expect(lateStart.events.isEmpty, "revision 2 is not the store's yet")
        #expect(fresh.events.map(\.revision) == [1], "a snapshot is of the committed revision")
        store.commit()
        #expect(early.revisions.withLock { $0 } == [2])
        #expect(late.revisions.withLock { $0 } == [2])
    }

    @Test("a store that fails a commit leaves no trace of the write: never read, listed, watched or acknowledged")
    func failedCommitLeavesNoTrace() throws {
        let store = ManualStore()
        let registry = try JobRegistry(configuration: RegistryConfiguration(), store: store)
        let job = try createCommitted(in: registry, store)
        let sink = Sink()
        _ = try registry.watch(WatchJobRequest(jobID: job.jobID), tenant: tenant, sink: sink, streamID: 1)

        // Three writes wait for the store: a change, a new job, a delete of another job.
        let other = try createCommitted(in: registry, store)
        let changed = try RegistryWrite { completion throws(JobWireError) in
            try registry.update(UpdateJobRequest(jobID: job.jobID, progress: 50, logLines: ["half"]), tenant: tenant,
                                completion: completion)
        }
        let created = try RegistryWrite { completion throws(JobWireError) in
            try registry.configure(ConfigureRequest(requestID: "r1", job: Job(type: "new")), tenant: tenant,
                                   completion: completion)
        }
        let deleted = try RegistryWrite { completion throws(JobWireError) in
            try registry.delete(DeleteJobRequest(jobID: other.jobID), tenant: tenant, completion: completion)
        }
        let replayed = try RegistryWrite { completion throws(JobWireError) in
            try registry.configure(ConfigureRequest(requestID: "r1", job: Job(type: "new")), tenant: tenant,
                                   completion: completion)
        }

        // Meanwhile readers see exactly what the store has.
        let read = try Job(decoding: try registry.metadata(jobID: job.jobID, tenant: tenant, logTail: 5))
        #expect(read.revision == 1 && read.progress == 0 && read.logTail.isEmpty)
        let listed = try ListJobsResponse(decoding: try registry.list(ListJobsRequest(), tenant: tenant))
        #expect(Set(listed.jobs.map(\.jobID)) == [job.jobID, other.jobID] && listed.totalCount == 2)
        #expect(listed.jobs.first { $0.jobID == job.jobID }?.revision == 1)
        let stillThere = try Job(decoding: try registry.metadata(jobID: other.jobID, tenant: tenant, logTail: 0))
        #expect(stillThere.jobID == other.jobID, "a delete the store has not accepted deletes nothing yet")
        let batch = try BatchGetMetadataResponse(decoding: try registry.batchMetadata(
            BatchGetMetadataRequest(jobIDs: [job.jobID]), tenant: tenant))
        guard case .job(let batched)? = batch.results.first?.outcome else {
            Issue.record("the batch must answer the committed job")
            return
        }
        #expect(batched.revision == 1)
        #expect(sink.revisions.withLock { $0 }.isEmpty)
        for write in [changed, created, deleted, replayed] {
            #expect(write.value == nil, "nothing is acknowledged before the store answers")
        }

        store.fail()
        for write in [changed, created, deleted, replayed] {
            let outcome = try #require(write.value)
            #expect(throws: JobWireError.self) { try outcome.get() }
        }
        #expect(sink.revisions.withLock { $0 }.isEmpty, "no watcher ever saw revision 2")
        let refused = Result { () throws(JobWireError) in try registry.metadata(jobID: job.jobID, tenant: tenant, logTail: 0) }
        guard case .failure(let error) = refused else {
            Issue.record("reads must be refused once the store stopped")
            return
        }
        #expect(error.code == .unavailable && error.reason == Reason.storeUnavailable)
    }

    @Test("several changes waiting at once become visible one commit at a time; a deleted job stays readable until the delete is durable")
    func revisionsBecomeVisibleInOrder() throws {
        let store = ManualStore()
        let registry = try JobRegistry(configuration: RegistryConfiguration(), store: store)
        let job = try createCommitted(in: registry, store)
        func readRevision() throws -> UInt64 {
            try Job(decoding: try registry.metadata(jobID: job.jobID, tenant: tenant, logTail: 0)).revision
        }
        for progress in [10.0, 20.0] {
            _ = try RegistryWrite { completion throws(JobWireError) in
                try registry.update(UpdateJobRequest(jobID: job.jobID, progress: progress), tenant: tenant,
                                    completion: completion)
            }
        }
        // A cancel of the newest state waits for both before it answers.
        let cancelled = try RegistryWrite { completion throws(JobWireError) in
            try registry.cancel(CancelRequest(jobID: job.jobID), tenant: tenant, completion: completion)
        }
        #expect(try readRevision() == 1)
        store.commitOne()
        #expect(try readRevision() == 2)
        store.commitOne()
        #expect(try readRevision() == 3)
        #expect(cancelled.value == nil)
        store.commitOne()
        #expect(try readRevision() == 4)
        #expect(try Job(decoding: try cancelled.reply()).status == .cancelled)

        let created = try RegistryWrite { completion throws(JobWireError) in
            try registry.configure(ConfigureRequest(job: Job(type: "brief")), tenant: tenant, completion: completion)
        }
        #expect(created.value == nil)
        let listed = try ListJobsResponse(decoding: try registry.list(ListJobsRequest(), tenant: tenant))
        #expect(listed.jobs.map(\.jobID) == [job.jobID], "a job whose creation waits is not listed")
        store.commitOne()
        let brief = try ConfigureResponse(decoding: try created.reply()).job
        let deleted = try RegistryWrite { completion throws(JobWireError) in
            try registry.delete(DeleteJobRequest(jobID: brief.jobID), tenant: tenant, completion: completion)
        }
        #expect(try Job(decoding: try registry.metadata(jobID: brief.jobID, tenant: tenant, logTail: 0)).jobID == brief.jobID)
        // Writes already see it gone; they say so once the delete is durable (errorsWaitForTheirCause).
        let second = try RegistryWrite { completion throws(JobWireError) in
            try registry.delete(DeleteJobRequest(jobID: brief.jobID), tenant: tenant, completion: completion)
        }
        #expect(second.value == nil)
        store.commitOne()
        _ = try deleted.reply()
        #expect(throws: JobWireError.self) { try second.reply() }
        let gone = Result { () throws(JobWireError) in try registry.metadata(jobID: brief.jobID, tenant: tenant, logTail: 0) }
        guard case .failure(let error) = gone else {
            Issue.record("a deleted job must be gone once the store accepted the delete")
            return
        }
        #expect(error.code == .notFound && error.reason == Reason.jobNotFound)
    }

    @Test("a status change waiting for the store leaves the job listed, counted and watched under its old status until it is durable")
    func statusFiltersWhileACommitWaits() throws {
        let store = ManualStore()
        let registry = try JobRegistry(configuration: RegistryConfiguration(), store: store)
        let job = try createCommitted(in: registry, store)
        func listed(_ status: JobStatus) throws -> (ids: [String], total: UInt64) {
            let page = try ListJobsResponse(decoding: try registry.list(ListJobsRequest(statuses: [status]), tenant: tenant))
            return (page.jobs.map(\.jobID), page.totalCount)
        }
        _ = try RegistryWrite { completion throws(JobWireError) in
            try registry.update(UpdateJobRequest(jobID: job.jobID, status: .running), tenant: tenant, completion: completion)
        }
        #expect(try listed(.pending) == ([job.jobID], 1) && listed(.running) == ([], 0), "RUNNING is not durable yet")
        #expect(registry.statistics(tenant: tenant).counts == [StatusCount(status: .pending, count: 1)])
        store.commit()
        #expect(try listed(.running) == ([job.jobID], 1) && listed(.pending) == ([], 0))
        // Back and forth (retry) many times: the job is listed once, under its one status.
        for _ in 0..<3 {
            for request in [UpdateJobRequest(jobID: job.jobID, status: .failed), nil] {
                _ = try RegistryWrite { completion throws(JobWireError) in
                    if let request {
                        try registry.update(request, tenant: tenant, completion: completion)
                    } else {
                        try registry.retry(RetryRequest(jobID: job.jobID), tenant: tenant, completion: completion)
                    }
                }
                store.commit()
            }
            _ = try RegistryWrite { completion throws(JobWireError) in
                try registry.update(UpdateJobRequest(jobID: job.jobID, status: .running), tenant: tenant, completion: completion)
            }
            store.commit()
        }
        #expect(try listed(.running) == ([job.jobID], 1) && listed(.failed) == ([], 0) && listed(.pending) == ([], 0))
        #expect(registry.statistics(tenant: tenant).total == 1)
    }

    @Test("an error caused by a change the store has not accepted waits for it, so a read right after shows why")
    func errorsWaitForTheirCause() throws {
        let store = ManualStore()
        let registry = try JobRegistry(configuration: RegistryConfiguration(), store: store)
        let job = try createCommitted(in: registry, store)
        _ = try RegistryWrite { completion throws(JobWireError) in
            try registry.update(UpdateJobRequest(jobID: job.jobID, progress: 10), tenant: tenant, completion: completion)
        }
        // Checked against revision 2, which only the store's answer makes real.
        let stale = try RegistryWrite { completion throws(JobWireError) in
            try registry.update(UpdateJobRequest(jobID: job.jobID, progress: 20, expectedRevision: 1), tenant: tenant,
                                completion: completion)
        }
        #expect(stale.value == nil, "REVISION_MISMATCH would reveal revision 2 before it is durable")
        store.commitOne()
        let outcome = try #require(stale.value)
        #expect(throws: JobWireError.self) { try outcome.get() }
        if case .failure(let error) = outcome { #expect(error.reason == Reason.revisionMismatch) }
        #expect(try Job(decoding: try registry.metadata(jobID: job.jobID, tenant: tenant, logTail: 0)).revision == 2)

        // A write to a job whose delete waits answers NOT_FOUND only once the delete is durable.
        _ = try RegistryWrite { completion throws(JobWireError) in
            try registry.delete(DeleteJobRequest(jobID: job.jobID), tenant: tenant, completion: completion)
        }
        let late = try RegistryWrite { completion throws(JobWireError) in
            try registry.update(UpdateJobRequest(jobID: job.jobID, progress: 30), tenant: tenant, completion: completion)
        }
        #expect(late.value == nil)
        store.commitOne()
        if case .failure(let error)? = late.value {
            #expect(error.code == .notFound)
        } else {
            Issue.record("the update must end NOT_FOUND once the delete is durable, got \(String(describing: late.value))")
        }
    }

    @Test("a write's reply runs outside the registry's lock, so it may call the registry again")
    func completionsRunUnlocked() throws {
        let registry = try JobRegistry(configuration: RegistryConfiguration(), store: InMemoryJobStore())
        let nested = Locked<Result<[UInt8], JobWireError>?>(nil)
        try registry.configure(ConfigureRequest(job: Job(type: "t")), tenant: tenant) { result in
            // With the memory store this runs before configure returns: under the lock, it would deadlock.
            guard case .success(let reply) = result, let job = try? ConfigureResponse(decoding: reply).job else { return }
            nested.withLock { $0 = Result { () throws(JobWireError) in
                try registry.metadata(jobID: job.jobID, tenant: "default", logTail: 0) } }
        }
        let read = try #require(nested.withLock { $0 })
        #expect(try Job(decoding: try read.get()).revision == 1)
    }
}
