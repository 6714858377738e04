import Foundation
import JobWireKeys
import JobWireProtocol
@testable import JobWireServer
import JobWireTestSupport
import Testing

/// Keys, roles, tenant isolation and limits, end to end over loopback.
@Suite("Security: keys, roles, tenants, limits", .ownThread)
struct SecurityTests {
    /// A keys file with one key per role for tenant `acme`, and a worker key for `globex`.
    struct Keyring {
        var file = KeysFile()
        var keys: [String: String] = [:]

        init() throws {
            for role in Role.allCases {
                keys["acme-\(role.rawValue)"] = try file.createKey(tenant: "acme", role: role).key
            }
            let globex = try file.createKey(tenant: "globex", role: .worker)
            keys["globex-worker"] = globex.key
            globexKeyID = globex.entry.id
        }

        /// The id of globex's key, which acme's Usage must never list.
        var globexKeyID = ""

        subscript(_ name: String) -> String { keys[name] ?? "" }
    }

    static func server(_ keyring: Keyring, _ configure: (inout ServerConfiguration) -> Void = { _ in }) throws -> TestServer {
        try TestServer {
            $0.security.keys = KeyRing(keyring.file)
            configure(&$0)
        }
    }

    // MARK: The matrix

    enum Target: String, CaseIterable {
        case own, other, unknown
    }

    /// Expected outcome of every role × RPC × target, written out so that any
    /// change to a cell fails the test. OK = the call succeeds; PD =
    /// PERMISSION_DENIED / PERMISSION_DENIED; NF = NOT_FOUND / JOB_NOT_FOUND
    /// (for BatchGetMetadata: the call succeeds and the one result is NF).
    /// Columns: own job / another tenant's job / an unknown id. The webhook
    /// methods (``webhookCells(_:)``) are admitted by role first; this server
    /// sends no webhooks, so an admitted call answers WEBHOOKS_OFF.
    static let expected: [Role: [Method: [String]]] = [
        .reader: [
            .configure: ["PD", "PD", "PD"], .getMetadata: ["OK", "NF", "NF"], .batchGetMetadata: ["OK", "NF", "NF"],
            .listJobs: ["OK", "OK", "OK"], .watchJob: ["OK", "NF", "NF"], .cancel: ["PD", "PD", "PD"],
            .updateJob: ["PD", "PD", "PD"], .deleteJob: ["PD", "PD", "PD"], .health: ["OK", "OK", "OK"],
            .stats: ["OK", "OK", "OK"], .retry: ["PD", "PD", "PD"], .setPriority: ["PD", "PD", "PD"],
            .usage: ["OK", "OK", "OK"], .watchJobs: ["OK", "OK", "OK"],
        ].merging(webhookCells(.reader)) { _, webhook in webhook },
        .client: [
            .configure: ["OK", "OK", "OK"], .getMetadata: ["OK", "NF", "NF"], .batchGetMetadata: ["OK", "NF", "NF"],
            .listJobs: ["OK", "OK", "OK"], .watchJob: ["OK", "NF", "NF"], .cancel: ["OK", "NF", "NF"],
            .updateJob: ["PD", "PD", "PD"], .deleteJob: ["OK", "NF", "NF"], .health: ["OK", "OK", "OK"],
            .stats: ["OK", "OK", "OK"], .retry: ["FAILED_PRECONDITION/NOT_RETRYABLE", "NF", "NF"], .setPriority: ["OK", "NF", "NF"],
            .usage: ["OK", "OK", "OK"], .watchJobs: ["OK", "OK", "OK"],
        ].merging(webhookCells(.client)) { _, webhook in webhook },
        .worker: [
            .configure: ["OK", "OK", "OK"], .getMetadata: ["OK", "NF", "NF"], .batchGetMetadata: ["OK", "NF", "NF"],
            .listJobs: ["OK", "OK", "OK"], .watchJob: ["OK", "NF", "NF"], .cancel: ["OK", "NF", "NF"],
            .updateJob: ["OK", "NF", "NF"], .deleteJob: ["OK", "NF", "NF"], .health: ["OK", "OK", "OK"],
            .stats: ["OK", "OK", "OK"], .retry: ["FAILED_PRECONDITION/NOT_RETRYABLE", "NF", "NF"], .setPriority: ["OK", "NF", "NF"],
            .usage: ["OK", "OK", "OK"], .watchJobs: ["OK", "OK", "OK"],
        ].merging(webhookCells(.worker)) { _, webhook in webhook },
        .admin: [
            .configure: ["OK", "OK", "OK"], .getMetadata: ["OK", "NF", "NF"], .batchGetMetadata: ["OK", "NF", "NF"],
            .listJobs: ["OK", "OK", "OK"], .watchJob: ["OK", "NF", "NF"], .cancel: ["OK", "NF", "NF"],
            .updateJob: ["OK", "NF", "NF"], .deleteJob: ["OK", "NF", "NF"], .health: ["OK", "OK", "OK"],
            .stats: ["OK", "OK", "OK"], .retry: ["FAILED_PRECONDITION/NOT_RETRYABLE", "NF", "NF"], .setPriority: ["OK", "NF", "NF"],
            .usage: ["OK", "OK", "OK"], .watchJobs: ["OK", "OK", "OK"],
        ].merging(webhookCells(.admin)) { _, webhook in webhook },
    ]

