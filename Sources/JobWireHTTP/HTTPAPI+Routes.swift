/// The top of the routing: `/v1`, then the REST services' own paths.
extension HTTPAPI {
    func route(_ request: HTTPRequest) -> Routed {
        let segments = request.segments
        if segments.first == "v1" {
            return routeV1(request, segments.dropFirst())
        }
        if configuration.compatibilityRoutes, let routed = routeCompatibility(request) {
            return routed
        }
        return Self.notFound(request)
    }
}
