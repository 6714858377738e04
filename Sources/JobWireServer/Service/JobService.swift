import JobWireKeys
import JobWireProtocol
import JobWireSync
import Synchronization

/// The job service: every rule of JobWire that is not about a transport.
///
/// A front end (the binary protocol's ``Connection``, the HTTP/JSON and SSE
/// front end) authenticates a session once with
/// ``authenticate(apiKey:)``, admits each call with
/// ``admit(_:to:tenant:)`` (role, tenant, rate limits), decodes the request
/// into the protocol's request type, and calls the operation; it encodes what
/// comes back for its transport and nothing else. No front end repeats one
/// of these rules, and the service knows nothing of sockets, frames or HTTP.
///
/// Results are ``Encoded`` messages: the cached protobuf encoding of each job
/// revision, spliced, so the binary front end sends them without encoding
/// anything again; a JSON front end decodes them once.
///
/// Writes answer through a completion, once the store has committed; reads
/// and watches answer at once.
public final class JobService: Sendable {
    /// How a write answers: its reply once durable, or why it failed.
    public typealias Completion<Message: WireMessage> = @Sendable (Result<Encoded<Message>, JobWireError>) -> Void

    public let registry: JobRegistry
    let store: any JobStore
    /// Counters every front end adds to: connections, open streams, calls by method and outcome.
    package let stats = ServerStats()
    /// Each key's calls, errors and bytes, for Usage; front ends record into a session's account.
    let usageLedger = UsageLedger()
    /// The components front ends and subsystems add to detailed Health.
    private let healthChecks = Locked<[@Sendable () -> ComponentHealth]>([])
    /// What front ends and subsystems add to `/metrics` (the HTTP front end's connections, webhooks).
    let metricsSources = Locked<[@Sendable (inout PrometheusText) -> Void]>([])
    /// Set when the server begins its graceful shutdown.
    package let draining = Atomic<Bool>(false)
    /// The accepted keys (nil: development mode); replaced on reload.
    private let keys: Locked<KeyRing?>
    private let rateLimiter: RateLimiter
    /// Webhook endpoints (nil: this server sends none).
    let webhookAdministration: (any WebhookAdministration)?

    init(registry: JobRegistry, store: any JobStore, security: SecurityConfiguration,
         webhooks: (any WebhookAdministration)? = nil) {
        self.registry = registry
        self.store = store
        self.webhookAdministration = webhooks
        self.keys = Locked(security.keys)
        self.rateLimiter = RateLimiter(keyRate: security.keyRate, tenantRate: security.tenantRate)
    }

    // MARK: Sessions and admission

    /// The principal an API key stands for: in development mode (no keys)
    /// everyone is ``Principal/development``; otherwise a missing, unknown or
    /// revoked key is UNAUTHENTICATED / INVALID_API_KEY.
    public func authenticate(apiKey: String, certificateFingerprint: [UInt8]? = nil) throws(JobWireError) -> Principal {
        guard let keys = keys.withLock({ $0 }) else { return .development }
        // A key, when one is presented, decides; otherwise a client certificate the keys file names (mutual TLS).
        if apiKey.isEmpty, let certificateFingerprint, let entry = keys.authenticate(certificateFingerprint: certificateFingerprint) {
            return Principal(entry)
        }
        guard let entry = keys.authenticate(apiKey) else {
            throw JobWireError(.unauthenticated, Reason.invalidAPIKey,
                               apiKey.isEmpty ? "this server requires an API key" : "the API key is unknown or revoked")
        }
        return Principal(entry)
    }

    /// Installs reloaded keys; returns them so front ends can re-check their
    /// open sessions with ``isCurrent(_:in:)``.
    func replaceKeys(_ keyRing: KeyRing) {
        keys.withLock { $0 = keyRing }
    }

    /// Whether a session's principal still holds after a reload: its key is
    /// there and grants the same tenant and role.
    func isCurrent(_ principal: Principal, in keyRing: KeyRing) -> Bool {
        guard let keyID = principal.keyID else { return true }
        guard let entry = keyRing.entry(id: keyID) else { return false }
        return Principal(entry) == principal
    }

    /// Whether a principal authenticated earlier still holds under the
    /// current keys (a front end that remembers principals, such as the HTTP
    /// front end's stream tokens, checks this on every use).
    package func isCurrent(_ principal: Principal) -> Bool {
        guard let keys = keys.withLock({ $0 }) else { return true }
        return isCurrent(principal, in: keys)
    }

    /// Admits one call: the principal's role may make it, it may act for the
    /// tenant asked for (empty: its own), and the key's and tenant's rate
    /// limits let it through. Checked before the request is decoded, so a
    /// refused call has done nothing and is always safe to retry.
    public func admit(_ principal: Principal, to method: Method, tenant requested: String) throws(JobWireError) -> Caller {
        try admit(principal, needing: Role.required(for: method), for: String(method.shortName), tenant: requested)
    }

