import JobWireJSON
import JobWireProtocol
import JobWireServer
import NIOCore
import NIOHTTP1

/// The `/v1` API: each job API call at its google.api.http-style path
/// (docs/HTTP.md has the table, openapi.json the shapes).
extension HTTPAPI {
    func routeV1(_ request: HTTPRequest, _ path: ArraySlice<String>) -> Routed {
        let method = request.method
        switch (path.first, path.count) {
        case ("jobs", 1):
            switch method {
            case .GET, .HEAD: return call(.listJobs, request) { caller throws(JobWireError) in try listJobs(request, caller) }
            case .POST: return call(.configure, request) { caller throws(JobWireError) in try configure(request, caller) }
            default: return Self.methodNotAllowed("GET, POST")
            }
        case ("jobs:batchGet", 1):
            guard method == .POST else { return Self.methodNotAllowed("POST") }
            return call(.batchGetMetadata, request) { caller throws(JobWireError) in try batchGet(request, caller) }
        case ("jobs", 2):
            let target = path[path.startIndex + 1]
            if let colon = target.lastIndex(of: ":") {
                let jobID = String(target[..<colon])
                let verb = target[target.index(after: colon)...]
                guard method == .POST else { return Self.methodNotAllowed("POST") }
                switch verb {
                case "cancel": return call(.cancel, request) { caller throws(JobWireError) in try cancel(jobID, request, caller) }
                case "retry": return call(.retry, request) { caller throws(JobWireError) in try retry(jobID, request, caller) }
                case "setPriority":
                    return call(.setPriority, request) { caller throws(JobWireError) in try setPriority(jobID, request, caller) }
                default: return Self.notFound(request)
                }
            }
            switch method {
            case .GET, .HEAD: return call(.getMetadata, request) { caller throws(JobWireError) in try getJob(target, request, caller) }
            case .PATCH: return call(.updateJob, request) { caller throws(JobWireError) in try update(target, request, caller) }
            case .DELETE: return call(.deleteJob, request) { caller throws(JobWireError) in try delete(target, request, caller) }
            default: return Self.methodNotAllowed("GET, PATCH, DELETE")
            }
        case ("jobs", 3) where path.last == "events":
            guard method == .GET else { return Self.methodNotAllowed("GET") }
            let jobID = path[path.startIndex + 1]
            return call(.watchJob, request, allowStreamToken: true) { caller throws(JobWireError) in
                try JobEventStream.open(jobID: jobID, request: request, caller: caller, api: self)
            }
        case ("events", 1):
            guard method == .GET else { return Self.methodNotAllowed("GET") }
            return call(.watchJobs, request, allowStreamToken: true) { caller throws(JobWireError) in
                try JobsEventStream.open(request: request, caller: caller, api: self)
            }
        case ("health", _) where path.count == 1 || (path.count == 2 && path.last == "detailed"):
            guard method == .GET || method == .HEAD else { return Self.methodNotAllowed("GET") }
            return call(.health, request) { caller throws(JobWireError) in
                try Self.allowOnly([], in: request)
                let health = service.health(HealthRequest(detailed: path.count == 2), caller: caller)
                return .response(.json(MessageJSON.health(health), status: health.status == .serving ? .ok : .serviceUnavailable))
            }
        case ("stats", 1):
            guard method == .GET || method == .HEAD else { return Self.methodNotAllowed("GET") }
            return call(.stats, request) { caller throws(JobWireError) in
                try Self.allowOnly(["tenant", "from", "to"], in: request)
                let stats = try service.stats(StatsRequest(tenant: request.parameter("tenant") ?? "",
                                                           createdAfterMs: try Self.time("from", in: request) ?? 0,
                                                           createdBeforeMs: try Self.time("to", in: request) ?? 0).validated(),
                                              caller: caller)
                return .response(.json(MessageJSON.stats(stats, from: request.parameter("from"), to: request.parameter("to"))))
            }
        case ("usage", 1):
            guard method == .GET || method == .HEAD else { return Self.methodNotAllowed("GET") }
            return call(.usage, request) { caller throws(JobWireError) in
                try Self.allowOnly(["tenant"], in: request)
                return .response(.json(MessageJSON.usage(try service.usage(UsageRequest(tenant: request.parameter("tenant") ?? "").validated(),
                                                                           caller: caller))))
            }
        case ("stream-tokens", 1):
            guard method == .POST else { return Self.methodNotAllowed("POST") }
            return mintStreamToken(request)
        case ("webhooks", _):
            return routeWebhooks(request, path)
        case ("openapi.json", 1):
            guard method == .GET || method == .HEAD else { return Self.methodNotAllowed("GET") }
            var response = HTTPResponse.json(OpenAPIDocument.bytes)
            response.headers.add(name: "cache-control", value: "public, max-age=300")
            return Routed(.response(response))
        default:
            return Self.notFound(request)
        }
    }

    static func notFound(_ request: HTTPRequest) -> Routed {
        Routed(.response(.error(.notFound, Reason.routeNotFound,
                                "no route for \(request.method) \(request.head.uri.prefix { $0 != "?" }.prefix(200)); see /v1/openapi.json")))
    }

