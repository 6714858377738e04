import Dispatch
import Foundation
import JobWireProtocol
import JobWireServer
import JobWireSync
import JobWireTestSupport
import JobWireWebhooks
import Testing

/// The registry and the endpoint table together: which changes make which
/// messages, stored with their change, handed over once committed.
@Suite("Webhook messages of job changes", .ownThread)
struct WebhookOutboxTests {
    /// Runs one registry write and waits for its reply.
    static func write(_ start: (@escaping WriteCompletion) throws(JobWireError) -> Void) throws -> [UInt8] {
        let reply = Locked<Result<[UInt8], JobWireError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        try start { result in
            reply.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return try #require(reply.withLock { $0 }).get()
    }

    static func endpoint(_ id: String, tenant: String, events: [String] = [], labels: [String: String] = [:],
                         disabled: Bool = false) -> StoredWebhookEndpoint {
        StoredWebhookEndpoint(endpointID: id, tenant: tenant, url: "https://hooks.example.com/\(id)", events: events, labels: labels,
                              secrets: [WebhookSignatureSecret.example], createdAtMs: 1, disabledAtMs: disabled ? 2 : 0,
                              disabledReason: disabled ? "GONE" : "")
    }

    @Test("each endpoint gets the events it asked for, of jobs with its labels; they are stored with the change and handed over after it")
    func messagesFollowChanges() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("jobwire-outbox-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let endpoints = WebhookEndpoints([
            Self.endpoint("ep_all", tenant: "acme"),
            Self.endpoint("ep_ends", tenant: "acme", events: ["job.completed", "job.failed", "job.cancelled"]),
            Self.endpoint("ep_haifa", tenant: "acme", labels: ["site": "haifa"]),
            Self.endpoint("ep_off", tenant: "acme", disabled: true),
            Self.endpoint("ep_globex", tenant: "globex"),
        ], progressIntervalMs: 0)
        let handed = Locked<[StoredOutboxMessage]>([])
        endpoints.deliver { messages in handed.withLock { $0 += messages } }
        let store = try SQLiteJobStore(directory: directory)
        let registry = try JobRegistry(configuration: RegistryConfiguration(), store: store, outbox: endpoints)

        let created = try ConfigureResponse(decoding: try Self.write { completion throws(JobWireError) in
            try registry.configure(ConfigureRequest(job: Job(type: "encode", labels: ["site": "eilat"])), tenant: "acme",
                                   completion: completion)
        }).job
        let id = created.jobID
        for update in [UpdateJobRequest(jobID: id, status: .running, progress: 10),
                       UpdateJobRequest(jobID: id, logLines: ["only a log line"]),
                       UpdateJobRequest(jobID: id, progress: 50, currentTask: "encoding"),
                       UpdateJobRequest(jobID: id, status: .completed)] {
            _ = try Self.write { completion throws(JobWireError) in try registry.update(update, tenant: "acme", completion: completion) }
        }
        _ = try Self.write { completion throws(JobWireError) in
            try registry.configure(ConfigureRequest(job: Job(type: "other")), tenant: "initech", completion: completion)
        }

        let expected: [(String, String, UInt64)] = [
            ("ep_all", "job.created", 1),
            ("ep_all", "job.progress", 2), ("ep_all", "job.progress", 4),
            ("ep_all", "job.completed", 5), ("ep_ends", "job.completed", 5),
        ]
        let stored = try store.loadWebhooks().pending
        #expect(stored.map { ($0.endpointID, $0.type, $0.revision) }.elementsEqual(expected, by: ==), "\(stored.map { ($0.endpointID, $0.type, $0.revision) })")
        #expect(handed.withLock { $0.map(\.messageID) } == stored.map(\.messageID), "handed over once committed, in commit order")
        #expect(handed.withLock { $0 } == stored)
        #expect(Set(stored.map(\.messageID)).count == stored.count, "one id per message")
        let completed = try Job(decoding: try #require(stored.last).encodedJob)
        #expect(completed.status == .completed && completed.revision == 5, "each message carries the job at its revision")
    }
}