    /// Admits a call that is not one of the job API's methods (managing
    /// webhooks) by the same rules: `role` at least, the tenant, the rate limits.
    public func admit(_ principal: Principal, needing role: Role, for action: String, tenant requested: String) throws(JobWireError) -> Caller {
        guard principal.role >= role else {
            throw JobWireError(.permissionDenied, Reason.permissionDenied,
                               "role \(principal.role.rawValue) may not call \(action)")
        }
        let tenant = requested.isEmpty ? principal.tenant : requested
        guard tenant == principal.tenant || principal.role.spansTenants else {
            throw JobWireError(.permissionDenied, Reason.permissionDenied, "only admin keys may act for another tenant")
        }
        if let limited = rateLimiter.admit(principal, tenant: tenant) {
            throw limited
        }
        return Caller(principal: principal, tenant: tenant)
    }

    /// The usage counters of `principal`'s key, for a session to record its calls and bytes into.
    package func account(for principal: Principal) -> KeyAccount {
        usageLedger.account(for: principal)
    }

    /// The tenant a request's own `tenant` field names (Stats, Usage): the
    /// caller's when empty; another only for admin keys.
    private func tenant(named requested: String, for caller: Caller) throws(JobWireError) -> String {
        guard !requested.isEmpty else { return caller.tenant }
        guard requested == caller.tenant || caller.principal.role.spansTenants else {
            throw JobWireError(.permissionDenied, Reason.permissionDenied, "only admin keys may read another tenant's figures")
        }
        return requested
    }

    // MARK: Reads

    /// GetMetadata: the job, with its last `log_tail` log lines.
    public func getMetadata(_ request: GetMetadataRequest, caller: Caller) throws(JobWireError) -> Encoded<Job> {
        Encoded(bytes: try registry.metadata(jobID: request.jobID, tenant: caller.tenant, logTail: request.logTail))
    }

    /// BatchGetMetadata: one result per id, in request order, each the job or its error.
    public func batchGetMetadata(_ request: BatchGetMetadataRequest,
                                 caller: Caller) throws(JobWireError) -> Encoded<BatchGetMetadataResponse> {
        Encoded(bytes: try registry.batchMetadata(request, tenant: caller.tenant))
    }

    /// ListJobs: newest first, filtered, paged.
    public func listJobs(_ request: ListJobsRequest, caller: Caller) throws(JobWireError) -> Encoded<ListJobsResponse> {
        Encoded(bytes: try registry.list(request, tenant: caller.tenant))
    }

    /// Adds a component to detailed Health (checked on every Health call;
    /// it must answer in microseconds). A FAILING component makes the server
    /// NOT_SERVING.
    public func addHealthCheck(_ check: @escaping @Sendable () -> ComponentHealth) {
        healthChecks.withLock { $0.append(check) }
    }

    /// Health: NOT_SERVING when the store stopped or a component fails,
    /// DRAINING during the server's shutdown (or the session's own, which
    /// only its front end knows), else SERVING; with `detailed`, each
    /// component (store, disk, then those front ends added).
    public func health(_ request: HealthRequest, caller: Caller, sessionDraining: Bool = false) -> HealthResponse {
        let components = [ComponentChecks.store(store), ComponentChecks.disk(store)]
            + healthChecks.withLock { $0 }.map { $0() }
        let status: ServingStatus
        if components.contains(where: { $0.state == .failing }) {
            status = .notServing
        } else if sessionDraining || draining.load(ordering: .relaxed) {
            status = .draining
        } else {
            status = .serving
        }
        return HealthResponse(status: status, store: store.kind, storeState: store.state,
                              serverVersion: ServerConfiguration.version, uptimeMs: stats.uptimeMs,
                              components: request.detailed ? components : [])
    }

    /// Stats: the figures of the tenant's jobs created in the range (the
    /// caller's tenant, or for admin keys any); the server-wide counters for
    /// admin keys only.
    public func stats(_ request: StatsRequest, caller: Caller) throws(JobWireError) -> StatsResponse {
        let tenant = try tenant(named: request.tenant, for: caller)
        if request.createdAfterMs != 0 && request.createdBeforeMs != 0 && request.createdAfterMs >= request.createdBeforeMs {
            throw JobWireError(.invalidArgument, Reason.valueOutOfRange,
                               "StatsRequest: created_after_ms must be before created_before_ms")
        }
        let figures = registry.statistics(tenant: tenant, createdAfterMs: request.createdAfterMs,
                                          createdBeforeMs: request.createdBeforeMs)
        var response = StatsResponse(jobs: figures.counts, uptimeMs: stats.uptimeMs, totalJobs: figures.total,
                                     successRate: figures.successRate, averageRunTimeMs: figures.averageRunTimeMs,
                                     webhooks: webhookAdministration?.outboxStats(tenant: tenant) ?? WebhookOutboxStats())
        if caller.principal.role.spansTenants {
            response.connections = UInt32(clamping: stats.connections.load(ordering: .relaxed))
            response.streams = UInt32(clamping: stats.streams.load(ordering: .relaxed))
            response.methods = stats.methodStats()
        }
        return response
    }

