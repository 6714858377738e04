import Foundation
import JobWireClient
import JobWireKeys
import JobWireProtocol
import JobWireServer
import JobWireTestSupport
import Testing

/// How the Swift client tells a final refusal from a transient failure: a
/// refused handshake or a revoked key fails every pending and new call at once
/// with the server's code, reason and message; only transient failures wait and
/// retry until the deadline.
@Suite("JobWireClient: final and transient failures", .ownThread)
struct ClientErrorTests {
    /// Far longer than any of these calls may take: a call that waited for it
    /// instead of failing at once is what these tests catch.
    static let patientTimeout = Duration.seconds(30)

    /// A keyed server (one client key for tenant acme), its keys file on disk so it can be reloaded.
    struct KeyedServer {
        let harness: ServerHarness
        let path: String
        var file: KeysFile
        let key: String
        let keyID: String

        init() throws {
            var file = KeysFile()
            let created = try file.createKey(tenant: "acme", role: .client)
            path = FileManager.default.temporaryDirectory.appendingPathComponent("jobwire-keys-\(UUID().uuidString)").path
            try file.save(path: path)
            self.file = file
            key = created.key
            keyID = created.entry.id
            let (ring, keysPath) = (KeyRing(file), path)
            harness = ServerHarness {
                $0.security.keys = ring
                $0.security.keysFile = keysPath
            }
            try harness.start()
        }

        func client(key: String?) -> JobWireClient {
            harness.client { $0.apiKey = key; $0.defaultTimeout = ClientErrorTests.patientTimeout }
        }

        mutating func revokeKey() throws {
            try file.revoke(id: keyID)
            try file.save(path: path)
            _ = try harness.server?.reloadKeys()
        }
    }

    /// The error `body` throws, and how long it took to throw it.
    static func failure(_ body: () async throws -> Void) async -> (error: JobWireError?, elapsed: Duration) {
        let started = ContinuousClock.now
        do {
            try await body()
            return (nil, ContinuousClock.now - started)
        } catch {
            return (error as? JobWireError, ContinuousClock.now - started)
        }
    }

    @Test("no key, or an unknown key, against a keyed server: UNAUTHENTICATED at once, for every waiting call and the next")
    func missingKey() async throws {
        let server = try KeyedServer()
        defer { try? FileManager.default.removeItem(atPath: server.path) }
        for key in [nil, "jw_0123456789abcdef_0123456789abcdef0123456789abcdef"] as [String?] {
            let client = server.client(key: key)
            // Three calls wait for the one connect attempt; the refusal reaches each.
            let outcomes = await withTaskGroup(of: (JobWireError?, Duration).self) { group in
                for _ in 0..<3 { group.addTask { await Self.failure { _ = try await client.health() } } }
                return await group.reduce(into: []) { $0.append($1) }
            }
            for (error, elapsed) in outcomes {
                #expect(error?.code == .unauthenticated && error?.reason == Reason.invalidAPIKey, "\(String(describing: error))")
                #expect(elapsed < Self.patientTimeout / 2, "the call waited for its deadline: \(elapsed)")
            }
            let next = await Self.failure { _ = try await client.configure(Job(type: "t")) }
            #expect(next.error?.code == .unauthenticated && next.elapsed < Self.patientTimeout / 2)
            #expect(next.error?.message.isEmpty == false)
            await client.close()
        }
        // The right key still works on the same server.
        #expect(try await server.client(key: server.key).health().status == .serving)
    }

