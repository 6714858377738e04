import JobWireKeys
import JobWireProtocol
@testable import JobWireServer
import JobWireTestSupport
import Testing

/// The job service with no transport at all: what any front end (the binary
/// port, HTTP, webhooks) gets when it authenticates, admits and calls.
@Suite("Job service, without a transport", .ownThread)
struct JobServiceTests {
    struct Keys {
        var file = KeysFile()
        var client = ""
        var reader = ""
        var admin = ""

        init() throws {
            client = try file.createKey(tenant: "acme", role: .client).key
            reader = try file.createKey(tenant: "acme", role: .reader).key
            admin = try file.createKey(tenant: "ops", role: .admin).key
        }
    }

    static func service(_ security: SecurityConfiguration = SecurityConfiguration()) throws -> JobService {
        let store = InMemoryJobStore()
        return JobService(registry: try JobRegistry(configuration: RegistryConfiguration(), store: store), store: store,
                          security: security)
    }

    /// Runs a write and waits for its completion.
    static func written<Message: WireMessage>(
        _ start: (@escaping JobService.Completion<Message>) throws(JobWireError) -> Void
    ) async throws -> Encoded<Message> {
        let (results, continuation) = AsyncStream<Result<Encoded<Message>, JobWireError>>.makeStream()
        try start { continuation.yield($0) }
        for await result in results { return try result.get() }
        throw JobWireError(.internal, "TEST", "no completion")
    }

    @Test("development mode: any key is the development principal, admitted to everything")
    func developmentMode() throws {
        let service = try Self.service()
        let principal = try service.authenticate(apiKey: "")
        #expect(principal == .development)
        let caller = try service.admit(principal, to: .deleteJob, tenant: "")
        #expect(caller.tenant == "default")
    }

    @Test("keys: missing and unknown keys are UNAUTHENTICATED; a role that may not call a method is PERMISSION_DENIED; only admins act for another tenant")
    func admission() throws {
        let keys = try Keys()
        var security = SecurityConfiguration()
        security.keys = KeyRing(keys.file)
        let service = try Self.service(security)

        // The client key with its last character changed (to another one: a key may end in "0").
        let altered = keys.client.dropLast() + (keys.client.hasSuffix("0") ? "1" : "0")
        for (key, message) in [("", "requires an API key"), (altered, "unknown or revoked")] {
            let error = #expect(throws: JobWireError.self) { try service.authenticate(apiKey: String(key)) }
            #expect(error?.code == .unauthenticated && error?.reason == Reason.invalidAPIKey)
            #expect(error?.message.contains(message) == true)
        }

        let reader = try service.authenticate(apiKey: keys.reader)
        #expect(reader.tenant == "acme" && reader.role == .reader)
        let denied = #expect(throws: JobWireError.self) { try service.admit(reader, to: .configure, tenant: "") }
        #expect(denied?.code == .permissionDenied && denied?.message == "role reader may not call Configure")
        #expect(try service.admit(reader, to: .getMetadata, tenant: "").tenant == "acme")

        let client = try service.authenticate(apiKey: keys.client)
        let otherTenant = #expect(throws: JobWireError.self) { try service.admit(client, to: .listJobs, tenant: "globex") }
        #expect(otherTenant?.code == .permissionDenied && otherTenant?.message == "only admin keys may act for another tenant")

        let admin = try service.authenticate(apiKey: keys.admin)
        #expect(try service.admit(admin, to: .listJobs, tenant: "acme").tenant == "acme")
    }

    @Test("rate limits refuse with RATE_LIMITED and how long to wait, before anything is done")
    func rateLimits() throws {
        let keys = try Keys()
        var security = SecurityConfiguration()
        security.keys = KeyRing(keys.file)
        security.keyRate = RateLimit(perSecond: 1, burst: 2)
        let service = try Self.service(security)
        let client = try service.authenticate(apiKey: keys.client)
        _ = try service.admit(client, to: .listJobs, tenant: "")
        _ = try service.admit(client, to: .listJobs, tenant: "")
        let limited = #expect(throws: JobWireError.self) { try service.admit(client, to: .listJobs, tenant: "") }
        #expect(limited?.code == .resourceExhausted && limited?.reason == Reason.rateLimited)
        #expect((limited?.status.retryAfterMs ?? 0) > 0 && (limited?.status.retryAfterMs ?? .max) <= 1_000)
    }

    @Test("a job written through the service reads back, as values and as the same cached bytes, only in its tenant")
    func writesAndReads() async throws {
        let keys = try Keys()
        var security = SecurityConfiguration()
        security.keys = KeyRing(keys.file)
        let service = try Self.service(security)
        let caller = try service.admit(try service.authenticate(apiKey: keys.client), to: .configure, tenant: "")

        let created = try await Self.written { (done) throws(JobWireError) in
            try service.configure(ConfigureRequest(job: streamJob(type: "transcode")), caller: caller, completion: done)
        }.decoded()
        #expect(created.created && created.job.tenant == "acme" && created.job.status == .pending)

        let read = try service.getMetadata(GetMetadataRequest(jobID: created.job.jobID), caller: caller)
        #expect(try read.decoded() == created.job)
        #expect(read == Encoded(created.job), "the reply is the job's one encoding at its revision")

        let cancelled = try await Self.written { (done) throws(JobWireError) in
            try service.cancel(CancelRequest(jobID: created.job.jobID, reason: "test"), caller: caller, completion: done)
        }.decoded()
        #expect(cancelled.status == .cancelled && cancelled.revision == created.job.revision + 1)

        let admin = try service.authenticate(apiKey: keys.admin)
        let ops = try service.admit(admin, to: .getMetadata, tenant: "")
        let hidden = #expect(throws: JobWireError.self) {
            try service.getMetadata(GetMetadataRequest(jobID: created.job.jobID), caller: ops)
        }
        #expect(hidden?.code == .notFound && hidden?.reason == Reason.jobNotFound)

        let stats = try service.stats(StatsRequest(tenant: "acme"), caller: try service.admit(admin, to: .stats, tenant: ""))
        #expect(stats.jobs.first { $0.status == .cancelled }?.count == 1)
    }

    @Test("health says draining for the server's shutdown or the session's own")
    func health() throws {
        let service = try Self.service()
        let caller = try service.admit(.development, to: .health, tenant: "")
        #expect(service.health(HealthRequest(), caller: caller).status == .serving)
        #expect(service.health(HealthRequest(), caller: caller, sessionDraining: true).status == .draining)
        service.draining.store(true, ordering: .relaxed)
        #expect(service.health(HealthRequest(), caller: caller).status == .draining)
    }
}
