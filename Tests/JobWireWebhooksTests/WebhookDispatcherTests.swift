import Dispatch
import Foundation
import JobWireJSON
import JobWireProtocol
import JobWireServer
import JobWireSync
import JobWireTestSupport
import JobWireWebhookSignature
import JobWireWebhooks
import Testing

/// A receiver in memory: answers each URL's requests with the statuses given
/// for it, in turn (then 200), and keeps every request. The answers for a
/// `held` URL wait until ``release(_:)``: a receiver as slow as a test needs.
final class ScriptedTransport: WebhookTransport {
    struct Request: Sendable {
        let url: String
        let headers: [String: String]
        let body: [UInt8]
        let atMs: Int64
    }

    private let script: Locked<[String: [Int]]>
    private let held: Locked<(urls: Set<String>, answers: [@Sendable () -> Void])>
    let requests = Locked<[Request]>([])
    private let queue = DispatchQueue(label: "scripted-transport", attributes: .concurrent)

    init(_ script: [String: [Int]] = [:], held: Set<String> = []) {
        self.script = Locked(script)
        self.held = Locked((held, []))
    }

    /// Answers the held requests of `url`, and every later one at once.
    func release(_ url: String) {
        let answers = held.withLock { held -> [@Sendable () -> Void] in
            held.urls.remove(url)
            defer { held.answers = [] }
            return held.answers
        }
        for answer in answers { queue.async(execute: answer) }
    }

    func post(url: String, headers: [(String, String)], body: [UInt8], timeoutMs: Int64,
              completion: @escaping @Sendable (WebhookTransportResult) -> Void) {
        requests.withLock { $0.append(Request(url: url, headers: Dictionary(headers, uniquingKeysWith: { $1 }), body: body,
                                              atMs: WallClock.nowMs())) }
        let status = script.withLock { script -> Int in
            guard var statuses = script[url], !statuses.isEmpty else { return 200 }
            let first = statuses.removeFirst()
            script[url] = statuses
            return first
        }
        let answer: @Sendable () -> Void = { completion(WebhookTransportResult(httpStatus: status, latencyMicros: 100)) }
        let parked = held.withLock { held -> Bool in
            guard held.urls.contains(url) else { return false }
            held.answers.append(answer)
            return true
        }
        if !parked { queue.async(execute: answer) }
    }

    func delivered(to url: String) -> [Request] { requests.withLock { $0.filter { $0.url == url } } }
}

