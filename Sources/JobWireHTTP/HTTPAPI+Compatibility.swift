import JobWireJSON
import JobWireProtocol
import JobWireServer
import NIOCore
import NIOHTTP1

/// The endpoints of the REST services JobWire replaces (docs/HTTP.md,
/// "Compatibility routes"; the services are described in the design's
/// background 000–004), at their own paths with their own parameters,
/// status codes and bodies, so that their front ends and scripts keep
/// working against JobWire:
///
/// | service | routes |
/// |---|---|
/// | 000 streaming server | `POST /configure`, `GET /metadata/{job_id}` |
/// | 001 extraction pipeline | `GET /status/{jobId}?tail=N` |
/// | 002 JobStore | `GET /api/job-status/{job_id}` |
/// | 003 monitoring API | `GET /jobs`, `GET /jobs/stats`, `GET`/`DELETE /jobs/{job_id}`, `POST /jobs/{job_id}/cancel`, `GET /events/{job_id}/progress`, `GET /health`, `GET /health/detailed` |
/// | 004 fastify API | `GET /api/jobs/{id}` |
///
/// Like /v1, every route is one job service call made through ``call(_:_:allowStreamToken:_:)``:
/// the same keys (`Authorization: Bearer` or `X-API-Key`), roles, tenants and
/// rate limits, recorded in Stats and Usage as that call. What differs is
/// only the translation: the services' shapes (``CompatibilityJSON``) and
/// their errors (``CompatibilityReply``), and their leniency — unknown query
/// parameters are ignored, as FastAPI and fastify ignored them.
extension HTTPAPI {
    /// The compatibility route for `request`, or nil when its path is not one
    /// (the caller then answers 404 as for any unknown path).
    func routeCompatibility(_ request: HTTPRequest) -> Routed? {
        let segments = request.segments
        let second = segments.count > 1 ? segments[1] : ""
        let third = segments.count > 2 ? segments[2] : ""
        switch (segments.count, segments.first ?? "") {
        // 000: the streaming server.
        case (1, "configure"):
            return compatibilityConfigure(request)
        case (2, "metadata"):
            // 000's 404 names the id as it was asked for (bounded: it is echoed).
            let reply = CompatibilityReply(.fastAPI, request, notFound: "Job not found: \(second.prefix(256))")
            return compatibilityMetadata(request, reply, id: second)

        // 001: the extraction pipeline.
        case (2, "status"):
            let reply = CompatibilityReply(.fastAPI, request)
            // No tail: all the lines (JobWire keeps the last 10,000); tail=0: none.
            let tail = Result { () throws(CompatibilityInvalidInput) -> UInt32 in
                let lines = try CompatibilityQuery.integer("tail", in: request, minimum: 0) ?? Limits.maxLogTail
                return UInt32(min(lines, Limits.maxLogTail))
            }
            return compatibilityGet(request, reply, id: second, logTail: tail, shape: CompatibilityJSON.statusReport)

        // 002 and 004: /api/...
        case (3, "api") where second == "job-status":
            return compatibilityGet(request, CompatibilityReply(.jobStore, request), id: third,
                                    shape: CompatibilityJSON.jobStatus)
        case (3, "api") where second == "jobs":
            return compatibilityGet(request, CompatibilityReply(.fastify, request), id: third,
                                    shape: CompatibilityJSON.apiJob)

        // 003: the monitoring API.
        case (1, "jobs"):
            return compatibilityList(request)
        case (2, "jobs") where second == "stats":
            return compatibilityStats(request)
        case (2, "jobs"):
            let reply = CompatibilityReply(.fastAPI, request)
            switch request.method {
            case .GET, .HEAD: return compatibilityGet(request, reply, id: second, shape: CompatibilityJSON.monitoredJob)
            case .DELETE: return compatibilityDelete(request, reply, id: second)
            default: return Routed(.response(reply.methodNotAllowed("GET, DELETE")))
            }
        case (3, "jobs") where third == "cancel":
            return compatibilityCancel(request, id: second)
        case (3, "events") where third == "progress":
            return compatibilityProgress(request, id: second)
        case (1, "health"):
            return compatibilityHealth(request, detailed: false)
        case (2, "health") where second == "detailed":
            return compatibilityHealth(request, detailed: true)
        default:
            return nil
        }
    }