    /// Reading webhook endpoints needs a reader key, changing them a client key.
    static func webhookCells(_ role: Role) -> [Method: [String]] {
        let off = ["UNIMPLEMENTED/WEBHOOKS_OFF", "UNIMPLEMENTED/WEBHOOKS_OFF", "UNIMPLEMENTED/WEBHOOKS_OFF"]
        return [.listWebhooks: off, .getWebhook: off, .listWebhookDeliveries: off,
                .createWebhook: role == .reader ? ["PD", "PD", "PD"] : off,
                .deleteWebhook: role == .reader ? ["PD", "PD", "PD"] : off,
                .rotateWebhookSecret: role == .reader ? ["PD", "PD", "PD"] : off,
                .redeliverWebhook: role == .reader ? ["PD", "PD", "PD"] : off]
    }

    @Test("every role × every RPC × own / other tenant's / unknown job answers exactly as documented")
    func matrix() throws {
        let keyring = try Keyring()
        let server = try Self.server(keyring)
        let acmeWorker = try server.client(apiKey: keyring["acme-worker"])
        let globex = try server.client(apiKey: keyring["globex-worker"])
        let globexJob = try globex.unary(.configure, ConfigureRequest(job: Job(type: "secret")), as: ConfigureResponse.self).job
        let unknownID = "00000000-0000-4000-8000-000000000000"

        for role in Role.allCases {
            let client = try server.client(apiKey: keyring["acme-\(role.rawValue)"])
            for method in Method.allCases {
                for (column, target) in Target.allCases.enumerated() {
                    // A fresh own job per cell: cells that change or delete it stay independent.
                    let ownJob = try acmeWorker.unary(.configure, ConfigureRequest(job: Job(type: "mine")), as: ConfigureResponse.self).job
                    let jobID = switch target {
                    case .own: ownJob.jobID
                    case .other: globexJob.jobID
                    case .unknown: unknownID
                    }
                    let outcome = try Self.outcome(of: method, jobID: jobID, on: client)
                    let expected = Self.expected[role]?[method]?[column] ?? "missing"
                    #expect(outcome.cell == expected, "\(role) \(method.shortName) on \(target): got \(outcome.detail)")
                    if outcome.cell == "OK" {
                        try Self.checkIsolation(method, outcome, globexJob: globexJob, ownJob: ownJob,
                                                globexKeyID: keyring.globexKeyID)
                    }
                }
            }
        }
        // The other tenant's job was never touched.
        let after = try globex.unary(.getMetadata, GetMetadataRequest(jobID: globexJob.jobID), as: Job.self)
        #expect(after == globexJob)
    }

    struct Outcome {
        var cell: String
        var detail: String
        var replies: [[UInt8]]
    }