    static func methodNotAllowed(_ allowed: String) -> Routed {
        var response = HTTPResponse.error(.unimplemented, Reason.methodNotAllowed, "this path takes \(allowed)")
        response.headers.add(name: "allow", value: allowed)
        return Routed(.response(response))
    }

    // MARK: Reads

    /// A job's JSON with its ETag; 304 when `If-None-Match` names its revision.
    func jobResponse(_ entry: JobJSONCache.Entry, _ headers: HTTPHeaders, status: HTTPResponseStatus = .ok) -> HTTPResponse {
        var response: HTTPResponse
        if status == .ok, Self.noneMatch(headers, revision: entry.revision) {
            response = HTTPResponse(status: .notModified)
        } else {
            response = .json(entry.json, status: status)
        }
        response.headers.add(name: "etag", value: Self.entityTag(entry.revision))
        return response
    }

    private func getJob(_ jobID: String, _ request: HTTPRequest, _ caller: Caller) throws(JobWireError) -> RouteResult {
        try Self.allowOnly(["log_tail"], in: request)
        let logTail: UInt32 = try Self.integer("log_tail", in: request) ?? 0
        let get = try GetMetadataRequest(jobID: jobID, logTail: logTail).validated()
        let encoded = try service.getMetadata(get, caller: caller).bytes
        let entry = logTail == 0 ? try jobJSON.entry(jobID: get.jobID, encodedJob: encoded) : try JobJSONCache.make(encoded)
        return .response(jobResponse(entry, request.headers))
    }

    private func batchGet(_ request: HTTPRequest, _ caller: Caller) throws(JobWireError) -> RouteResult {
        try Self.allowOnly([], in: request)
        let body = try Self.jsonBody(request, required: true) ?? []
        let reader = JSONMemberReader(object: try JSONMemberReader.object(from: body, what: "the request"))
        try reader.allowOnly(["job_ids", "log_tail"])
        guard let ids = try reader.strings("job_ids") else {
            throw JobWireError(.invalidArgument, Reason.missingField, "job_ids is required")
        }
        let batch = try BatchGetMetadataRequest(jobIDs: ids, logTail: try reader.integer("log_tail") ?? 0).validated()
        let response = try service.batchGetMetadata(batch, caller: caller).decoded()
        return .response(.json(.object(["results": .array(response.results.map { result in
            switch result.outcome {
            case .job(let job): .object(["job_id": .string(result.jobID), "job": JobJSON.value(job)])
            case .error(let status): .object(["job_id": .string(result.jobID), "error": MessageJSON.status(status)])
            }
        })])))
    }

    private func listJobs(_ request: HTTPRequest, _ caller: Caller) throws(JobWireError) -> RouteResult {
        try Self.allowOnly(Self.listParameters.union(["format"]), in: request)
        let list = try Self.listRequest(from: request).validated()
        if request.accepts("text/csv") || request.parameter("format") == "csv" {
            return .streaming(try CSVExport(list: list, caller: caller, api: self))
        }
        let response = try service.listJobs(list, caller: caller).decoded()
        var answer = HTTPResponse.json(.object([
            "jobs": .array(response.jobs.map(JobJSON.value)),
            "next_page_token": .string(response.nextPageToken),
            "total_count": .int(Int64(clamping: response.totalCount)),
        ]))
        answer.headers.add(name: "x-total-count", value: String(response.totalCount))
        return .response(answer)
    }

    // MARK: Writes

    /// A write call: the service commits, then `answer` turns its reply into
    /// the response on the connection's loop; a failure becomes `failure`'s
    /// response (the compatibility routes answer in their services' dialects).
    func write<Message: WireMessage>(
        failure: @escaping @Sendable (JobWireError) -> HTTPResponse = HTTPResponse.error,
        _ start: @escaping (@escaping JobService.Completion<Message>) throws(JobWireError) -> Void,
        answer: @escaping @Sendable (Encoded<Message>) throws(JobWireError) -> HTTPResponse
    ) -> RouteResult {
        .pending { finish in
            do throws(JobWireError) {
                try start { result in
                    finish {
                        do throws(JobWireError) {
                            return try answer(try result.get())
                        } catch {
                            return failure(error)
                        }
                    }
                }
            } catch {
                finish { failure(error) }
            }
        }
    }

    /// The answer of a write that returns the job: its JSON (now cached for reads) and ETag.
    private func jobAnswer(_ jobID: String) -> @Sendable (Encoded<Job>) throws(JobWireError) -> HTTPResponse {
        { [jobJSON] encoded throws(JobWireError) in
            let entry = try jobJSON.entry(jobID: jobID, encodedJob: encoded.bytes)
            var response = HTTPResponse.json(entry.json)
            response.headers.add(name: "etag", value: Self.entityTag(entry.revision))
            return response
        }
    }