extension WebhookOutboxTests {
    @Test("progress is coalesced: one message per job and endpoint per interval; other events always, and they end the interval")
    func progressIsCoalesced() {
        let endpoints = WebhookEndpoints([Self.endpoint("ep", tenant: "acme")], progressIntervalMs: 1_000)
        var job = Job(jobID: "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b", tenant: "acme", status: .running, attempt: 1)
        func change(_ edit: (inout Job) -> Void, at ms: Int64) -> [String] {
            let previous = job
            edit(&job)
            return endpoints.messages(previous: previous, current: job, revision: 1, encodedJob: [], changedAtMs: ms).map(\.type)
        }
        #expect(change({ $0.progress = 10 }, at: 10_000) == ["job.progress"])
        #expect(change({ $0.progress = 20 }, at: 10_500).isEmpty, "within the interval")
        #expect(change({ $0.progress = 30 }, at: 10_999).isEmpty)
        #expect(change({ $0.progress = 40 }, at: 11_000) == ["job.progress"], "the next interval")
        #expect(change({ $0.status = .cancelling }, at: 11_100) == ["job.progress"], "a status change is progress too, but starts afresh")
        #expect(change({ $0.progress = 50 }, at: 11_200).isEmpty)
        #expect(change({ $0.status = .cancelled }, at: 11_300) == ["job.cancelled"], "an end is never held back")
    }
}

extension WebhookOutboxTests {
    @Test("at a tenant's bound: no progress messages and none for failing endpoints, but every lifecycle message for healthy ones; other tenants go on")
    func boundPerTenant() {
        var failing = Self.endpoint("ep_failing", tenant: "acme")
        failing.failingSinceMs = 5
        let endpoints = WebhookEndpoints([Self.endpoint("ep_healthy", tenant: "acme"), failing, Self.endpoint("ep_globex", tenant: "globex")],
                                         progressIntervalMs: 0, maxPendingPerTenant: 3)
        func types(_ tenant: String, _ previous: JobStatus?, _ status: JobStatus, progress: Double = 0, at: Int64) -> [String] {
            let before = previous.map { Job(jobID: "00000000-0000-4000-8000-00000000000\(tenant.count)", tenant: tenant, status: $0) }
            let job = Job(jobID: "00000000-0000-4000-8000-00000000000\(tenant.count)", tenant: tenant, status: status, progress: progress)
            return endpoints.messages(previous: before, current: job, revision: 2, encodedJob: [], changedAtMs: at)
                .map { "\($0.endpointID) \($0.type)" }.sorted()
        }
        #expect(types("acme", .running, .running, progress: 10, at: 1) == ["ep_failing job.progress", "ep_healthy job.progress"])
        endpoints.pendingChanged(tenant: "acme", by: 3)
        #expect(endpoints.pending(tenant: "acme") == 3)
        #expect(types("acme", .running, .running, progress: 20, at: 2) == [], "progress waits for the next lifecycle message")
        #expect(types("acme", .running, .completed, at: 3) == ["ep_healthy job.completed"], "a failing endpoint gets nothing more")
        #expect(types("globex", .running, .running, progress: 20, at: 4) == ["ep_globex job.progress"], "another tenant is not held")
        #expect(endpoints.skippedMessages(tenant: "acme") == 3 && endpoints.skippedMessages(tenant: "globex") == 0)
        let overall = endpoints.skippedMessages()
        #expect(overall.skipped == 3 && overall.tenantsAtBound == 1)
        endpoints.pendingChanged(tenant: "acme", by: -1)
        #expect(types("acme", .running, .running, progress: 30, at: 5) == ["ep_failing job.progress", "ep_healthy job.progress"],
                "below the bound, everything again")
    }
}

enum WebhookSignatureSecret {
    static let example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
}