    static func outcome(of method: Method, jobID: String, on client: TestClient) throws -> Outcome {
        let request: any WireMessage = switch method {
        case .configure: ConfigureRequest(job: Job(type: "new"))
        case .getMetadata: GetMetadataRequest(jobID: jobID)
        case .batchGetMetadata: BatchGetMetadataRequest(jobIDs: [jobID])
        case .listJobs: ListJobsRequest()
        case .watchJob: WatchJobRequest(jobID: jobID)
        case .cancel: CancelRequest(jobID: jobID)
        case .updateJob: UpdateJobRequest(jobID: jobID, status: .running)
        case .deleteJob: DeleteJobRequest(jobID: jobID)
        case .health: HealthRequest()
        case .stats: StatsRequest()
        case .retry: RetryRequest(jobID: jobID)
        case .setPriority: SetPriorityRequest(jobID: jobID, priority: 9)
        case .usage: UsageRequest()
        case .watchJobs: WatchJobsRequest(filter: ListJobsRequest(pageSize: 500))
        case .createWebhook: CreateWebhookRequest(url: "https://hooks.example.com/jobwire")
        case .listWebhooks: ListWebhooksRequest()
        case .getWebhook: GetWebhookRequest(endpointID: jobID)
        case .deleteWebhook: DeleteWebhookRequest(endpointID: jobID)
        case .rotateWebhookSecret: RotateWebhookSecretRequest(endpointID: jobID)
        case .listWebhookDeliveries: ListWebhookDeliveriesRequest(endpointID: jobID)
        case .redeliverWebhook: RedeliverWebhookRequest(messageID: jobID)
        }
        let result: TestClient.CallResult
        if method.isServerStreaming {
            // A watch of a live job stays open: its first frame decides, then it is cancelled.
            let stream = try client.start(method, request)
            switch try client.nextOnStream(stream) {
            case .reply(let reply):
                // The server sends nothing more on a cancelled stream, so there is no End to wait for;
                // it handles the cancel before the client's next call.
                try client.send(.cancelCall(CancelCall(streamID: stream)))
                result = TestClient.CallResult(replies: [reply.message], status: Status(code: .ok))
            case .end(let end):
                result = TestClient.CallResult(replies: [], status: end.status)
            default:
                throw TestClient.Failure(description: "unexpected frame on a watch")
            }
        } else {
            result = try client.call(method, request)
        }
        var status = result.status
        if method == .batchGetMetadata, status.isOK, let only = result.replies.first {
            let response = try BatchGetMetadataResponse(decoding: only)
            if case .error(let itemStatus)? = response.results.first?.outcome { status = itemStatus }
        }
        let cell = switch (status.code, status.reason) {
        case (.ok, _): "OK"
        case (.permissionDenied, Reason.permissionDenied): "PD"
        case (.notFound, Reason.jobNotFound): "NF"
        default: "\(status.code.name)/\(status.reason)"
        }
        return Outcome(cell: cell, detail: "\(status)", replies: result.replies)
    }

    /// Calls that succeed never show the other tenant's jobs or counts.
    static func checkIsolation(_ method: Method, _ outcome: Outcome, globexJob: Job, ownJob: Job, globexKeyID: String) throws {
        guard let reply = outcome.replies.first else { return }
        switch method {
        case .listJobs:
            let page = try ListJobsResponse(decoding: reply)
            #expect(!page.jobs.contains { $0.jobID == globexJob.jobID } && page.jobs.allSatisfy { $0.tenant == "acme" })
            #expect(page.jobs.contains { $0.jobID == ownJob.jobID })
        case .configure:
            #expect(try ConfigureResponse(decoding: reply).job.tenant == "acme")
        case .stats:
            let stats = try StatsResponse(decoding: reply)
            let counted = stats.jobs.reduce(0) { $0 + $1.count }
            #expect(counted > 0, "acme has jobs")
            #expect(!stats.jobs.contains { $0.status == .pending && $0.count == 0 })
            #expect(stats.totalJobs == counted)
        case .usage:
            let usage = try UsageResponse(decoding: reply)
            #expect(usage.tenant == "acme" && !usage.keys.isEmpty)
            #expect(!usage.keys.contains { $0.keyID == globexKeyID })
        case .setPriority:
            #expect(try Job(decoding: reply).priority == 9)
        case .watchJobs:
            let event = try JobsEvent(decoding: reply)
            #expect(event.type == .snapshot && event.jobs.contains { $0.jobID == ownJob.jobID })
            #expect(event.jobs.allSatisfy { $0.tenant == "acme" } && !event.jobs.contains { $0.jobID == globexJob.jobID })
        default:
            break
        }
    }

