import JobWireJSON
import JobWireKeys
import JobWireProtocol
import JobWireServer
import Logging
import NIOCore
import NIOHTTP1

/// Everything the HTTP front end's routes share: the job service they call,
/// the encodings they reuse, the stream tokens. Sendable: every connection's
/// handler, on either event loop, calls the same one.
///
/// The routes translate HTTP to the job service's requests and its answers
/// to JSON; they hold no rule of their own about jobs, keys, roles, tenants
/// or limits: those are the service's, as for the binary port.
final class HTTPAPI: Sendable {
    let service: JobService
    let configuration: HTTPConfiguration
    /// The binary port's settings this front end shares (bookmark interval, limits).
    let serverConfiguration: ServerConfiguration
    let logger: Logger
    let jobJSON = JobJSONCache()
    let events = EventEncodingCache()
    let streamTokens: StreamTokens
    /// Each event loop's mailbox for the registry's deliveries, by loop.
    private let mailboxes: [ObjectIdentifier: LoopMailbox]

    init(service: JobService, configuration: HTTPConfiguration, serverConfiguration: ServerConfiguration, logger: Logger,
         eventLoops: [any EventLoop]) {
        self.mailboxes = Dictionary(uniqueKeysWithValues: eventLoops.map { (ObjectIdentifier($0), LoopMailbox(eventLoop: $0)) })
        self.service = service
        self.configuration = configuration
        self.serverConfiguration = serverConfiguration
        self.logger = logger
        self.streamTokens = StreamTokens(ttlMs: Int64(configuration.streamTokenTTLMs))
    }

    /// The mailbox of the loop a stream lives on (every loop of the front end has one).
    func mailbox(for eventLoop: any EventLoop) -> LoopMailbox {
        mailboxes[ObjectIdentifier(eventLoop)] ?? LoopMailbox(eventLoop: eventLoop)
    }

    // MARK: Authentication

    /// Who the request is from: `Authorization: Bearer KEY` or `X-API-Key: KEY`
    /// (the REST services' header), or on event streams `?stream_token=`; and
    /// the principal whose key must stay valid (for a token, its minter's).
    func principal(of request: HTTPRequest, allowStreamToken: Bool) throws(JobWireError) -> (principal: Principal, authority: Principal) {
        if request.parameter("api_key") != nil || request.parameter("apiKey") != nil {
            throw JobWireError(.invalidArgument, Reason.apiKeyInURL,
                               "API keys are not accepted in URLs (they end up in logs); send Authorization: Bearer KEY, or for EventSource mint a stream token with POST /v1/stream-tokens")
        }
        if let token = request.parameter("stream_token") {
            guard allowStreamToken else {
                throw JobWireError(.permissionDenied, Reason.permissionDenied, "stream tokens open event streams only")
            }
            guard let grant = streamTokens.grant(for: token, nowMs: WallClock.nowMs()), service.isCurrent(grant.minter) else {
                throw JobWireError(.unauthenticated, Reason.invalidStreamToken,
                                   "the stream token is unknown, expired or its key was revoked; mint another")
            }
            return (grant.principal, grant.minter)
        }
        let principal = try service.authenticate(apiKey: Self.apiKey(in: request.headers) ?? "",
                                                 certificateFingerprint: request.certificateFingerprint)
        return (principal, principal)
    }

    static func apiKey(in headers: HTTPHeaders) -> String? {
        if let authorization = headers.first(name: "authorization") {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return headers.first(name: "x-api-key")
    }

    /// Authenticates and admits one call (role, tenant, rate limits), then
    /// runs `body` with the caller; every failure becomes its error response.
    /// The tenant is the key's, or for admin keys `X-JobWire-Tenant`.
    func call(_ method: Method, _ request: HTTPRequest, allowStreamToken: Bool = false,
              _ body: (Caller) throws(JobWireError) -> RouteResult) -> Routed {
        let principal: Principal
        let authority: Principal
        do {
            (principal, authority) = try self.principal(of: request, allowStreamToken: allowStreamToken)
        } catch {
            return Routed(.response(.error(error)), method: method)
        }
        let account = service.account(for: principal)
        account.received(bytes: request.head.uri.utf8.count + (request.body?.readableBytes ?? 0))
        do throws(JobWireError) {
            let tenant = request.headers.first(name: "x-jobwire-tenant") ?? ""
            let caller = try service.admit(principal, to: method, tenant: tenant)
            return Routed(try body(caller), method: method, account: account, authority: authority)
        } catch {
            return Routed(.response(.error(error)), method: method, account: account)
        }
    }

    /// Records a finished call in Stats and in its key's Usage.
    func record(_ routed: Routed, code: StatusCode, reason: String, bytesOut: Int, startedAtNs: UInt64) {
        guard let method = routed.method else { return }
        service.stats.record(method, code: code, startedAtNs: startedAtNs)
        routed.account?.record(method, code: code, reason: reason)
        routed.account?.sent(bytes: bytesOut)
    }

    // MARK: CORS

    /// The origin to allow for this request: one of `--http-cors-origin`, as the browser sent it.
    func allowedOrigin(_ request: HTTPRequestHead) -> String? {
        guard !configuration.corsOrigins.isEmpty, let origin = request.headers.first(name: "origin") else { return nil }
        return configuration.corsOrigins.contains(origin) || configuration.corsOrigins.contains("*") ? origin : nil
    }

    static let corsAllowedHeaders = "authorization, x-api-key, content-type, if-match, if-none-match, idempotency-key, last-event-id, x-jobwire-tenant"
    static let corsExposedHeaders = "etag, location, retry-after, x-next-page-token, x-total-count"

    /// The answer to a CORS preflight (`OPTIONS` with `Access-Control-Request-Method`).
    func preflight(_ request: HTTPRequestHead) -> HTTPResponse {
        var response = HTTPResponse(status: .noContent)
        if allowedOrigin(request) != nil {
            response.headers.add(name: "access-control-allow-methods", value: "GET, POST, PATCH, DELETE, OPTIONS")
            response.headers.add(name: "access-control-allow-headers", value: Self.corsAllowedHeaders)
            response.headers.add(name: "access-control-max-age", value: "600")
        }
        return response
    }

    /// CORS headers every response to an allowed origin carries.
    func addCORSHeaders(to headers: inout HTTPHeaders, for request: HTTPRequestHead) {
        guard !configuration.corsOrigins.isEmpty else { return }
        headers.add(name: "vary", value: "Origin")
        guard let origin = allowedOrigin(request) else { return }
        headers.add(name: "access-control-allow-origin", value: origin)
        headers.add(name: "access-control-expose-headers", value: Self.corsExposedHeaders)
    }
}
