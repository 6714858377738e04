import JobWireJSON
import JobWireProtocol
import JobWireServer
import JobWireWebhooks
import NIOHTTP1

/// `/v1/webhooks`: a tenant's webhook endpoints (docs/WEBHOOKS.md). Reader
/// keys may look; client keys and up may change them. A secret is in the
/// answer of a create or a rotation, and never again.
extension HTTPAPI {
    func routeWebhooks(_ request: HTTPRequest, _ path: ArraySlice<String>) -> Routed {
        let method = request.method
        switch path.count {
        case 1:
            switch method {
            case .GET, .HEAD:
                return webhookCall(request, write: false, "ListWebhooks") { caller, webhooks throws(JobWireError) in
                    try Self.allowOnly([], in: request)
                    return .response(.json(.object(["webhooks": .array(webhooks.list(tenant: caller.tenant).map { Self.json($0) })])))
                }
            case .POST:
                return webhookCall(request, write: true, "CreateWebhook") { caller, webhooks throws(JobWireError) in
                    try Self.allowOnly([], in: request)
                    let reader = JSONMemberReader(object: try JSONMemberReader.object(from: try Self.jsonBody(request, required: true) ?? [],
                                                                                      what: "the request"))
                    try reader.allowOnly(["url", "events", "labels"])
                    guard let url = try reader.string("url") else {
                        throw JobWireError(.invalidArgument, Reason.missingField, "url is required")
                    }
                    let events = try reader.strings("events") ?? []
                    let labels = try reader.labels("labels") ?? [:]
                    return Self.pending { finish throws(JobWireError) in
                        try webhooks.create(tenant: caller.tenant, url: url, events: events, labels: labels) { result in
                            finish(result.map { created in
                                var response = HTTPResponse.json(Self.json(created.endpoint, secret: created.secret), status: .created)
                                response.headers.add(name: "location", value: "/v1/webhooks/\(created.endpoint.endpointID)")
                                return response
                            })
                        }
                    }
                }
            default:
                return Self.methodNotAllowed("GET, POST")
            }
        case 2:
            let target = path[path.startIndex + 1]
            if let colon = target.lastIndex(of: ":") {
                let endpointID = String(target[..<colon])
                guard target[target.index(after: colon)...] == "rotateSecret" else { return Self.notFound(request) }
                guard method == .POST else { return Self.methodNotAllowed("POST") }
                return webhookCall(request, write: true, "RotateWebhookSecret") { caller, webhooks throws(JobWireError) in
                    try Self.allowOnly(["overlap_ms"], in: request)
                    let overlapMs: Int64 = try Self.integer("overlap_ms", in: request) ?? 24 * 3_600_000
                    return Self.pending { finish throws(JobWireError) in
                        try webhooks.rotateSecret(endpointID, tenant: caller.tenant, overlapMs: overlapMs) { result in
                            finish(result.map { .json(Self.json($0.endpoint, secret: $0.secret)) })
                        }
                    }
                }
            }
            switch method {
            case .GET, .HEAD:
                return webhookCall(request, write: false, "GetWebhook") { caller, webhooks throws(JobWireError) in
                    try Self.allowOnly([], in: request)
                    return .response(.json(Self.json(try webhooks.endpoint(target, tenant: caller.tenant))))
                }
            case .DELETE:
                return webhookCall(request, write: true, "DeleteWebhook") { caller, webhooks throws(JobWireError) in
                    try Self.allowOnly([], in: request)
                    return Self.pending { finish throws(JobWireError) in
                        try webhooks.delete(target, tenant: caller.tenant) { result in
                            finish(result.map { .json(.object(["id": .string(target), "deleted": .bool(true)])) })
                        }
                    }
                }
            default:
                return Self.methodNotAllowed("GET, DELETE")
            }
        case 3 where path.last == "deliveries":
            guard method == .GET || method == .HEAD else { return Self.methodNotAllowed("GET") }
            let endpointID = path[path.startIndex + 1]
            return webhookCall(request, write: false, "ListWebhookDeliveries") { caller, webhooks throws(JobWireError) in
                try Self.allowOnly(["limit"], in: request)
                let limit: Int = try Self.integer("limit", in: request) ?? 50
                guard (1...500).contains(limit) else { throw Self.invalid("limit must be 1 to 500") }
                return Self.pending { finish throws(JobWireError) in
                    try webhooks.deliveries(endpointID, tenant: caller.tenant, limit: limit) { result in
                        finish(result.map { .json(.object(["deliveries": .array($0.map(Self.json))])) })
                    }
                }
            }
        case 4 where path[path.startIndex + 2] == "deliveries":
            let endpointID = path[path.startIndex + 1]
            let target = path[path.startIndex + 3]
            guard let colon = target.lastIndex(of: ":"), target[target.index(after: colon)...] == "redeliver" else {
                return Self.notFound(request)
            }
            guard method == .POST else { return Self.methodNotAllowed("POST") }
            let messageID = String(target[..<colon])
            return webhookCall(request, write: true, "RedeliverWebhook") { caller, webhooks throws(JobWireError) in
                try Self.allowOnly([], in: request)
                return Self.pending { finish throws(JobWireError) in
                    try webhooks.redeliver(messageID, endpointID: endpointID, tenant: caller.tenant) { result in
                        finish(result.map { message in
                            .json(Self.json(StoredDelivery(message: message, attempts: [])), status: .accepted)
                        })
                    }
                }
            }
        default:
            return Self.notFound(request)
        }
    }