    @Test("only admin keys may act for another tenant, and then see exactly that tenant")
    func adminNamesTenant() throws {
        let keyring = try Keyring()
        let server = try Self.server(keyring)
        let globex = try server.client(apiKey: keyring["globex-worker"])
        let globexJob = try globex.unary(.configure, ConfigureRequest(job: Job(type: "secret")), as: ConfigureResponse.self).job
        let admin = try server.client(apiKey: keyring["acme-admin"])
        let seen = try admin.call(.getMetadata, GetMetadataRequest(jobID: globexJob.jobID), tenant: "globex").only(Job.self)
        #expect(seen == globexJob)
        let stats = try admin.call(.stats, StatsRequest(tenant: "globex")).only(StatsResponse.self)
        #expect(stats.jobs == [StatusCount(status: .pending, count: 1)])
        for role in [Role.reader, .client, .worker] {
            let client = try server.client(apiKey: keyring["acme-\(role.rawValue)"])
            let status = try client.call(.getMetadata, GetMetadataRequest(jobID: globexJob.jobID), tenant: "globex").status
            #expect(status.code == .permissionDenied && status.reason == Reason.permissionDenied, "\(role)")
            // Naming its own tenant is allowed.
            #expect(try client.call(.health, HealthRequest(), tenant: "acme").status.isOK)
        }
    }

    // MARK: Keys

    @Test("a missing, wrong or malformed key is refused with UNAUTHENTICATED and the connection closes")
    func badKeys() throws {
        let keyring = try Keyring()
        let server = try Self.server(keyring)
        let real = keyring["acme-reader"]
        let wrongSecret = String(real.dropLast()) + (real.hasSuffix("0") ? "1" : "0")
        for key in ["", wrongSecret, "jwk_not-a-key", real + "x", String(repeating: "a", count: 1000)] {
            let client = try TestClient(port: server.port)
            #expect(throws: TestClient.Failure.self) { try client.hello(apiKey: key) }
            #expect(client.goAway?.status.code == .unauthenticated && client.goAway?.status.reason == Reason.invalidAPIKey)
            #expect(try client.waitForClose())
        }
        let ack = try TestClient(port: server.port).hello(apiKey: real)
        #expect(ack.tenant == "acme" && ack.role == "reader")
    }

    @Test("reloading the keys file closes a revoked key's connections, keeps the others, admits new keys")
    func reload() throws {
        let keyring = try Keyring()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("jobwire-keys-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var file = keyring.file
        try file.save(path: path)
        let server = try TestServer {
            $0.security.keys = KeyRing(file)
            $0.security.keysFile = path
        }
        let revoked = try server.client(apiKey: keyring["acme-worker"])
        let kept = try server.client(apiKey: keyring["acme-reader"])
        let watchedJob = try revoked.unary(.configure, ConfigureRequest(job: Job(type: "t")), as: ConfigureResponse.self).job

        let revokedID = try #require(APIKey.id(of: keyring["acme-worker"]))
        try file.revoke(id: revokedID)
        let added = try file.createKey(tenant: "acme", role: .client).key
        try file.save(path: path)
        #expect(try server.server.reloadKeys() == 5)

        #expect(try revoked.waitForClose())
        #expect(revoked.goAway?.status.code == .unauthenticated && revoked.goAway?.status.reason == Reason.invalidAPIKey)
        #expect(try kept.unary(.getMetadata, GetMetadataRequest(jobID: watchedJob.jobID), as: Job.self).jobID == watchedJob.jobID)
        #expect(try TestClient(port: server.port).hello(apiKey: added).role == "client")
        #expect(throws: TestClient.Failure.self) { try TestClient(port: server.port).hello(apiKey: keyring["acme-worker"]) }

        // A broken file is not applied: the keys in force stay.
        try "not a keys file\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o600)
        #expect(throws: JobWireError.self) { try server.server.reloadKeys() }
        #expect(try TestClient(port: server.port).hello(apiKey: added).role == "client")
    }

    // MARK: Limits

    @Test("a key's rate limit admits the configured rate (within 10 %) and says when to retry")
    func rateLimitAccuracy() throws {
        let keyring = try Keyring()
        let rate = 100.0
        // A burst of 0.2 s of tokens: a token bucket admits at most burst + rate × t, and a
        // client thread descheduled for less than 0.2 s (both cores busy with other tests)
        // loses no tokens, so the count measures the limiter, not the scheduler.
        let burst = 20.0
        let server = try Self.server(keyring) { $0.security.keyRate = RateLimit(perSecond: rate, burst: burst) }
        let client = try server.client(apiKey: keyring["acme-reader"])
        let window = 2.0
        let start = Date()
        var admitted = 0
        var limited = 0
        // Ten calls in flight at a time, so the offered rate stays far above the limit
        // even when other tests keep both cores busy.
        while Date().timeIntervalSince(start) < window {
            let streams = try (0..<10).map { _ in try client.start(.health, HealthRequest()) }
            for stream in streams {
                let status = try client.collect(stream).status
                if status.isOK {
                    admitted += 1
                } else {
                    #expect(status.code == .resourceExhausted && status.reason == Reason.rateLimited)
                    #expect(status.retryAfterMs >= 1 && status.retryAfterMs <= 10, "at 100/s a token is at most 10 ms away")
                    limited += 1
                }
            }
        }
        let expected = rate * window
        #expect(Double(admitted) >= expected * 0.9 && Double(admitted) <= expected * 1.1 + burst,
                "admitted \(admitted) in \(window) s at \(rate)/s with a burst of \(burst)")
        #expect(limited > 0, "the client asked faster than the rate")
        // Another key of the same tenant has its own bucket (no tenant limit set).
        #expect(try server.client(apiKey: keyring["acme-client"]).call(.health, HealthRequest()).status.isOK)
    }

