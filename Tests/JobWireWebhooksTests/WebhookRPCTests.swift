import Foundation
import JobWireClient
import JobWireProtocol
import JobWireServer
import JobWireTestSupport
import JobWireWebhookDelivery
import JobWireWebhookSignature
import JobWireWebhooks
import Logging
import Testing

/// The webhook methods of the binary protocol, end to end: JobWireClient against a real server on a SQLite store
/// that POSTs to a receiver on loopback over HTTP.
@Suite("Webhook endpoints over the binary protocol", .ownThread)
struct WebhookRPCTests {
    /// jobwired's wiring of webhooks, on port 0 and a fresh data directory.
    final class Node: Sendable {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("jobwire-rpc-\(UUID().uuidString)").path
        let server: JobWireServer
        let dispatcher: WebhookDispatcher
        let transport: HTTPWebhookTransport
        let port: Int

        init() throws {
            let store = try SQLiteJobStore(directory: directory)
            let policy = WebhookAddressPolicy(allowPrivate: true)
            let stored = try store.loadWebhooks()
            let endpoints = WebhookEndpoints(stored.endpoints)
            transport = HTTPWebhookTransport(policy: policy)
            dispatcher = WebhookDispatcher(endpoints: endpoints, store: store, transport: transport)
            var settings = WebhookService.Settings()
            settings.policy = policy
            let webhooks = WebhookService(endpoints: endpoints, store: store, dispatcher: dispatcher, settings: settings)
            var configuration = ServerConfiguration()
            configuration.port = 0
            server = try JobWireServer(configuration: configuration, store: store, outbox: endpoints, webhooks: webhooks,
                                       logger: Logger(label: "test"))
            dispatcher.start(pending: stored.pending)
            port = try server.start()
        }

        func client() -> JobWireClient {
            JobWireClient(configuration: .init(host: "127.0.0.1", port: port))
        }

