import Dispatch
import Foundation
import JobWireProtocol
@testable import JobWireServer
import JobWireSync
import JobWireTestSupport
import Testing

/// The SQLite store's webhook tables: endpoints and the outbox survive a
/// restart, and a job change's messages commit or fail with the change.
@Suite("Webhook outbox (SQLite)", .ownThread)
struct WebhookStoreTests {
    /// Persists `changes` (one group commit when they are posted together) and waits for each answer.
    static func persist(_ store: SQLiteJobStore, _ changes: [StoredChange]) -> [Result<Void, JobWireError>] {
        let results = Locked<[Result<Void, JobWireError>]>([])
        let done = DispatchSemaphore(value: 0)
        for change in changes {
            store.persist(change) { result in
                results.withLock { $0.append(result) }
                done.signal()
            }
        }
        for _ in changes { done.wait() }
        return results.withLock { $0 }
    }

    static func jobChange(_ job: Job, sequence: UInt64, outbox: [StoredOutboxMessage]) -> StoredChange {
        let encoded = job.encode()
        return .put(StoredJobChange(
            summary: JobSummary(job), encodedJob: encoded, sequence: sequence, requestID: "", requestFingerprint: 0, leaseTTLMs: 0,
            appendedLogLines: [],
            appendedEvent: StoredEvent(revision: job.revision, encodedEvent: [], isStatusTransition: true), outbox: outbox))
    }

    static func message(_ id: String, endpoint: String, job: Job, type: String) -> StoredOutboxMessage {
        StoredOutboxMessage(messageID: id, endpointID: endpoint, tenant: job.tenant, jobID: job.jobID, revision: job.revision,
                            type: type, changedAtMs: job.updatedAtMs, encodedJob: job.encode(), nextAttemptAtMs: job.updatedAtMs)
    }

    static let endpoint = StoredWebhookEndpoint(
        endpointID: "ep_1", tenant: "acme", url: "https://hooks.example.com/jobwire", events: ["job.completed", "job.failed"],
        labels: ["site": "haifa", "odd=key%0A": "line\nbreak=%3D%"], secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
        createdAtMs: 1_000)

    @Test("endpoints and pending messages come back after a restart; delivered ones do not, requeued ones do")
    func roundTrip() throws {
        let directory = DurableStoreTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var job = Job(jobID: "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b", tenant: "acme", type: "encode", labels: ["site": "haifa"],
                      status: .completed, attempt: 1, createdAtMs: 1_000, updatedAtMs: 2_000, revision: 3)
        let first = Self.message("msg_a", endpoint: "ep_1", job: job, type: "job.completed")
        job.revision = 4
        job.updatedAtMs = 3_000
        let second = Self.message("msg_b", endpoint: "ep_1", job: job, type: "job.progress")
        do {
            let store = try SQLiteJobStore(directory: directory)
            let results = Self.persist(store, [.webhook(.putEndpoint(Self.endpoint)),
                                               Self.jobChange(job, sequence: 1, outbox: [first, second])])
            #expect(results.allSatisfy { if case .success = $0 { true } else { false } })
        }
        do {
            let store = try SQLiteJobStore(directory: directory)
            let loaded = try store.loadWebhooks()
            #expect(loaded.endpoints == [Self.endpoint], "labels and lists read back exactly, escapes and all")
            #expect(loaded.pending == [first, second], "in commit order")
            let attempt = StoredDeliveryAttempt(messageID: "msg_a", attempt: 1, atMs: 4_000, httpStatus: 200, latencyMicros: 800, error: "")
            let results = Self.persist(store, [.webhook(.attempted(attempt, attempts: 1, nextAttemptAtMs: 0, state: .delivered))])
            #expect(results.count == 1)
        }
        do {
            let store = try SQLiteJobStore(directory: directory)
            #expect(try store.loadWebhooks().pending.map(\.messageID) == ["msg_b"])
            _ = Self.persist(store, [.webhook(.requeue(messageID: "msg_a", nextAttemptAtMs: 9_000))])
            let requeued = try store.loadWebhooks().pending
            #expect(requeued.map(\.messageID) == ["msg_a", "msg_b"])
            #expect(requeued.first?.attempts == 1 && requeued.first?.nextAttemptAtMs == 9_000)
            _ = Self.persist(store, [.webhook(.removeEndpoint(endpointID: "ep_1"))])
            #expect(try store.loadWebhooks() == StoredWebhooks(), "an endpoint's messages go with it")
        }
    }

    @Test("a job change and its messages commit together or not at all")
    func messagesShareTheChangesTransaction() throws {
        let directory = DurableStoreTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let job = Job(jobID: "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b", tenant: "acme", type: "encode", status: .pending, attempt: 1,
                      createdAtMs: 1_000, updatedAtMs: 1_000, revision: 1)
        var changed = job
        changed.status = .completed
        changed.revision = 2
        do {
            let store = try SQLiteJobStore(directory: directory)
            #expect(Self.persist(store, [Self.jobChange(job, sequence: 1, outbox: [Self.message("msg_a", endpoint: "ep_1", job: job,
                                                                                                  type: "job.created")])]).count == 1)
            // The second change's message reuses the first's id: its insert fails, so the whole change must not land.
            let results = Self.persist(store, [Self.jobChange(changed, sequence: 1, outbox: [Self.message("msg_a", endpoint: "ep_1",
                                                                                                         job: changed, type: "job.completed")])])
            #expect(results.count == 1)
            if case .success = results[0] { Issue.record("a failed message insert committed its job change") }
            #expect(store.stoppedBecause != nil, "a failed commit stops the store")
        }
        let store = try SQLiteJobStore(directory: directory)
        var restored: [StoredJob] = []
        _ = try store.load(expect: { _ in }, restore: { restored.append($0) })
        #expect(restored.map(\.summary.revision) == [1], "the job is at its first revision, as committed")
        #expect(try store.loadWebhooks().pending.map(\.type) == ["job.created"])
    }

    @Test("pruning drops finished messages older than the retention with their attempts, never pending ones")
    func pruning() throws {
        let directory = DurableStoreTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteJobStore(directory: directory)
        var job = Job(jobID: "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b", tenant: "acme", type: "encode", status: .pending, attempt: 1,
                      createdAtMs: 1_000, updatedAtMs: 1_000, revision: 1)
        let old = Self.message("msg_old", endpoint: "ep_1", job: job, type: "job.created")
        job.revision = 2
        job.updatedAtMs = 5_000
        let recent = Self.message("msg_recent", endpoint: "ep_1", job: job, type: "job.progress")
        job.revision = 3
        job.updatedAtMs = 1_500
        let stillPending = Self.message("msg_pending", endpoint: "ep_1", job: job, type: "job.progress")
        _ = Self.persist(store, [Self.jobChange(job, sequence: 1, outbox: [old, recent, stillPending])])
        for id in ["msg_old", "msg_recent"] {
            let attempt = StoredDeliveryAttempt(messageID: id, attempt: 1, atMs: 6_000, httpStatus: 200, latencyMicros: 1, error: "")
            _ = Self.persist(store, [.webhook(.attempted(attempt, attempts: 1, nextAttemptAtMs: 0, state: .delivered))])
        }
        _ = Self.persist(store, [.webhook(.pruneDeliveries(before: 2_000))])
        let database = try SQLiteDatabase(path: directory + "/" + SQLiteJobStore.fileName)
        #expect(try database.texts("SELECT message_id FROM webhook_messages ORDER BY message_id") == ["msg_pending", "msg_recent"])
        #expect(try database.texts("SELECT message_id FROM webhook_attempts") == ["msg_recent"])
    }
}
