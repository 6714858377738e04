import Foundation
import JobWireJSON
import JobWireProtocol
import JobWireServer
import NIOCore
import NIOHTTP1

/// The JSON shapes of the REST services JobWire replaces (docs/HTTP.md,
/// "Compatibility routes"), made from JobWire's job.
///
/// Each shape has its service's own keys, in its service's order, for what
/// JobWire's job carries. Fields of the services' own domains that the job
/// model lacks (003's video `source`, `outputs` and `processing_time`, its
/// `duration_seconds` and storage quota) are left out rather than invented;
/// a few are mapped from labels or the result where those hold the same
/// thing (003's `user_metadata` and `filename`, 001's `items`). Times are the
/// job JSON's ISO 8601 UTC text, statuses its lower-case names.
enum CompatibilityJSON {
    // MARK: Reading the job's JSON

    /// A member of a JSON object; nil for a missing key or a value that is not an object.
    static func member(_ key: String, of value: JSONValue) -> JSONValue? {
        guard case .object(let members) = value else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// The result as the services returned theirs: a JSON result as that JSON
    /// (002's `{"suggestions": [...]}`, 004's `{"document_id": ...}`), text as
    /// a string, other bytes as `{content_type, data_base64}`; nil without one.
    static func result(_ job: Job) -> JSONValue? {
        guard let result = job.result else { return nil }
        // JobJSON's embedding (JSON byte for byte, text, or base64) is internal
        // to JobWireJSON: take it from the JSON of a job holding only the result.
        guard let value = member("result", of: JobJSON.value(Job(result: result))) else { return nil }
        return member("data", of: value) ?? value
    }

    /// 001's `items`: the `items` array of a JSON object result (where a
    /// worker that processes items reports them), else empty. The key is
    /// always there because 001's response model declared the list required,
    /// and its front ends iterate it.
    static func items(_ job: Job) -> JSONValue {
        guard let result = job.result, result.contentType.contains("json"),
              let object = try? JSONSerialization.jsonObject(with: Data(result.data)) as? [String: Any],
              let items = object["items"] as? [Any],
              let data = try? JSONSerialization.data(withJSONObject: items) else {
            return .array([])
        }
        return .raw([UInt8](data))
    }

    /// Progress as a whole percentage, rounded down so a job never shows 100
    /// before it completes (001's `progress: int`, 003's `overall_progress`).
    static func percent(_ progress: Double) -> Int64 {
        guard progress.isFinite else { return 0 }
        return Int64(min(100, max(0, progress)).rounded(.down))
    }

    /// 003's `calculate_overall_progress`: 100 once completed, 0 while pending, else the job's progress.
    static func overallProgress(_ job: Job) -> Int64 {
        switch job.status {
        case .completed: 100
        case .pending, .unspecified: 0
        case .running, .cancelling, .failed, .cancelled: percent(job.progress)
        }
    }

    /// 003's `estimate_eta`: 0 once completed, whole seconds (as Python's `int()`), null without an estimate.
    static func eta(_ job: Job) -> JSONValue {
        if job.status == .completed { return .int(0) }
        guard let eta = job.etaSeconds, eta.isFinite else { return .null }
        return .int(Int64(max(0, min(eta, 1e15)).rounded(.towardZero)))
    }

    static func labels(_ job: Job) -> JSONValue {
        .object(job.labels.sorted { $0.key < $1.key }.map { JSONValue.Member($0.key, .string($0.value)) })
    }

    static func status(of job: Job) -> JSONValue {
        job.status == .unspecified ? .null : .string(job.status.name)
    }

    // MARK: 000: the streaming server

    /// `GET /metadata/{job_id}` and `POST /configure`, in 000's order.
    static let metadataMembers = [
        "status", "job_id", "stream_port", "stream_url", "view_type", "frequencies_list", "lines_dt",
        "channel_to_stream_index", "stream_amount", "frequencies_amount", "channel_amount", "metadata",
    ]

    /// 000's metadata: a part of the job's JSON (so it comes from the JSON cache), members picked by name.
    static func metadata(_ jobJSON: JSONValue) -> JSONValue {
        .object(metadataMembers.map { JSONValue.Member($0, member($0, of: jobJSON) ?? .null) })
    }

    /// What JobWire takes from 000's configure body: the stream configuration
    /// in the shape `/metadata` returns it (000's test plan: the metadata
    /// "matches original"), and the job's type, labels and priority.
    static let configureMembers: Set<String> = [
        "type", "labels", "priority", "stream_url", "stream_port", "view_type", "frequencies_list", "lines_dt",
        "channel_to_stream_index", "stream_amount", "frequencies_amount", "channel_amount", "metadata",
    ]

    /// The job spec of a configure body. Other members are dropped, not
    /// refused as /v1 refuses them: pydantic ignores members a model does not
    /// declare, so 000's front ends may send more than JobWire keeps.
    static func configureSpec(_ bytes: [UInt8]) throws(JobWireError) -> Job {
        let object = try JSONMemberReader.object(from: bytes, what: "the configure request")
        let known = object.filter { configureMembers.contains($0.key) }
        let data: Data
        do {
            data = try JSONSerialization.data(withJSONObject: known)
        } catch {
            throw JobWireError(.invalidArgument, Reason.malformedMessage, "the configure request could not be read")
        }
        return try JobJSON.spec(from: [UInt8](data))
    }

    // MARK: 001, 002, 004: one job's status

    /// 001's `GET /status/{jobId}`: `createdAt` and `updatedAt` in camel case as
    /// 001 wrote them, `progress` a whole percentage, `log_tail` one string.
    static func statusReport(_ job: Job) -> JSONValue {
        .object([
            "status": status(of: job),
            "progress": .int(percent(job.progress)),
            "createdAt": .string(ISO8601.string(milliseconds: job.createdAtMs)),
            "updatedAt": .string(ISO8601.string(milliseconds: job.updatedAtMs)),
            "items": items(job),
            "log_tail": .string(job.logTail.joined(separator: "\n")),
        ])
    }

    /// 002's `GET /api/job-status/{job_id}`; `error_message` only when the job has an error, as 002's stored jobs.
    static func jobStatus(_ job: Job) -> JSONValue {
        var members: [JSONValue.Member] = [
            .init("job_id", .string(job.jobID)),
            .init("status", status(of: job)),
            .init("created_at", JobJSON.time(job.createdAtMs)),
            .init("updated_at", JobJSON.time(job.updatedAtMs)),
            .init("result", result(job) ?? .null),
            .init("progress", .double(job.progress)),
        ]
        if let error = job.error {
            members.append(.init("error_message", .string(error.message)))
        }
        return .object(members)
    }

    /// 004's `GET /api/jobs/:id`: `result` for a completed job, `error` (its
    /// message) for a failed one, `completed_at` once the job has ended.
    static func apiJob(_ job: Job) -> JSONValue {
        var members: [JSONValue.Member] = [
            .init("id", .string(job.jobID)),
            .init("type", .string(job.type)),
            .init("status", status(of: job)),
            .init("created_at", JobJSON.time(job.createdAtMs)),
        ]
        switch job.status {
        case .completed: members.append(.init("result", result(job) ?? .null))
        case .failed: members.append(.init("error", .string(job.error?.message ?? "")))
        case .unspecified, .pending, .running, .cancelling, .cancelled: break
        }
        if job.status.isTerminal {
            members.append(.init("completed_at", JobJSON.time(job.completedAtMs)))
        }
        return .object(members)
    }

    // MARK: 003: the monitoring API

    /// 003's `GET /jobs/{job_id}` without the video domain's `source`,
    /// `outputs` and `processing_time`; `user_metadata` is the labels, and
    /// `current_task_progress` the job's one progress figure.
    static func monitoredJob(_ job: Job) -> JSONValue {
        .object([
            "job_id": .string(job.jobID),
            "status": status(of: job),
            "priority": .int(Int64(job.priority)),
            "created_at": JobJSON.time(job.createdAtMs),
            "updated_at": JobJSON.time(job.updatedAtMs),
            "completed_at": JobJSON.time(job.completedAtMs),
            "progress": .object([
                "current_task": .string(job.currentTask),
                "current_task_progress": .double(job.progress),
                "overall_progress": .int(overallProgress(job)),
                "eta_seconds": eta(job),
            ]),
            "user_metadata": labels(job),
            "error": job.status == .failed ? errorObject(job) : .null,
        ])
    }

    /// 003's error: only for failed jobs.
    static func errorObject(_ job: Job) -> JSONValue {
        .object([
            "message": .string(job.error?.message ?? ""),
            "failed_task": .string(job.error?.failedTask ?? ""),
            "retry_count": .int(Int64(job.error?.retryCount ?? 0)),
        ])
    }

    /// One job of 003's list; `filename` is the `filename` label (null
    /// without one), `duration_seconds` is left out.
    static func listedJob(_ job: Job) -> JSONValue {
        .object([
            "job_id": .string(job.jobID),
            "status": status(of: job),
            "priority": .int(Int64(job.priority)),
            "filename": job.labels["filename"].map(JSONValue.string) ?? .null,
            "created_at": JobJSON.time(job.createdAtMs),
            "completed_at": JobJSON.time(job.completedAtMs),
            "progress": .double(job.progress),
        ])
    }

    /// 003's `GET /jobs` page.
    static func jobList(_ jobs: [Job], total: UInt64, page: Int, perPage: Int) -> JSONValue {
        let size = UInt64(max(1, perPage))
        let pages = total / size + (total % size == 0 ? 0 : 1)
        return .object([
            "total": .int(Int64(clamping: total)),
            "page": .int(Int64(page)),
            "per_page": .int(Int64(perPage)),
            "total_pages": .int(Int64(clamping: pages)),
            "jobs": .array(jobs.map(listedJob)),
        ])
    }

    /// 003's `GET /jobs/stats`. `success_rate` is 003's: completed jobs as a
    /// percentage of all jobs (Stats' own rate is of finished jobs). Run
    /// times are creation to completion of completed jobs; the video
    /// durations, `processing_efficiency` and `storage` are left out.
    static func stats(_ stats: StatsResponse, fromMs: Int64?, toMs: Int64?) -> JSONValue {
        var counts: [JobStatus: UInt64] = [:]
        for entry in stats.jobs {
            counts[entry.status, default: 0] += entry.count
        }
        let total = stats.totalJobs
        let completed = counts[.completed] ?? 0
        // Stats gives the mean; 003 reported the sum as well.
        let totalSeconds = stats.averageRunTimeMs * Double(completed) / 1000
        return .object([
            "total_jobs": .int(Int64(clamping: total)),
            "status_breakdown": .object(JobStatus.allCases.filter { $0 != .unspecified }.map {
                JSONValue.Member($0.name, .int(Int64(clamping: counts[$0] ?? 0)))
            }),
            "success_rate": .double(total == 0 ? 0 : Double(completed) / Double(total) * 100),
            "processing_metrics": .object([
                "total_processing_time_seconds": .double(rounded(totalSeconds, places: 3)),
                "total_processing_time_hours": .double(rounded(totalSeconds / 3600, places: 2)),
                "average_processing_time_seconds": .double(rounded(stats.averageRunTimeMs / 1000, places: 2)),
            ]),
            "date_range": .object([
                "from": fromMs.map { JSONValue.string(ISO8601.string(milliseconds: $0)) } ?? .null,
                "to": toMs.map { JSONValue.string(ISO8601.string(milliseconds: $0)) } ?? .null,
            ]),
        ])
    }

    /// Python's `round(value, places)` for the figures 003 rounded.
    static func rounded(_ value: Double, places: Int) -> Double {
        guard value.isFinite else { return 0 }
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        return (value * scale).rounded() / scale
    }

    /// 003's `GET /health`: healthy while serving; otherwise unhealthy and 503, so load balancers take the node out.
    static func health(_ health: HealthResponse) -> (body: JSONValue, status: HTTPResponseStatus) {
        if health.status == .serving {
            return (.object(["status": .string("healthy")]), .ok)
        }
        return (.object(["status": .string("unhealthy")]), .serviceUnavailable)
    }

    /// 003's `GET /health/detailed`: `overall` and one entry per component
    /// (JobWire's store, disk, event loops and HTTP front end take the place
    /// of 003's PostgreSQL, Redis, MinIO and Airflow), each with its status,
    /// its message (`error` when failing, as 003) and its measures.
    static func detailedHealth(_ health: HealthResponse) -> JSONValue {
        var services: [JSONValue.Member] = []
        for component in health.components {
            var fields: [JSONValue.Member] = [.init("status", .string(serviceStatus(component.state)))]
            if !component.message.isEmpty {
                fields.append(.init(component.state == .failing ? "error" : "message", .string(component.message)))
            }
            for (name, value) in component.measures.sorted(by: { $0.key < $1.key })
            where name != "status" && name != "error" && name != "message" {
                fields.append(.init(name, .double(value)))
            }
            services.append(.init(component.name, .object(fields)))
        }
        let overall: String
        if health.status != .serving || health.components.contains(where: { $0.state == .failing }) {
            overall = "degraded"
        } else if health.components.contains(where: { $0.state == .warning }) {
            overall = "warning"
        } else {
            overall = "healthy"
        }
        return .object(["overall": .string(overall), "services": .object(services)])
    }

    static func serviceStatus(_ state: ComponentState) -> String {
        switch state {
        case .ok: "healthy"
        case .warning: "warning"
        case .failing: "unhealthy"
        case .unspecified: "unknown"
        }
    }

    /// The data of 003's `progress` event.
    static func progressEvent(jobID: String, _ job: Job) -> JSONValue {
        .object([
            "job_id": .string(jobID),
            "status": status(of: job),
            "current_task": .string(job.currentTask),
            "progress": .double(job.progress),
            "overall_progress": .int(overallProgress(job)),
            "updated_at": JobJSON.time(job.updatedAtMs),
        ])
    }

    /// The data of 003's `complete` event.
    static func completeEvent(jobID: String, _ job: Job) -> JSONValue {
        .object(["job_id": .string(jobID), "status": status(of: job), "completed_at": JobJSON.time(job.completedAtMs)])
    }
}
