/// The top of the routing: `/v1`, `/metrics`, the dashboard, then the REST services' own paths.
extension HTTPAPI {
    func route(_ request: HTTPRequest) -> Routed {
        let segments = request.segments
        if segments.first == "v1" {
            return routeV1(request, segments.dropFirst())
        }
        if segments == ["metrics"] {
            return routeMetrics(request)
        }
        if configuration.dashboard, let routed = routeDashboard(request, segments) {
            return routed
        }
        if configuration.compatibilityRoutes, let routed = routeCompatibility(request) {
            return routed
        }
        return Self.notFound(request)
    }
}

extension HTTPAPI {
    /// `GET /` (the page, whatever its query: the view lives there),
    /// `GET /ui/NAME` and `GET /favicon.ico` (the icon, for browsers that ask
    /// for it by that name); nil for every other path.
    func routeDashboard(_ request: HTTPRequest, _ segments: [String]) -> Routed? {
        let asset: DashboardAssets.Asset?
        switch (segments.first, segments.count) {
        case (nil, 0): asset = DashboardAssets.byName["index.html"]
        case ("ui", 2): asset = DashboardAssets.byName[segments[1]]
        case ("ui", _): asset = nil
        case ("favicon.ico", 1): asset = DashboardAssets.byName["icon.svg"]
        default: return nil
        }
        guard let asset else { return Self.notFound(request) }
        guard request.method == .GET || request.method == .HEAD else { return Self.methodNotAllowed("GET") }
        return Routed(.response(DashboardAssets.response(asset, request)))
    }
}
