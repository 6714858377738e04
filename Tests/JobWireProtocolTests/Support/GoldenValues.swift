import JobWireProtocol

/// The Swift mirror of scripts/golden/fixtures.py: the value each golden
/// fixture holds. Change both together, then run `make golden`.
enum GoldenValues {
    static let jobID = "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b"
    static let jobID2 = "00000000-0000-4000-8000-000000000002"

    static let streamMetadata = StreamMetadata(dx: 1.02, prr: 2000, fiberStartMeters: 0, fiberLengthMeters: 5000,
                                               swVersion: "1.0.0")

    static let jobRunning = Job(
        jobID: jobID, tenant: "acme", type: "das_stream", labels: ["site": "haifa", "team": "fiber"], priority: 5,
        streamURL: "10.10.100.100", streamPort: 50051, viewType: 1, frequenciesList: [0.0, 1.5, 2.25, -3.0],
        linesDt: 123.5, channelToStreamIndex: [1: 0, 2: 1, 70000: 2], streamAmount: 2, frequenciesAmount: 500,
        channelAmount: 50, metadata: streamMetadata, status: .running, progress: 42.5,
        currentTask: "encoding \u{2013} pass 2", etaSeconds: 0, createdAtMs: 1_761_552_000_000,
        updatedAtMs: 1_761_552_060_000, leaseExpiresAtMs: 1_761_552_090_000,
        logTail: ["started", "\u{03c3}-filter ready \u{2713}"], logLineCount: 17, revision: 9)