    // MARK: Calls in a service's words

    /// ``call(_:_:allowStreamToken:_:)`` with every failure in the service's
    /// dialect: the route's own errors through `reply`, and those `call`
    /// answers before the route runs (key, role, tenant, rate limit) restated.
    private func compatibilityCall(_ reply: CompatibilityReply, _ method: Method, _ request: HTTPRequest,
                                   allowStreamToken: Bool = false,
                                   _ body: (Caller) throws(JobWireError) -> RouteResult) -> Routed {
        var admitted = false
        var routed = call(method, request, allowStreamToken: allowStreamToken) { caller throws(JobWireError) in
            admitted = true
            do throws(JobWireError) {
                return try body(caller)
            } catch {
                return .response(reply.error(error))
            }
        }
        if !admitted, case .response(let response) = routed.result, response.code != .ok {
            routed.result = .response(reply.restated(response))
        }
        return routed
    }

    private static func isRead(_ request: HTTPRequest) -> Bool {
        request.method == .GET || request.method == .HEAD
    }

    // MARK: Reads of one job (000, 001, 002, 003, 004)

    /// `GET /metadata/{job_id}`: a part of the job's JSON, so it comes from the
    /// JSON cache /v1 reads and writes fill, not from decoding the job again.
    private func compatibilityMetadata(_ request: HTTPRequest, _ reply: CompatibilityReply, id rawID: String) -> Routed {
        guard Self.isRead(request) else { return Routed(.response(reply.methodNotAllowed("GET"))) }
        return compatibilityCall(reply, .getMetadata, request) { caller throws(JobWireError) in
            guard let jobID = JobID.canonical(rawID) else { return .response(reply.invalidJobID()) }
            let encoded = try service.getMetadata(GetMetadataRequest(jobID: jobID), caller: caller).bytes
            let entry = try jobJSON.entry(jobID: jobID, encodedJob: encoded)
            return .response(.json(CompatibilityJSON.metadata(entry.value)))
        }
    }

    /// GetMetadata in a service's shape. Ids are taken in either case, as
    /// the binary port takes them; one that is not a UUID is the dialect's
    /// answer for it. `logTail` is parsed before the call and its problem
    /// answered only once the caller is admitted, as an error after auth.
    private func compatibilityGet(_ request: HTTPRequest, _ reply: CompatibilityReply, id rawID: String,
                                  logTail: Result<UInt32, CompatibilityInvalidInput> = .success(0),
                                  shape: (Job) -> JSONValue) -> Routed {
        guard Self.isRead(request) else { return Routed(.response(reply.methodNotAllowed("GET"))) }
        return compatibilityCall(reply, .getMetadata, request) { caller throws(JobWireError) in
            let lines: UInt32
            switch logTail {
            case .success(let value): lines = value
            case .failure(let problem): return .response(reply.invalid(problem))
            }
            guard let jobID = JobID.canonical(rawID) else { return .response(reply.invalidJobID()) }
            let job = try service.getMetadata(GetMetadataRequest(jobID: jobID, logTail: lines), caller: caller).decoded()
            return .response(.json(shape(job)))
        }
    }

    // MARK: 000: configure

    /// `POST /configure`: Configure from 000's body; answers 000's metadata
    /// with 200 (FastAPI's default), the job PENDING. `Idempotency-Key`
    /// makes it idempotent as on /v1.
    private func compatibilityConfigure(_ request: HTTPRequest) -> Routed {
        // pydantic's 422 for a body its model refuses: INVALID_ARGUMENT about the body, from reading it or from the service's checks.
        let reply = CompatibilityReply(.fastAPI, request, bodyValidation: true)
        guard request.method == .POST else { return Routed(.response(reply.methodNotAllowed("POST"))) }
        return compatibilityCall(reply, .configure, request) { caller throws(JobWireError) in
            let spec = try CompatibilityJSON.configureSpec(try Self.jsonBody(request, required: true) ?? [])
            let configure = try ConfigureRequest(requestID: request.headers.first(name: "idempotency-key") ?? "", job: spec).validated()
            return write(failure: reply.error, { [service] completion throws(JobWireError) in
                try service.configure(configure, caller: caller, completion: completion)
            }, answer: { (encoded: Encoded<ConfigureResponse>) throws(JobWireError) -> HTTPResponse in
                .json(CompatibilityJSON.metadata(JobJSON.value(try encoded.decoded().job)))
            })
        }
    }