    @Test("a key revoked on a live connection fails the open watch and every later call with UNAUTHENTICATED")
    func revokedKey() async throws {
        var server = try KeyedServer()
        defer { try? FileManager.default.removeItem(atPath: server.path) }
        let client = server.client(key: server.key)
        let job = try await client.configure(Job(type: "t")).job
        var events = client.watch(job.jobID).makeAsyncIterator()
        #expect(try await events.next()?.kind == .snapshot)
        try server.revokeKey()
        let watchEnd = await Self.failure { while try await events.next() != nil {} }
        #expect(watchEnd.error?.code == .unauthenticated && watchEnd.error?.reason == Reason.invalidAPIKey)
        #expect(watchEnd.elapsed < Self.patientTimeout / 2)
        let next = await Self.failure { _ = try await client.metadata(for: job.jobID) }
        #expect(next.error?.code == .unauthenticated && next.error?.reason == Reason.invalidAPIKey)
        #expect(next.elapsed < Self.patientTimeout / 2)
    }

    @Test("handshake refusals another attempt would not change fail at once, after one connection",
          arguments: [
              Status(code: .unauthenticated, reason: Reason.invalidAPIKey, message: "the API key is unknown or revoked"),
              Status(code: .permissionDenied, reason: Reason.permissionDenied, message: "not from this address"),
              Status(code: .failedPrecondition, reason: Reason.unsupportedProtocolVersion,
                     message: "this server speaks protocol version 2, not 1"),
              Status(code: .resourceExhausted, reason: Reason.tooManyConnections, message: "the server has its maximum"),
          ])
    func finalRefusals(status: Status) async throws {
        let server = try ScriptedServer(.refuseHello(status))
        let client = JobWireClient(configuration: .init(host: "127.0.0.1", port: server.port,
                                                        defaultTimeout: Self.patientTimeout))
        let (error, elapsed) = await Self.failure { _ = try await client.health() }
        #expect(error?.code == status.code && error?.reason == status.reason && error?.message == status.message)
        #expect(elapsed < Self.patientTimeout / 2)
        #expect(server.acceptedConnections == 1)
    }

    @Test("a server that is draining is transient: the call retries with backoff until its deadline")
    func transientRefusal() async throws {
        let server = try ScriptedServer(.refuseHello(Status(code: .unavailable, reason: Reason.serverShuttingDown,
                                                            message: "the server is shutting down")))
        var configuration = JobWireClient.Configuration(host: "127.0.0.1", port: server.port,
                                                        defaultTimeout: .milliseconds(800))
        configuration.backoff = .init(initial: .milliseconds(50), multiplier: 1.6, jitter: 0.2, maximum: .milliseconds(200))
        let client = JobWireClient(configuration: configuration)
        let (error, elapsed) = await Self.failure { _ = try await client.health() }
        #expect(error?.code == .deadlineExceeded && error?.reason == Reason.connectFailed)
        #expect(error?.message.contains("the server is shutting down") == true)
        #expect(elapsed >= .milliseconds(800))
        #expect(server.acceptedConnections >= 2, "the client tried more than once")
    }

    @Test("a call a draining server refused unprocessed is sent again, with backoff, while its deadline leaves room")
    func unprocessedCallsAreRetried() async throws {
        let status = Status(code: .unavailable, reason: Reason.serverShuttingDown, message: "the server is shutting down")
        let server = try ScriptedServer(.endEveryCall(status))
        var configuration = JobWireClient.Configuration(host: "127.0.0.1", port: server.port,
                                                        defaultTimeout: .milliseconds(800))
        configuration.backoff = .init(initial: .milliseconds(50), multiplier: 1.6, jitter: 0.2, maximum: .milliseconds(200))
        let client = JobWireClient(configuration: configuration)
        // Even UpdateJob, which is never repeated after a lost connection: the server said it did not process it.
        let (error, _) = await Self.failure { _ = try await client.update(UpdateJobRequest(
            jobID: "00000000-0000-4000-8000-000000000000", progress: 1)) }
        // When the next wait no longer fits, the caller gets the server's last answer.
        #expect(error?.code == status.code && error?.reason == status.reason && error?.message == status.message)
        // Sent again, but spaced by the backoff (50 ms and up), not in a busy loop.
        #expect(server.receivedCalls >= 3 && server.receivedCalls <= 20, "\(server.receivedCalls) calls")
    }
}
