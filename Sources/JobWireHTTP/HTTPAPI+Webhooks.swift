import JobWireJSON
import JobWireProtocol
import JobWireServer
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
                return webhookCall(request, .listWebhooks) { caller, webhooks throws(JobWireError) in
                    try Self.allowOnly([], in: request)
                    return .response(.json(.object(["webhooks": .array(webhooks.list(tenant: caller.tenant).map { WebhookJSON.endpoint($0) })])))
                }
            case .POST:
                return webhookCall(request, .createWebhook) { caller, webhooks throws(JobWireError) in
                    try Self.allowOnly([], in: request)
                    let reader = JSONMemberReader(object: try JSONMemberReader.object(from: try Self.jsonBody(request, required: true) ?? [],
                                                                                      what: "the request"))
                    try reader.allowOnly(["url", "events", "labels"])
                    guard let url = try reader.string("url") else {
                        throw JobWireError(.invalidArgument, Reason.missingField, "url is required")
                    }
                    let events = try reader.strings("events") ?? []
                    let labels = try reader.labels("labels") ?? [:]
                    let create = CreateWebhookRequest(url: url, events: events, labels: labels)
                    return Self.pending { finish throws(JobWireError) in
                        try webhooks.create(create, tenant: caller.tenant) { result in
                            finish(result.map { created in
                                var response = HTTPResponse.json(WebhookJSON.endpoint(created.endpoint, secret: created.secret),
                                                                 status: .created)
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
                return webhookCall(request, .rotateWebhookSecret) { caller, webhooks throws(JobWireError) in
                    try Self.allowOnly(["overlap_ms"], in: request)
                    // A value past UInt32 is past the largest overlap too: the service refuses it with its own message.
                    let overlapMs = try (Self.integer("overlap_ms", in: request) as Int64?).map { UInt32(exactly: $0) ?? .max }
                    let rotate = RotateWebhookSecretRequest(endpointID: endpointID, overlapMs: overlapMs)
                    return Self.pending { finish throws(JobWireError) in
                        try webhooks.rotateSecret(rotate, tenant: caller.tenant) { result in
                            finish(result.map { .json(WebhookJSON.endpoint($0.endpoint, secret: $0.secret)) })
                        }
                    }
                }
            }
            switch method {
            case .GET, .HEAD:
                return webhookCall(request, .getWebhook) { caller, webhooks throws(JobWireError) in
                    try Self.allowOnly([], in: request)
                    return .response(.json(WebhookJSON.endpoint(try webhooks.endpoint(target, tenant: caller.tenant))))
                }
            case .DELETE:
                return webhookCall(request, .deleteWebhook) { caller, webhooks throws(JobWireError) in
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
            return webhookCall(request, .listWebhookDeliveries) { caller, webhooks throws(JobWireError) in
                try Self.allowOnly(["limit"], in: request)
                let limit: Int64? = try Self.integer("limit", in: request)
                if let limit, limit < 1 { throw Self.invalid("limit must be 1 to \(Limits.maxWebhookDeliveries)") }
                // 0 asks for the service's default; a value past UInt32 is past the largest limit, which the service refuses.
                let list = ListWebhookDeliveriesRequest(endpointID: endpointID, limit: limit.map { UInt32(exactly: $0) ?? .max } ?? 0)
                return Self.pending { finish throws(JobWireError) in
                    try webhooks.deliveries(list, tenant: caller.tenant) { result in
                        finish(result.map { .json(.object(["deliveries": .array($0.map(WebhookJSON.delivery))])) })
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
            return webhookCall(request, .redeliverWebhook) { caller, webhooks throws(JobWireError) in
                try Self.allowOnly([], in: request)
                let redeliver = RedeliverWebhookRequest(messageID: messageID, endpointID: endpointID)
                return Self.pending { finish throws(JobWireError) in
                    try webhooks.redeliver(redeliver, tenant: caller.tenant) { result in
                        finish(result.map { .json(WebhookJSON.delivery($0), status: .accepted) })
                    }
                }
            }
        default:
            return Self.notFound(request)
        }
    }

    /// Authenticates and admits a webhook call by the job service's rules (``Role/required(for:)``).
    private func webhookCall(_ request: HTTPRequest, _ method: Method,
                             _ body: (Caller, any WebhookAdministration) throws(JobWireError) -> RouteResult) -> Routed {
        let principal: Principal
        do {
            principal = try self.principal(of: request, allowStreamToken: false).principal
        } catch {
            return Routed(.response(.error(error)))
        }
        do throws(JobWireError) {
            let webhooks = try service.webhooks()
            let caller = try service.admit(principal, to: method, tenant: request.headers.first(name: "x-jobwire-tenant") ?? "")
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
}