    @Test("a tenant's rate limit is shared by all its keys")
    func tenantRateLimit() throws {
        let keyring = try Keyring()
        let server = try Self.server(keyring) { $0.security.tenantRate = RateLimit(perSecond: 1, burst: 2) }
        let reader = try server.client(apiKey: keyring["acme-reader"])
        let client = try server.client(apiKey: keyring["acme-client"])
        #expect(try reader.call(.health, HealthRequest()).status.isOK)
        #expect(try client.call(.health, HealthRequest()).status.isOK)
        let third = try reader.call(.health, HealthRequest()).status
        #expect(third.reason == Reason.rateLimited && third.retryAfterMs > 0)
        // Another tenant is not affected.
        #expect(try server.client(apiKey: keyring["globex-worker"]).call(.health, HealthRequest()).status.isOK)
    }

    @Test("jobs and watches per tenant are limited; other tenants are not affected")
    func tenantLimits() throws {
        let keyring = try Keyring()
        let server = try Self.server(keyring) {
            $0.registry.maxJobsPerTenant = 2
            $0.registry.maxWatchesPerTenant = 1
        }
        let acme = try server.client(apiKey: keyring["acme-worker"])
        let first = try acme.unary(.configure, ConfigureRequest(job: Job(type: "t")), as: ConfigureResponse.self).job
        _ = try acme.unary(.configure, ConfigureRequest(job: Job(type: "t")), as: ConfigureResponse.self)
        let third = try acme.call(.configure, ConfigureRequest(job: Job(type: "t"))).status
        #expect(third.code == .resourceExhausted && third.reason == Reason.tooManyJobs)
        let globex = try server.client(apiKey: keyring["globex-worker"])
        #expect(try globex.call(.configure, ConfigureRequest(job: Job(type: "t"))).status.isOK)
        _ = try acme.unary(.deleteJob, DeleteJobRequest(jobID: first.jobID), as: DeleteJobResponse.self)
        let replacement = try acme.unary(.configure, ConfigureRequest(job: Job(type: "t")), as: ConfigureResponse.self).job

        let watch = try acme.start(.watchJob, WatchJobRequest(jobID: replacement.jobID))
        guard case .reply = try acme.nextOnStream(watch) else { Issue.record("no snapshot"); return }
        let second = try acme.call(.watchJob, WatchJobRequest(jobID: replacement.jobID)).status
        #expect(second.code == .resourceExhausted && second.reason == Reason.tooManyWatches)
        try acme.send(.cancelCall(CancelCall(streamID: watch)))
        #expect(try eventually {
            let again = try acme.start(.watchJob, WatchJobRequest(jobID: replacement.jobID))
            guard case .reply = try acme.nextOnStream(again) else { return false }
            try acme.send(.cancelCall(CancelCall(streamID: again)))
            return true
        })
    }

    @Test("connections per client address are limited; a freed slot is usable again")
    func perAddressLimit() throws {
        let server = try TestServer { $0.security.maxConnectionsPerAddress = 3 }
        var clients = try (0..<3).map { _ in try server.client() }
        let refused = try TestClient(port: server.port)
        #expect(try refused.waitForClose())
        #expect(refused.goAway?.status.code == .resourceExhausted && refused.goAway?.status.reason == Reason.tooManyConnections)
        clients.removeLast()
        #expect(eventually { (try? server.client()) != nil })
        #expect(try clients[0].call(.health, HealthRequest()).status.isOK)
    }

    @Test("a client trickling its Hello a byte at a time is dropped at the handshake timeout; others are served")
    func slowHandshake() throws {
        let server = try TestServer { $0.handshakeTimeoutMs = 400 }
        let slow = try TestClient(port: server.port)
        let hello = try FrameEncoder.encode(.hello(Hello(clientName: String(repeating: "s", count: 40))))
        let normal = try server.client()
        let start = Date()
        var sent = 0
        while sent < hello.count, Date().timeIntervalSince(start) < 2 {
            guard (try? slow.sendRaw([hello[sent]])) != nil else { break }
            sent += 1
            #expect(try normal.call(.health, HealthRequest()).status.isOK)
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(sent < hello.count, "the server closed the connection before the Hello was complete")
        #expect(try slow.waitForClose())
        #expect(slow.goAway?.status.reason == Reason.handshakeTimeout)
        #expect(Date().timeIntervalSince(start) < 1.5)
    }
}