    private func configure(_ request: HTTPRequest, _ caller: Caller) throws(JobWireError) -> RouteResult {
        try Self.allowOnly(["lease_ttl_ms"], in: request)
        let spec = try JobJSON.spec(from: try Self.jsonBody(request, required: true) ?? [])
        let configure = try ConfigureRequest(requestID: request.headers.first(name: "idempotency-key") ?? "", job: spec,
                                             leaseTTLMs: try Self.integer("lease_ttl_ms", in: request) ?? 0).validated()
        return write({ [service] completion throws(JobWireError) in try service.configure(configure, caller: caller, completion: completion) }) {
            encoded throws(JobWireError) in
            let reply = try encoded.decoded()
            var response = HTTPResponse.json(JobJSON.encode(reply.job), status: reply.created ? .created : .ok)
            response.headers.add(name: "etag", value: Self.entityTag(reply.job.revision))
            response.headers.add(name: "location", value: "/v1/jobs/\(reply.job.jobID)")
            return response
        }
    }

    private func update(_ jobID: String, _ request: HTTPRequest, _ caller: Caller) throws(JobWireError) -> RouteResult {
        try Self.allowOnly([], in: request)
        let body = try Self.jsonBody(request, required: true) ?? []
        let update = try JobJSON.update(from: body, jobID: jobID, expectedRevision: try Self.expectedRevision(request.headers)).validated()
        return write({ [service] completion throws(JobWireError) in try service.updateJob(update, caller: caller, completion: completion) },
                     answer: jobAnswer(update.jobID))
    }

    private func cancel(_ jobID: String, _ request: HTTPRequest, _ caller: Caller) throws(JobWireError) -> RouteResult {
        try Self.allowOnly([], in: request)
        var cancel = CancelRequest(jobID: jobID)
        if let body = try Self.jsonBody(request, required: false) {
            let reader = JSONMemberReader(object: try JSONMemberReader.object(from: body, what: "the request"))
            try reader.allowOnly(["reason"])
            cancel.reason = try reader.string("reason") ?? ""
        }
        cancel = try cancel.validated()
        return write({ [service] completion throws(JobWireError) in try service.cancel(cancel, caller: caller, completion: completion) },
                     answer: jobAnswer(cancel.jobID))
    }

    private func retry(_ jobID: String, _ request: HTTPRequest, _ caller: Caller) throws(JobWireError) -> RouteResult {
        try Self.allowOnly([], in: request)
        if let body = try Self.jsonBody(request, required: false) {
            try JSONMemberReader(object: try JSONMemberReader.object(from: body, what: "the request")).allowOnly([])
        }
        let retry = try RetryRequest(jobID: jobID, expectedRevision: try Self.expectedRevision(request.headers)).validated()
        return write({ [service] completion throws(JobWireError) in try service.retry(retry, caller: caller, completion: completion) },
                     answer: jobAnswer(retry.jobID))
    }

    private func setPriority(_ jobID: String, _ request: HTTPRequest, _ caller: Caller) throws(JobWireError) -> RouteResult {
        try Self.allowOnly([], in: request)
        let reader = JSONMemberReader(object: try JSONMemberReader.object(from: try Self.jsonBody(request, required: true) ?? [],
                                                                          what: "the request"))
        try reader.allowOnly(["priority"])
        guard let priority: Int32 = try reader.integer("priority") else {
            throw JobWireError(.invalidArgument, Reason.missingField, "priority is required")
        }
        let change = try SetPriorityRequest(jobID: jobID, priority: priority, expectedRevision: try Self.expectedRevision(request.headers)).validated()
        return write({ [service] completion throws(JobWireError) in try service.setPriority(change, caller: caller, completion: completion) },
                     answer: jobAnswer(change.jobID))
    }

    private func delete(_ jobID: String, _ request: HTTPRequest, _ caller: Caller) throws(JobWireError) -> RouteResult {
        try Self.allowOnly([], in: request)
        let delete = try DeleteJobRequest(jobID: jobID).validated()
        return write({ [service] completion throws(JobWireError) in try service.deleteJob(delete, caller: caller, completion: completion) }) {
            encoded throws(JobWireError) in
            let reply = try encoded.decoded()
            return .json(.object(["job_id": .string(delete.jobID), "deleted": .bool(true), "revision": .int(Int64(clamping: reply.revision))]))
        }
    }

    // MARK: Stream tokens

    private func mintStreamToken(_ request: HTTPRequest) -> Routed {
        let principal: Principal
        do {
            try Self.allowOnly([], in: request)
            principal = try self.principal(of: request, allowStreamToken: false).principal
        } catch {
            return Routed(.response(.error(error)))
        }
        guard let (token, grant) = streamTokens.mint(for: principal, nowMs: WallClock.nowMs()) else {
            return Routed(.response(.error(.resourceExhausted, Reason.rateLimited, "too many stream tokens are alive; try again later")))
        }
        return Routed(.response(.json(.object([
            "token": .string(token), "expires_at": JobJSON.time(grant.expiresAtMs),
            "tenant": .string(grant.principal.tenant), "role": .string(grant.principal.role.rawValue),
        ]), status: .created)))
    }
}