@Suite("Webhook delivery", .ownThread)
struct WebhookDispatcherTests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    static func endpoint(_ id: String) -> StoredWebhookEndpoint {
        StoredWebhookEndpoint(endpointID: id, tenant: "acme", url: "https://\(id).example.com/hook", events: [], labels: [:],
                              secrets: [secret], createdAtMs: 1)
    }

    static var fast: WebhookDispatcher.Settings {
        var settings = WebhookDispatcher.Settings()
        settings.schedule = WebhookRetrySchedule(delaysMs: [0, 30, 30, 30], jitter: 0)
        return settings
    }

    static func wait(_ what: String, timeout: Double = 5, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            if Date() > deadline { throw WaitTimedOut(what: what) }
            usleep(5_000)
        }
    }

    struct WaitTimedOut: Error { let what: String }

    /// A registry on a fresh SQLite store whose tenant acme has `endpoints`, with a dispatcher on `transport`.
    final class Rig: Sendable {
        let directory: String
        let store: SQLiteJobStore
        let endpoints: WebhookEndpoints
        let registry: JobRegistry
        let dispatcher: WebhookDispatcher

        init(_ endpoints: [StoredWebhookEndpoint], transport: ScriptedTransport, directory: String? = nil) throws {
            self.directory = directory
                ?? FileManager.default.temporaryDirectory.appendingPathComponent("jobwire-delivery-\(UUID().uuidString)").path
            store = try SQLiteJobStore(directory: self.directory)
            let stored = try store.loadWebhooks()
            self.endpoints = WebhookEndpoints(stored.endpoints.isEmpty ? endpoints : stored.endpoints)
            registry = try JobRegistry(configuration: RegistryConfiguration(), store: store, outbox: self.endpoints)
            dispatcher = WebhookDispatcher(endpoints: self.endpoints, store: store, transport: transport, settings: WebhookDispatcherTests.fast)
            if stored.endpoints.isEmpty {
                for endpoint in endpoints { _ = WebhookStoreWaits.persist(store, .webhook(.putEndpoint(endpoint))) }
            }
            dispatcher.start(pending: stored.pending)
        }

        func create(_ type: String = "encode") throws -> Job {
            try ConfigureResponse(decoding: try WebhookOutboxTests.write { completion throws(JobWireError) in
                try registry.configure(ConfigureRequest(job: Job(type: type)), tenant: "acme", completion: completion)
            }).job
        }

        func update(_ request: UpdateJobRequest) throws {
            _ = try WebhookOutboxTests.write { completion throws(JobWireError) in
                try registry.update(request, tenant: "acme", completion: completion)
            }
        }
    }

    @Test("a completion is delivered, signed as Standard Webhooks says, with the job's JSON")
    func signedDelivery() throws {
        let transport = ScriptedTransport()
        let rig = try Rig([Self.endpoint("ends")], transport: transport)
        defer { try? FileManager.default.removeItem(atPath: rig.directory) }
        let job = try rig.create()
        try rig.update(UpdateJobRequest(jobID: job.jobID, status: .running))
        try rig.update(UpdateJobRequest(jobID: job.jobID, status: .completed, result: JobResult(contentType: "application/json",
                                                                                               data: Array(#"{"frames":9}"#.utf8))))
        try Self.wait("three deliveries") { transport.requests.withLock { $0.count } == 3 }
        let requests = transport.requests.withLock { $0 }
        let completed = try #require(requests.last)
        let secret = try WebhookSecret(encoded: Self.secret)
        try WebhookSignature.verify(messageID: completed.headers["webhook-id"], timestamp: completed.headers["webhook-timestamp"],
                                    signature: completed.headers["webhook-signature"], body: completed.body, secret: secret,
                                    now: WallClock.nowMs() / 1000)
        #expect(completed.headers["content-type"] == "application/json")
        let stored = try rig.registry.metadata(jobID: job.jobID, tenant: "acme", logTail: 0)
        let finished = try Job(decoding: stored)
        let expected = WebhookPayload.body(type: .completed, changedAtMs: finished.updatedAtMs, jobJSON: JobJSON.encode(finished))
        #expect(String(decoding: completed.body, as: UTF8.self) == String(decoding: expected, as: UTF8.self))
        #expect(String(decoding: requests[0].body, as: UTF8.self).hasPrefix(#"{"type":"job.created","#))
        try Self.wait("the outbox to empty") { (try? rig.store.loadWebhooks().pending.isEmpty) == true }
    }

    @Test("500 twice then 200: three attempts with the same webhook-id; a job's later message waits its turn")
    func retriesKeepTheIdAndTheOrder() throws {
        let transport = ScriptedTransport(["https://flaky.example.com/hook": [500, 500]])
        let rig = try Rig([Self.endpoint("flaky")], transport: transport)
        defer { try? FileManager.default.removeItem(atPath: rig.directory) }
        let job = try rig.create()
        try rig.update(UpdateJobRequest(jobID: job.jobID, status: .running))
        try Self.wait("four requests") { transport.requests.withLock { $0.count } == 4 }
        let requests = transport.requests.withLock { $0 }
        let ids = requests.map { $0.headers["webhook-id"] ?? "" }
        #expect(ids[0] == ids[1] && ids[1] == ids[2], "every attempt of a message has its id")
        #expect(ids[3] != ids[0])
        let types = requests.map { String(decoding: $0.body, as: UTF8.self).prefix(22) }
        #expect(types == Array(repeating: #"{"type":"job.created","#.prefix(22), count: 3) + [#"{"type":"job.progress""#.prefix(22)],
                "the progress message went only after the creation was delivered")
        #expect(requests[1].atMs - requests[0].atMs >= 30 && requests[2].atMs - requests[1].atMs >= 30, "on the schedule")
        try Self.wait("the outbox to empty") { (try? rig.store.loadWebhooks().pending.isEmpty) == true }
    }

    @Test("410 Gone disables the endpoint; nothing more is sent to it")
    func goneDisables() throws {
        let transport = ScriptedTransport(["https://gone.example.com/hook": [410]])
        let rig = try Rig([Self.endpoint("gone")], transport: transport)
        defer { try? FileManager.default.removeItem(atPath: rig.directory) }
        _ = try rig.create()
        try Self.wait("the endpoint to be disabled") { (rig.endpoints.endpoint("gone")?.disabledAtMs ?? 0) > 0 }
        #expect(rig.endpoints.endpoint("gone")?.disabledReason.hasPrefix("GONE") == true)
        _ = try rig.create()
        usleep(100_000)
        #expect(transport.requests.withLock { $0.count } == 1)
        let reopened = try SQLiteJobStore(directory: rig.directory).loadWebhooks()
        #expect(reopened.endpoints.first?.disabledAtMs ?? 0 > 0, "disabled in the store too")
    }

    @Test("a slow receiver holds back only its own messages")
    func slowEndpointIsolated() throws {
        let transport = ScriptedTransport(held: ["https://slow.example.com/hook"])
        let rig = try Rig([Self.endpoint("slow"), Self.endpoint("fast")], transport: transport)
        defer { try? FileManager.default.removeItem(atPath: rig.directory) }
        for _ in 0..<6 { _ = try rig.create() }
        try Self.wait("the fast endpoint's six") { transport.delivered(to: "https://fast.example.com/hook").count == 6 }
        try Self.wait("four requests to the slow one") { transport.delivered(to: "https://slow.example.com/hook").count == 4 }
        usleep(50_000)
        #expect(transport.delivered(to: "https://slow.example.com/hook").count == 4, "at most four in flight to the slow one")
        transport.release("https://slow.example.com/hook")
        try Self.wait("the slow endpoint's six") { transport.delivered(to: "https://slow.example.com/hook").count == 6 }
    }

    @Test("messages pending at a stop are delivered after the restart")
    func pendingSurviveARestart() throws {
        // The first attempt never gets an answer, as when the process dies mid-request: nothing more is written
        // through the first store, and the message is still pending in the file the second one opens.
        let stalled = ScriptedTransport(held: ["https://later.example.com/hook"])
        let first = try Rig([Self.endpoint("later")], transport: stalled)
        defer { try? FileManager.default.removeItem(atPath: first.directory) }
        let job = try first.create()
        try Self.wait("a first attempt") { stalled.requests.withLock { $0.count } == 1 }
        first.dispatcher.stop()
        let transport = ScriptedTransport()
        let second = try Rig([], transport: transport, directory: first.directory)
        try Self.wait("the delivery after the restart") { transport.requests.withLock { $0.count } == 1 }
        let request = try #require(transport.requests.withLock { $0.first })
        #expect(request.headers["webhook-id"] == stalled.requests.withLock { $0.first?.headers["webhook-id"] })
        #expect(String(decoding: request.body, as: UTF8.self).contains(job.jobID))
        try Self.wait("the outbox to empty") { (try? second.store.loadWebhooks().pending.isEmpty) == true }
    }
}

enum WebhookStoreWaits {
    static func persist(_ store: any JobStore, _ change: StoredChange) -> Result<Void, JobWireError> {
        let result = Locked<Result<Void, JobWireError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        store.persist(change) { outcome in
            result.withLock { $0 = outcome }
            done.signal()
        }
        done.wait()
        return result.withLock { $0 } ?? .failure(JobWireError(.internal, "NO_ANSWER", "the store did not answer"))
    }
}