    static let jobCompleted = Job(
        jobID: jobID2, tenant: "acme", type: "ai_generation", status: .completed, progress: 100,
        createdAtMs: 1_761_552_000_000, updatedAtMs: 1_761_555_600_000, completedAtMs: 1_761_555_600_000,
        expiresAtMs: 1_761_642_000_000,
        result: JobResult(contentType: "application/json", data: Array(#"{"ok":true}"#.utf8)), revision: 31)

    static let jobFailed = Job(
        jobID: jobID, tenant: "acme", type: "transcode", status: .failed, progress: 63, currentTask: "mux",
        completedAtMs: 1_761_552_100_000,
        error: JobError(message: "worker stopped heartbeating", failedTask: "mux", retryCount: 3,
                        reason: "LEASE_EXPIRED"),
        revision: 12)

    static let jobRetried = Job(
        jobID: jobID, tenant: "acme", type: "transcode", priority: 5, status: .pending, attempt: 3,
        createdAtMs: 1_761_552_000_000, updatedAtMs: 1_761_552_300_000,
        previousAttempts: [
            JobAttempt(attempt: 1, status: .failed,
                       error: JobError(message: "worker stopped heartbeating", failedTask: "mux", reason: "LEASE_EXPIRED"),
                       completedAtMs: 1_761_552_100_000),
            JobAttempt(attempt: 2, status: .cancelled, cancelReason: "wrong input", completedAtMs: 1_761_552_200_000),
        ],
        revision: 17)

    static let statusNotFound = Status(code: .notFound, reason: "JOB_NOT_FOUND", message: "job \(jobID2) not found")

    static let configureRequest = ConfigureRequest(
        requestID: "req-2026-11-22-0001",
        job: Job(type: "das_stream", labels: ["owner": "front-end"], priority: -2, frequenciesList: [10, 20],
                 linesDt: 0.5, channelToStreamIndex: [7: 0], streamAmount: 1, frequenciesAmount: 2, channelAmount: 3,
                 metadata: streamMetadata),
        leaseTTLMs: 30000)

    static let listJobsRequest = ListJobsRequest(
        statuses: [.running, .pending], type: "das_stream", labels: ["site": "haifa"],
        createdAfterMs: 1_761_000_000_000, createdBeforeMs: 1_762_000_000_000, priority: PriorityRange(min: -1, max: 10),
        pageSize: 50, pageToken: "opaque-token", query: "Haifa", orderBy: .priority, ascending: true)

    static let updateJobRequest = UpdateJobRequest(
        jobID: jobID, status: .running, progress: 0, currentTask: "", etaSeconds: -1,
        logLines: ["line 1", "line 2 \u{00fc}ml\u{00e4}ut"], leaseTTLMs: 15000, expectedRevision: 9)

    static let statsResponse = StatsResponse(
        jobs: [StatusCount(status: .running, count: 3), StatusCount(status: .completed, count: 1000)],
        connections: 64, streams: 70,
        methods: [MethodStats(method: "/jobwire.v1.JobService/GetMetadata", calls: 1_000_000, errors: 12, p50Us: 45,
                              p99Us: 180, p999Us: 900)],
        uptimeMs: 86_400_000, totalJobs: 1003, successRate: 0.75, averageRunTimeMs: 1234.5,
        webhooks: WebhookOutboxStats(pendingMessages: 17, oldestPendingAgeMs: 65_000, endpoints: 3, failingEndpoints: 1,
                                     disabledEndpoints: 1, skippedMessages: 250))

    static let webhookEndpoint = WebhookEndpoint(
        endpointID: "ep_0123456789abcdef0123456789abcdef", url: "https://hooks.example.com/jobwire?x=1",
        events: ["job.completed", "job.failed"], labels: ["site": "haifa", "env": "prod"], createdAtMs: 1_761_552_000_000,
        enabled: false, disabledAtMs: 1_761_555_600_000, disabledReason: "GONE: the receiver answered 410",
        failingSinceMs: 1_761_552_300_000, previousSecretExpiresAtMs: 1_761_638_400_000)

    static let webhookDeliveries = ListWebhookDeliveriesResponse(deliveries: [
        WebhookDelivery(messageID: "msg_00000000000000000000000000000001", endpointID: "ep_0123456789abcdef0123456789abcdef",
                        type: "job.completed", jobID: jobID, revision: 9, changedAtMs: 1_761_552_000_000, state: .delivered,
                        attempts: [WebhookAttempt(attempt: 1, atMs: 1_761_552_000_001, httpStatus: 0, latencyMicros: 5000,
                                                  error: "CONNECTION: refused"),
                                   WebhookAttempt(attempt: 2, atMs: 1_761_552_005_001, httpStatus: 204, latencyMicros: 812)]),
        WebhookDelivery(messageID: "msg_00000000000000000000000000000002", endpointID: "ep_0123456789abcdef0123456789abcdef",
                        type: "job.progress", jobID: jobID2, revision: 3, changedAtMs: 1_761_552_100_000, state: .pending,
                        nextAttemptAtMs: 1_761_552_400_000),
    ])

    /// Every fixture: its name and a check that decodes it as the right type
    /// and compares with the expected value, returning the re-encoding.
    static let all: [(name: String, decodeAndCompare: @Sendable ([UInt8]) throws -> (equal: Bool, reencoded: [UInt8]))] = [
        entry("job_running", jobRunning),
        entry("job_completed", jobCompleted),
        entry("job_failed", jobFailed),
        entry("job_retried", jobRetried),
        entry("status_not_found", statusNotFound),
        entry("configure_request", configureRequest),
        entry("configure_response", ConfigureResponse(job: jobRunning, created: true)),
        entry("get_metadata_request", GetMetadataRequest(jobID: jobID, logTail: 20)),
        entry("batch_get_request", BatchGetMetadataRequest(jobIDs: [jobID, jobID2, "not-a-uuid"], logTail: 1)),
        entry("batch_get_response", BatchGetMetadataResponse(results: [
            BatchGetResult(jobID: jobID, outcome: .job(jobRunning)),
            BatchGetResult(jobID: jobID2, outcome: .error(statusNotFound)),
        ])),
        entry("list_jobs_request", listJobsRequest),
        entry("list_jobs_response", ListJobsResponse(jobs: [jobRunning, jobCompleted], nextPageToken: "next",
                                                     totalCount: 1234)),
        entry("watch_job_request", WatchJobRequest(jobID: jobID, afterRevision: 7, logTail: 5)),
        entry("watch_event_change", WatchEvent(type: .change, revision: 9, job: jobRunning,
                                               newLogLines: ["\u{03c3}-filter ready \u{2713}"])),
        entry("watch_event_bookmark", WatchEvent(type: .bookmark, revision: 9)),
        entry("cancel_request", CancelRequest(jobID: jobID, reason: "user closed the tab")),
        entry("update_job_request", updateJobRequest),
        entry("update_job_complete", UpdateJobRequest(
            jobID: jobID, status: .completed,
            result: JobResult(contentType: "application/octet-stream", data: (0...255).map { UInt8($0) }))),
        entry("delete_job_request", DeleteJobRequest(jobID: jobID)),
        entry("delete_job_response", DeleteJobResponse(revision: 13)),
        entry("health_request", HealthRequest()),
        entry("health_response", HealthResponse(status: .serving, store: "sqlite", storeState: "ok",
                                                serverVersion: "0.1.0", uptimeMs: 5000)),
        entry("health_response_detailed", HealthResponse(
            status: .serving, store: "sqlite", storeState: "ok", serverVersion: "0.1.0", uptimeMs: 5000,
            components: [ComponentHealth(name: "disk", state: .warning, message: "/data has 8 % free",
                                         measures: ["free_ratio": 0.08])])),
        entry("stats_request", StatsRequest(tenant: "acme", createdAfterMs: 1_761_000_000_000,
                                            createdBeforeMs: 1_762_000_000_000)),
        entry("retry_request", RetryRequest(jobID: jobID, expectedRevision: 12)),
        entry("set_priority_request", SetPriorityRequest(jobID: jobID, priority: -7, expectedRevision: 3)),
        entry("usage_response", UsageResponse(tenant: "acme", keys: [KeyUsage(
            keyID: "jwk_01", role: "client",
            methods: [MethodUsage(method: "/jobwire.v1.JobService/GetMetadata", calls: 42,
                                  errors: [CodeCount(code: .notFound, count: 2)])],
            rateLimited: 1, bytesIn: 4096, bytesOut: 65536, lastUsedAtMs: 1_761_552_300_000)])),
        entry("stats_response", statsResponse),
        entry("webhook_endpoint", webhookEndpoint),
        entry("create_webhook_request", CreateWebhookRequest(url: "https://hooks.example.com/jobwire", events: ["job.created"],
                                                             labels: ["site": "haifa"])),
        entry("webhook_secret_response", WebhookSecretResponse(endpoint: webhookEndpoint, secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")),
        entry("rotate_webhook_secret_request", RotateWebhookSecretRequest(endpointID: "ep_1", overlapMs: 0)),
        entry("rotate_webhook_secret_request_default", RotateWebhookSecretRequest(endpointID: "ep_1")),
        entry("list_webhook_deliveries_request", ListWebhookDeliveriesRequest(endpointID: "ep_1", limit: 20)),
        entry("list_webhook_deliveries_response", webhookDeliveries),
        entry("redeliver_webhook_request", RedeliverWebhookRequest(messageID: "msg_1", endpointID: "ep_1")),
        entry("frame_hello", Frame.hello(Hello(protocolVersion: 1, apiKey: "jw_secret", clientName: "golden/1.0",
                                               maxFrameBytes: 1_048_576))),
        entry("frame_hello_ack", Frame.helloAck(HelloAck(protocolVersion: 1, serverName: "jobwired/0.1.0",
                                                         maxFrameBytes: 4_194_304, maxConcurrentStreams: 100,
                                                         pingIntervalMs: 30000, tenant: "acme", role: "worker"))),
        entry("frame_call", Frame.call(Call(streamID: 1, method: Method.getMetadata.rawValue,
                                            request: GetMetadataRequest(jobID: jobID, logTail: 20).encode(),
                                            timeoutMs: 5000))),
        entry("frame_reply", Frame.reply(Reply(streamID: 1, message: jobCompleted.encode()))),
        entry("frame_end", Frame.end(End(streamID: 3, status: statusNotFound))),
        entry("frame_cancel_call", Frame.cancelCall(CancelCall(streamID: 5))),
        entry("frame_ping", Frame.ping(Ping(payload: 0xDEAD_BEEF_CAFE))),
        entry("frame_pong", Frame.pong(Pong(payload: 0xDEAD_BEEF_CAFE))),
        entry("frame_goaway", Frame.goAway(GoAway(lastStreamID: 41, status: Status(
            code: .unavailable, reason: "SERVER_SHUTTING_DOWN", message: "draining", retryAfterMs: 1000)))),
    ]

    private static func entry<M: WireMessage>(_ name: String, _ expected: M)
        -> (name: String, decodeAndCompare: @Sendable ([UInt8]) throws -> (equal: Bool, reencoded: [UInt8])) {
        (name, { bytes in
            let decoded = try M(decoding: bytes)
            return (decoded == expected, expected.encode())
        })
    }
}