    /// A delivery as the list shows it: the message, its state and every attempt.
    static func json(_ delivery: StoredDelivery) -> JSONValue {
        let message = delivery.message
        let state = switch message.state {
        case .pending: "pending"
        case .delivered: "delivered"
        case .givenUp: "given_up"
        }
        return .object([
            .init("message_id", .string(message.messageID)),
            .init("type", .string(message.type)),
            .init("job_id", .string(message.jobID)),
            .init("revision", .int(Int64(clamping: message.revision))),
            .init("changed_at", .string(ISO8601.string(milliseconds: message.changedAtMs))),
            .init("state", .string(state)),
            .init("next_attempt_at", message.state == .pending && message.nextAttemptAtMs > 0
                ? .string(ISO8601.string(milliseconds: message.nextAttemptAtMs)) : .null),
            .init("attempts", .array(delivery.attempts.map { attempt in
                .object([
                    .init("attempt", .int(Int64(attempt.attempt))),
                    .init("at", .string(ISO8601.string(milliseconds: attempt.atMs))),
                    .init("http_status", attempt.httpStatus == 0 ? .null : .int(Int64(attempt.httpStatus))),
                    .init("latency_ms", .double(Double(attempt.latencyMicros) / 1_000)),
                    .init("error", .string(attempt.error)),
                ])
            })),
        ])
    }

    /// Authenticates and admits a webhook call by the job service's rules.
    private func webhookCall(_ request: HTTPRequest, write: Bool, _ action: String,
                             _ body: (Caller, WebhookService) throws(JobWireError) -> RouteResult) -> Routed {
        guard let webhooks else {
            return Routed(.response(.error(.unimplemented, "WEBHOOKS_OFF", "this server sends no webhooks")))
        }
        let principal: Principal
        do {
            principal = try self.principal(of: request, allowStreamToken: false).principal
        } catch {
            return Routed(.response(.error(error)))
        }
        do throws(JobWireError) {
            let caller = try service.admit(principal, needing: write ? WebhookService.writeRole : WebhookService.readRole, for: action,
                                           tenant: request.headers.first(name: "x-jobwire-tenant") ?? "")
            return Routed(try body(caller, webhooks), account: service.account(for: principal))
        } catch {
            return Routed(.response(.error(error)))
        }
    }

    /// A change answered once the store has it: `start` hands the answer (or its error) to `finish`.
    private static func pending(_ start: @escaping (@escaping @Sendable (Result<HTTPResponse, JobWireError>) -> Void) throws(JobWireError) -> Void) -> RouteResult {
        .pending { finish in
            do throws(JobWireError) {
                try start { result in
                    finish {
                        switch result {
                        case .success(let response): response
                        case .failure(let error): HTTPResponse.error(error)
                        }
                    }
                }
            } catch {
                finish { HTTPResponse.error(error) }
            }
        }
    }

    /// An endpoint as the API shows it: never its secrets, but for `secret` when one was just made.
    static func json(_ endpoint: StoredWebhookEndpoint, secret: String? = nil) -> JSONValue {
        let time = { (ms: Int64) -> JSONValue in ms == 0 ? .null : .string(ISO8601.string(milliseconds: ms)) }
        var members: [JSONValue.Member] = [
            .init("id", .string(endpoint.endpointID)),
            .init("url", .string(endpoint.url)),
            .init("events", .array(endpoint.events.map(JSONValue.string))),
            .init("labels", .object(endpoint.labels.sorted { $0.key < $1.key }.map { .init($0.key, .string($0.value)) })),
            .init("created_at", time(endpoint.createdAtMs)),
            .init("enabled", .bool(endpoint.disabledAtMs == 0)),
            .init("disabled_at", time(endpoint.disabledAtMs)),
            .init("disabled_reason", .string(endpoint.disabledReason)),
            .init("failing_since", time(endpoint.failingSinceMs)),
            .init("previous_secret_expires_at", endpoint.secrets.count > 1 ? time(endpoint.previousSecretExpiresAtMs) : .null),
        ]
        if let secret { members.append(.init("secret", .string(secret))) }
        return .object(members)
    }
}
