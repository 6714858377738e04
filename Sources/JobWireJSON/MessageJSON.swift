import JobWireProtocol

/// The JSON shapes of the API's messages other than a job (which is
/// ``JobJSON``): the CLI's `--json` output and the HTTP front end's response
/// bodies are these, so a script reads the same members from either.
public enum MessageJSON {
    /// A ServingStatus as it is written: `serving`, `not_serving`, `draining`.
    public static func name(_ status: ServingStatus) -> String {
        switch status {
        case .serving: "serving"
        case .notServing: "not_serving"
        case .draining: "draining"
        case .unspecified: "unknown"
        }
    }

    public static func health(_ health: HealthResponse) -> JSONValue {
        .object([
            "status": .string(name(health.status)), "store": .string(health.store), "store_state": .string(health.storeState),
            "server_version": .string(health.serverVersion), "uptime_ms": .int(health.uptimeMs),
            "components": .array(health.components.map { component in
                .object([
                    "name": .string(component.name), "state": .string(component.state.name),
                    "message": .string(component.message),
                    "measures": .object(component.measures.sorted { $0.key < $1.key }.map { .init($0.key, .double($0.value)) }),
                ])
            }),
        ])
    }

    /// Stats; `from` and `to` echo the range asked for (ISO 8601, or null).
    public static func stats(_ stats: StatsResponse, from: String?, to: String?) -> JSONValue {
        .object([
            "total_jobs": .int(Int64(clamping: stats.totalJobs)),
            "jobs": .object(stats.jobs.map { .init($0.status.name, .int(Int64(clamping: $0.count))) }),
            "success_rate": .double(stats.successRate),
            "average_run_time_ms": .double(stats.averageRunTimeMs),
            "date_range": .object(["from": from.map(JSONValue.string) ?? .null, "to": to.map(JSONValue.string) ?? .null]),
            "connections": .int(Int64(stats.connections)), "streams": .int(Int64(stats.streams)),
            "uptime_ms": .int(Int64(clamping: stats.uptimeMs)),
            "methods": .array(stats.methods.map {
                .object(["method": .string($0.method), "calls": .int(Int64(clamping: $0.calls)),
                         "errors": .int(Int64(clamping: $0.errors)), "p50_us": .int(Int64(clamping: $0.p50Us)),
                         "p99_us": .int(Int64(clamping: $0.p99Us)), "p999_us": .int(Int64(clamping: $0.p999Us))])
            }),
            "webhooks": .object([
                "pending_messages": .int(Int64(clamping: stats.webhooks.pendingMessages)),
                "oldest_pending_age_ms": .int(Int64(stats.webhooks.oldestPendingAgeMs)),
                "endpoints": .int(Int64(stats.webhooks.endpoints)),
                "failing_endpoints": .int(Int64(stats.webhooks.failingEndpoints)),
                "disabled_endpoints": .int(Int64(stats.webhooks.disabledEndpoints)),
                "skipped_messages": .int(Int64(clamping: stats.webhooks.skippedMessages)),
            ]),
        ])
    }

    public static func usage(_ usage: UsageResponse) -> JSONValue {
        .object([
            "tenant": .string(usage.tenant),
            "keys": .array(usage.keys.map { key in
                .object([
                    "key_id": .string(key.keyID), "role": .string(key.role),
                    "methods": .array(key.methods.map { method in
                        .object([
                            "method": .string(method.method), "calls": .int(Int64(clamping: method.calls)),
                            "errors": .object(method.errors.map { .init($0.code.name, .int(Int64(clamping: $0.count))) }),
                        ])
                    }),
                    "rate_limited": .int(Int64(clamping: key.rateLimited)),
                    "bytes_in": .int(Int64(clamping: key.bytesIn)), "bytes_out": .int(Int64(clamping: key.bytesOut)),
                    "last_used_at": JobJSON.time(key.lastUsedAtMs),
                ])
            }),
        ])
    }

    /// One WatchJobs event: its type, cursor, the jobs it carries and (for
    /// LEFT of a removed job) the id alone.
    /// `job` makes each job's JSON (a front end passes its cache of them).
    public static func jobsEvent(_ event: JobsEvent, job: (Job) -> JSONValue = JobJSON.value) -> JSONValue {
        .object([
            "type": .string(event.type.name), "cursor": .string(event.cursor),
            "job_id": event.jobID.isEmpty ? .null : .string(event.jobID),
            "jobs": .array(event.jobs.map(job)),
        ])
    }

    /// One WatchJob event; `job` already in its JSON shape (made once per revision).
    public static func watchEvent(type: WatchEventType, revision: UInt64, job: JSONValue?, newLogLines: [String]) -> JSONValue {
        .object([
            "type": .string(name(type)), "revision": .int(Int64(clamping: revision)),
            "job": job ?? .null, "new_log_lines": .array(newLogLines.map(JSONValue.string)),
        ])
    }

    public static func name(_ type: WatchEventType) -> String {
        switch type {
        case .snapshot: "snapshot"
        case .change: "change"
        case .resync: "resync"
        case .bookmark: "bookmark"
        case .unspecified: "unspecified"
        }
    }

    /// An error as every JSON front end answers it: `{"error": {...}}`.
    public static func error(_ status: Status) -> JSONValue {
        .object(["error": Self.status(status)])
    }

    /// A status's members (`code`, `reason`, `message`, `retry_after_ms` when set), as an error
    /// body holds them and as a batch result's `error` member is.
    public static func status(_ status: Status) -> JSONValue {
        var members: [JSONValue.Member] = [
            .init("code", .string(status.code.name)), .init("reason", .string(status.reason)),
            .init("message", .string(status.message)),
        ]
        if status.retryAfterMs > 0 {
            members.append(.init("retry_after_ms", .int(Int64(status.retryAfterMs))))
        }
        return .object(members)
    }
}