    // MARK: 003: list, stats, cancel, delete, health

    /// `GET /jobs`: 003's page-numbered list over ListJobs' page tokens.
    private func compatibilityList(_ request: HTTPRequest) -> Routed {
        let reply = CompatibilityReply(.fastAPI, request)
        guard Self.isRead(request) else { return Routed(.response(reply.methodNotAllowed("GET"))) }
        let query = Result { () throws(CompatibilityInvalidInput) -> CompatibilityListQuery in
            try CompatibilityListQuery(request)
        }
        return compatibilityCall(reply, .listJobs, request) { caller throws(JobWireError) in
            let parsed: CompatibilityListQuery
            switch query {
            case .success(let value): parsed = value
            case .failure(let problem): return .response(reply.invalid(problem))
            }
            if parsed.matchesNothing {
                return .response(.json(CompatibilityJSON.jobList([], total: 0, page: parsed.page, perPage: parsed.perPage)))
            }
            let (jobs, total) = try compatibilityPage(parsed, caller: caller)
            var response = HTTPResponse.json(CompatibilityJSON.jobList(jobs, total: total, page: parsed.page,
                                                                        perPage: parsed.perPage))
            response.headers.add(name: "x-total-count", value: String(total))
            return .response(response)
        }
    }

    /// Page `page` of `perPage` jobs: the (page − 1) × perPage jobs before it
    /// are walked past with page tokens, up to 500 (ListJobs' largest page)
    /// a call. Linear in the offset, which is fine for these services' sizes;
    /// past the last job the page is empty, as an SQL OFFSET past the end is.
    private func compatibilityPage(_ query: CompatibilityListQuery,
                                   caller: Caller) throws(JobWireError) -> (jobs: [Job], total: UInt64) {
        var list = query.list
        let (offset, overflow) = (query.page - 1).multipliedReportingOverflow(by: query.perPage)
        var remaining = overflow ? Int.max : offset
        while remaining > 0 {
            list.pageSize = UInt32(min(remaining, Limits.maxPageSize))
            let skipped = try service.listJobs(list, caller: caller).decoded()
            // The first call's count already tells whether the page is past the end.
            if overflow || skipped.nextPageToken.isEmpty || skipped.jobs.isEmpty || UInt64(offset) >= skipped.totalCount {
                return ([], skipped.totalCount)
            }
            remaining -= skipped.jobs.count
            list.pageToken = skipped.nextPageToken
        }
        list.pageSize = UInt32(query.perPage)
        let page = try service.listJobs(list, caller: caller).decoded()
        return (page.jobs, page.totalCount)
    }

    /// `GET /jobs/stats?from_date=&to_date=`: Stats of the caller's tenant.
    private func compatibilityStats(_ request: HTTPRequest) -> Routed {
        let reply = CompatibilityReply(.fastAPI, request)
        guard Self.isRead(request) else { return Routed(.response(reply.methodNotAllowed("GET"))) }
        let range = Result { () throws(CompatibilityInvalidInput) -> (from: Int64?, to: Int64?) in
            (try CompatibilityQuery.time("from_date", in: request), try CompatibilityQuery.time("to_date", in: request))
        }
        return compatibilityCall(reply, .stats, request) { caller throws(JobWireError) in
            let bounds: (from: Int64?, to: Int64?)
            switch range {
            case .success(let value): bounds = value
            case .failure(let problem): return .response(reply.invalid(problem))
            }
            // 003's to_date was inclusive; Stats' upper bound is exclusive.
            let stats = try service.stats(StatsRequest(createdAfterMs: bounds.from ?? 0,
                                                       createdBeforeMs: bounds.to.map { $0 &+ 1 } ?? 0), caller: caller)
            return .response(.json(CompatibilityJSON.stats(stats, fromMs: bounds.from, toMs: bounds.to)))
        }
    }