/// The keys file format and key handling, without a server.
@Suite("API keys", .ownThread)
struct APIKeyTests {
    @Test("keys are 256-bit, shaped as documented, and only their hash is stored")
    func keyShape() throws {
        var file = KeysFile()
        let (key, entry) = try file.createKey(tenant: "acme", role: .worker)
        #expect(key.hasPrefix("jwk_") && key.utf8.count == 4 + 16 + 1 + 64)
        #expect(APIKey.id(of: key) == entry.id)
        #expect(!file.text.contains(key) && !file.text.contains(String(key.suffix(64))))
        #expect(KeyRing(file).authenticate(key) == entry)
        #expect(KeyRing(file).authenticate(String(key.dropLast()) + "g") == nil)
        let (other, _) = try file.createKey(tenant: "acme", role: .worker)
        #expect(other != key)
    }

    @Test("the file round-trips, and every malformed line is named")
    func fileFormat() throws {
        var file = KeysFile()
        _ = try file.createKey(tenant: "acme", role: .reader)
        _ = try file.createKey(tenant: "globex.prod", role: .admin)
        #expect(try KeysFile(parsing: file.text) == file)
        let hash = String(repeating: "ab", count: 32)
        let bad = [
            "0123456789abcdef acme reader \(hash)",
            "0123456789abcdeX acme reader \(hash) 2026-01-01T00:00:00Z",
            "0123456789abcdef ac/me reader \(hash) 2026-01-01T00:00:00Z",
            "0123456789abcdef acme owner \(hash) 2026-01-01T00:00:00Z",
            "0123456789abcdef acme reader abcd 2026-01-01T00:00:00Z",
            "0123456789abcdef acme reader \(hash) 2026-01-01T00:00:00Z\n0123456789abcdef acme admin \(hash) x",
        ]
        for text in bad {
            #expect(throws: JobWireError.self) { try KeysFile(parsing: "# comment\n\n" + text) }
        }
        do {
            _ = try KeysFile(parsing: "# c\n" + bad[3], path: "keys")
        } catch {
            #expect(error.reason == "KEYS_FILE_INVALID" && error.message.contains("keys line 2"))
        }
        #expect(throws: JobWireError.self) { try file.createKey(tenant: "has space", role: .reader) }
        #expect(throws: JobWireError.self) { try file.revoke(id: "ffffffffffffffff") }
    }

    @Test("roles include the ones before them")
    func roles() {
        #expect(Role.allCases.map { role in Method.allCases.filter(role.allows).count } == [11, 20, 21, 21])
        // Each role may call everything the one before it may.
        for (lower, higher) in zip(Role.allCases, Role.allCases.dropFirst()) {
            #expect(Method.allCases.filter(lower.allows).allSatisfy(higher.allows), "\(higher) includes \(lower)")
        }
    }
}
