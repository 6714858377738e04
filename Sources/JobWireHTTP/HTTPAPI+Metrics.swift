import JobWireKeys
import JobWireProtocol
import JobWireServer
import NIOCore
import NIOHTTP1

/// `GET /metrics`: every metric in Prometheus' text format (docs/OPERATIONS.md). The figures span every tenant, so
/// with `--keys` it takes an admin key (`Authorization: Bearer …`, which Prometheus' scrape configuration sends);
/// without keys anyone on the port may read it, like every call.
extension HTTPAPI {
    static let metricsRole = Role.admin

    func routeMetrics(_ request: HTTPRequest) -> Routed {
        guard request.method == .GET || request.method == .HEAD else { return Self.methodNotAllowed("GET") }
        let principal: Principal
        do {
            principal = try self.principal(of: request, allowStreamToken: false).principal
        } catch {
            return Routed(.response(.error(error)))
        }
        do throws(JobWireError) {
            _ = try service.admit(principal, needing: Self.metricsRole, for: "Metrics", tenant: "")
            try Self.allowOnly([], in: request)
        } catch {
            return Routed(.response(.error(error)))
        }
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: PrometheusText.contentType)
        headers.add(name: "cache-control", value: "no-store")
        let text = service.metricsText()
        var body = ByteBuffer()
        body.writeString(text)
        return Routed(.response(HTTPResponse(status: .ok, headers: headers, body: body)))
    }
}