    /// `POST /jobs/{job_id}/cancel`: 003's `{job_id, status, message}`. The
    /// status is the job's after Cancel: `cancelled`, or `cancelling` while a
    /// worker holding a lease has yet to stop. 003 refused (400) to cancel a
    /// job that had ended; JobWire's Cancel returns such a job unchanged, so
    /// the job is read first.
    private func compatibilityCancel(_ request: HTTPRequest, id rawID: String) -> Routed {
        let reply = CompatibilityReply(.fastAPI, request)
        guard request.method == .POST else { return Routed(.response(reply.methodNotAllowed("POST"))) }
        return compatibilityCall(reply, .cancel, request) { caller throws(JobWireError) in
            guard let jobID = JobID.canonical(rawID) else { return .response(reply.invalidJobID()) }
            let current = try service.getMetadata(GetMetadataRequest(jobID: jobID), caller: caller).decoded()
            if current.status.isTerminal {
                return .response(reply.cannotCancel(current.status))
            }
            return write(failure: reply.error, { [service] completion throws(JobWireError) in
                try service.cancel(CancelRequest(jobID: jobID), caller: caller, completion: completion)
            }, answer: { (encoded: Encoded<Job>) throws(JobWireError) -> HTTPResponse in
                let job = try encoded.decoded()
                // Its worker finished it between the read and the Cancel: as if it had ended before.
                if job.status == .completed || job.status == .failed {
                    return reply.cannotCancel(job.status)
                }
                return .json(.object([
                    "job_id": .string(jobID), "status": CompatibilityJSON.status(of: job),
                    "message": .string("Job cancellation requested"),
                ]))
            })
        }
    }

    /// `DELETE /jobs/{job_id}?delete_files=`: 003's `{job_id, deleted, files_deleted}`.
    private func compatibilityDelete(_ request: HTTPRequest, _ reply: CompatibilityReply, id rawID: String) -> Routed {
        let deleteFiles = Result { () throws(CompatibilityInvalidInput) -> Bool in
            try CompatibilityQuery.bool("delete_files", in: request) ?? true
        }
        return compatibilityCall(reply, .deleteJob, request) { caller throws(JobWireError) in
            if case .failure(let problem) = deleteFiles {
                return .response(reply.invalid(problem))
            }
            guard let jobID = JobID.canonical(rawID) else { return .response(reply.invalidJobID()) }
            let delete = DeleteJobRequest(jobID: jobID)
            return write(failure: reply.error, { [service] completion throws(JobWireError) in
                try service.deleteJob(delete, caller: caller, completion: completion)
            }, answer: { (_: Encoded<DeleteJobResponse>) throws(JobWireError) -> HTTPResponse in
                // JobWire stores no output files: there are none to delete, whatever delete_files says.
                .json(.object(["job_id": .string(jobID), "deleted": .bool(true), "files_deleted": .int(0)]))
            })
        }
    }

    /// `GET /health` and `GET /health/detailed`. Health is a job service call
    /// like the others, so it takes a key when the server has keys (003's
    /// were open); any role may make it.
    private func compatibilityHealth(_ request: HTTPRequest, detailed: Bool) -> Routed {
        let reply = CompatibilityReply(.fastAPI, request)
        guard Self.isRead(request) else { return Routed(.response(reply.methodNotAllowed("GET"))) }
        return compatibilityCall(reply, .health, request) { caller throws(JobWireError) in
            let health = service.health(HealthRequest(detailed: detailed), caller: caller)
            if detailed {
                // 003 answered 200 whatever `overall` said.
                return .response(.json(CompatibilityJSON.detailedHealth(health)))
            }
            let (body, status) = CompatibilityJSON.health(health)
            return .response(.json(body, status: status))
        }
    }

    /// `GET /events/{job_id}/progress`: 003's event stream. A job that is not
    /// there (another tenant's included) is 403 "Access denied", as 003
    /// answered both. EventSource cannot send headers: open it with
    /// `?stream_token=` (POST /v1/stream-tokens), never `?api_key=`.
    private func compatibilityProgress(_ request: HTTPRequest, id rawID: String) -> Routed {
        let reply = CompatibilityReply(.fastAPI, request, notFound: "Access denied", notFoundStatus: .forbidden)
        guard request.method == .GET else { return Routed(.response(reply.methodNotAllowed("GET"))) }
        return compatibilityCall(reply, .watchJob, request, allowStreamToken: true) { caller throws(JobWireError) in
            guard let jobID = JobID.canonical(rawID) else { return .response(reply.jobNotFound(reason: Reason.invalidJobID)) }
            return try CompatibilityProgressStream.open(jobID: jobID, request: request, caller: caller, api: self)
        }
    }
}