    /// Usage: each key of the tenant (the caller's, or for admin keys any)
    /// that connected since the server started.
    public func usage(_ request: UsageRequest, caller: Caller) throws(JobWireError) -> UsageResponse {
        let tenant = try tenant(named: request.tenant, for: caller)
        return UsageResponse(tenant: tenant, keys: usageLedger.usage(tenant: tenant))
    }

    // MARK: Writes

    /// Configure: creates the job (or, for a repeated `request_id`, answers the one it created).
    public func configure(_ request: ConfigureRequest, caller: Caller,
                          completion: @escaping Completion<ConfigureResponse>) throws(JobWireError) {
        try registry.configure(request, tenant: caller.tenant) { completion($0.map(Encoded.init(bytes:))) }
    }

    /// Cancel: asks the job's worker to stop (or ends a PENDING job at once).
    public func cancel(_ request: CancelRequest, caller: Caller, completion: @escaping Completion<Job>) throws(JobWireError) {
        try registry.cancel(request, tenant: caller.tenant) { completion($0.map(Encoded.init(bytes:))) }
    }

    /// UpdateJob: the worker's report.
    public func updateJob(_ request: UpdateJobRequest, caller: Caller,
                          completion: @escaping Completion<Job>) throws(JobWireError) {
        try registry.update(request, tenant: caller.tenant) { completion($0.map(Encoded.init(bytes:))) }
    }

    /// Retry: a FAILED or CANCELLED job starts a new attempt under the same id.
    public func retry(_ request: RetryRequest, caller: Caller, completion: @escaping Completion<Job>) throws(JobWireError) {
        try registry.retry(request, tenant: caller.tenant) { completion($0.map(Encoded.init(bytes:))) }
    }

    /// SetPriority: the priority of a job that has not ended.
    public func setPriority(_ request: SetPriorityRequest, caller: Caller,
                            completion: @escaping Completion<Job>) throws(JobWireError) {
        try registry.setPriority(request, tenant: caller.tenant) { completion($0.map(Encoded.init(bytes:))) }
    }

    /// DeleteJob: forgets the job; its watchers end with JOB_DELETED.
    public func deleteJob(_ request: DeleteJobRequest, caller: Caller,
                          completion: @escaping Completion<DeleteJobResponse>) throws(JobWireError) {
        try registry.delete(request, tenant: caller.tenant) { completion($0.map(Encoded.init(bytes:))) }
    }

    // MARK: Watches

    /// WatchJob: the first events to send and, unless the job has ended, a
    /// registration that hands every later change to `sink` (see
    /// ``JobRegistry/WatchStart``). End it with ``unwatch(jobID:watcherID:)``.
    package func watch(_ request: WatchJobRequest, caller: Caller, sink: any WatchSink,
               streamID: UInt32) throws(JobWireError) -> JobRegistry.WatchStart {
        try registry.watch(request, tenant: caller.tenant, sink: sink, streamID: streamID)
    }

    package func unwatch(jobID: String, watcherID: UInt64) {
        registry.unwatch(jobID: jobID, watcherID: watcherID)
    }

    /// WatchJobs: checks the request and its cursor and registers a watcher
    /// of the caller's tenant; the front end then catches it up with
    /// ``catchUpJobs(watcherID:tenant:from:since:snapshot:pageSize:maxBytes:)``
    /// at its own pace, after which changes are pushed to `sink`. End it with
    /// ``unwatchJobs(watcherID:tenant:)``.
    package func watchJobs(_ request: WatchJobsRequest, caller: Caller, sink: any WatchSink,
                   streamID: UInt32) throws(JobWireError) -> JobRegistry.JobsWatchStart {
        try registry.watchJobs(request, tenant: caller.tenant, sink: sink, streamID: streamID)
    }

    package func catchUpJobs(watcherID: UInt64, tenant: String, from position: UInt64, since: UInt64, snapshot: Bool,
                     pageSize: Int, maxBytes: Int) -> JobRegistry.JobsCatchUp {
        registry.catchUpJobs(watcherID: watcherID, tenant: tenant, from: position, since: since, snapshot: snapshot,
                             pageSize: pageSize, maxBytes: maxBytes)
    }

    package func pauseJobsWatch(watcherID: UInt64, tenant: String) {
        registry.pauseJobsWatch(watcherID: watcherID, tenant: tenant)
    }

    package func unwatchJobs(watcherID: UInt64, tenant: String) {
        registry.unwatchJobs(watcherID: watcherID, tenant: tenant)
    }
}