        func stop() {
            dispatcher.stop()
            let done = DispatchSemaphore(value: 0)
            server.shutdown { done.signal() }
            done.wait()
            transport.shutdown()
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// Waits (a bounded number of times) until `condition` holds.
    static func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
        for _ in 0..<500 {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("timed out waiting until \(what)")
    }

    @Test("create, a completed job is POSTed signed with the secret; list, get, deliveries, redeliver, rotate, delete; Stats")
    func lifecycle() async throws {
        let node = try Node()
        defer { node.stop() }
        let receiver = try LoopbackReceiver(status: 204)
        defer { receiver.stop() }
        try await Self.withClient(of: node) { client in
            try await Self.lifecycle(client, receiver: receiver)
        }
    }

    /// Runs `body` with a client of `node`, closed before this returns (a close left to a task would end after the
    /// test, under a later one that counts descriptors).
    static func withClient(of node: Node, _ body: (JobWireClient) async throws -> Void) async throws {
        let client = node.client()
        do {
            try await body(client)
        } catch {
            await client.close()
            throw error
        }
        await client.close()
    }

    static func lifecycle(_ client: JobWireClient, receiver: LoopbackReceiver) async throws {
        let url = "http://127.0.0.1:\(receiver.port)/hook"
        let created = try await client.createWebhook(url: url, events: ["job.completed"], labels: ["site": "haifa"])
        #expect(created.secret.hasPrefix("whsec_"))
        #expect(created.endpoint.endpointID.hasPrefix("ep_") && created.endpoint.url == url && created.endpoint.enabled)
        #expect(created.endpoint.events == ["job.completed"] && created.endpoint.labels == ["site": "haifa"])
        #expect(try await client.webhooks() == [created.endpoint])
        #expect(try await client.webhook(created.endpoint.endpointID) == created.endpoint)

        let job = try await client.configure(Job(type: "encode", labels: ["site": "haifa"])).job
        _ = try await client.update(UpdateJobRequest(jobID: job.jobID, status: .running))
        let done = try await client.update(UpdateJobRequest(jobID: job.jobID, status: .completed))
        try await Self.eventually("the receiver has the message") { receiver.received.withLock { $0.count } == 1 }
        let request = try #require(receiver.received.withLock { $0.first })
        let (headers, body) = Self.split(request)
        let secret = try WebhookSecret(encoded: created.secret)
        try WebhookSignature.verify(messageID: headers["webhook-id"], timestamp: headers["webhook-timestamp"],
                                    signature: headers["webhook-signature"], body: Array(body.utf8), secret: secret,
                                    now: Int64(Date().timeIntervalSince1970))
        #expect(body.contains(#""type":"job.completed""#) && body.contains(job.jobID))

        try await Self.eventually("the delivery is recorded") {
            try await client.webhookDeliveries(created.endpoint.endpointID).first?.state == .delivered
        }
        let delivery = try #require(try await client.webhookDeliveries(created.endpoint.endpointID).first)
        #expect(delivery.messageID == headers["webhook-id"] && delivery.jobID == job.jobID && delivery.revision == done.revision)
        #expect(delivery.type == "job.completed" && delivery.endpointID == created.endpoint.endpointID)
        #expect(delivery.attempts.count == 1 && delivery.attempts.first?.httpStatus == 204 && delivery.attempts.first?.error == "")

        let again = try await client.redeliverWebhook(delivery.messageID)
        #expect(again.state == .pending && again.messageID == delivery.messageID)
        try await Self.eventually("the redelivery arrives") { receiver.received.withLock { $0.count } == 2 }
        #expect(Self.split(receiver.received.withLock { $0[1] }).headers["webhook-id"] == delivery.messageID)

        let rotated = try await client.rotateWebhookSecret(created.endpoint.endpointID, overlap: .seconds(60))
        #expect(rotated.secret.hasPrefix("whsec_") && rotated.secret != created.secret)
        #expect(rotated.endpoint.previousSecretExpiresAtMs > created.endpoint.createdAtMs)

        let stats = try await client.stats()
        #expect(stats.webhooks.endpoints == 1 && stats.webhooks.failingEndpoints == 0 && stats.webhooks.disabledEndpoints == 0)

        try await client.deleteWebhook(created.endpoint.endpointID)
        #expect(try await client.webhooks().isEmpty)
        #expect(try await client.stats().webhooks.endpoints == 0)
    }

    @Test("bad input and unknown ids answer with their code and reason, and the connection keeps serving")
    func refusals() async throws {
        let node = try Node()
        defer { node.stop() }
        try await Self.withClient(of: node) { client in
            try await Self.refusals(client)
        }
    }

    static func refusals(_ client: JobWireClient) async throws {
        func refusal(_ call: () async throws -> Void) async -> (StatusCode, String)? {
            do {
                try await call()
                return nil
            } catch let error as JobWireError {
                return (error.code, error.reason)
            } catch {
                return (.unknown, "\(error)")
            }
        }
        let cases: [(String, StatusCode, String, () async throws -> Void)] = [
            ("a relative URL", .invalidArgument, Reason.invalidWebhookURL, { _ = try await client.createWebhook(url: "/hook") }),
            ("ftp", .invalidArgument, Reason.invalidWebhookURL, { _ = try await client.createWebhook(url: "ftp://example.com/x") }),
            ("cloud metadata", .invalidArgument, Reason.webhookAddressNotAllowed,
             { _ = try await client.createWebhook(url: "http://169.254.169.254/latest") }),
            ("an unknown event", .invalidArgument, Reason.unknownEventType,
             { _ = try await client.createWebhook(url: "https://example.com/h", events: ["job.exploded"]) }),
            ("an unknown endpoint", .notFound, Reason.webhookNotFound, { _ = try await client.webhook("ep_nope") }),
            ("deleting one", .notFound, Reason.webhookNotFound, { try await client.deleteWebhook("ep_nope") }),
            ("rotating one", .notFound, Reason.webhookNotFound, { _ = try await client.rotateWebhookSecret("ep_nope") }),
            ("its deliveries", .notFound, Reason.webhookNotFound, { _ = try await client.webhookDeliveries("ep_nope") }),
            ("an unknown message", .notFound, Reason.deliveryNotFound, { _ = try await client.redeliverWebhook("msg_nope") }),
        ]
        for (what, code, reason, call) in cases {
            let outcome = await refusal(call)
            #expect(outcome?.0 == code && outcome?.1 == reason, "\(what): \(String(describing: outcome))")
        }
        let endpoint = try await client.createWebhook(url: "https://example.com/h").endpoint
        let tooLong = await refusal { _ = try await client.rotateWebhookSecret(endpoint.endpointID, overlap: .seconds(8 * 86_400)) }
        #expect(tooLong?.0 == .invalidArgument && tooLong?.1 == Reason.valueOutOfRange)
        let tooMany = await refusal { _ = try await client.webhookDeliveries(endpoint.endpointID, limit: 501) }
        #expect(tooMany?.0 == .invalidArgument && tooMany?.1 == Reason.valueOutOfRange)
        #expect(try await client.webhooks().map(\.endpointID) == [endpoint.endpointID], "nothing was made by a refused call")
    }

    /// A raw request's headers (lower-cased names) and body.
    static func split(_ request: String) -> (headers: [String: String], body: String) {
        guard let end = request.range(of: "\r\n\r\n") else { return ([:], "") }
        var headers: [String: String] = [:]
        for line in request[..<end.lowerBound].split(separator: "\r\n").dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return (headers, String(request[end.upperBound...]))
    }
}
