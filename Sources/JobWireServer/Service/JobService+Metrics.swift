import JobWireProtocol

extension JobService {
    /// Upper bounds of the call-latency buckets, in seconds.
    package static let latencyBounds: [Double] = [0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05,
                                          0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    /// Adds families to `/metrics`, written at each scrape after the core's own.
    public func addMetricsSource(_ source: @escaping @Sendable (inout PrometheusText) -> Void) {
        metricsSources.withLock { $0.append(source) }
    }

    /// Every metric, in Prometheus' text format (docs/OPERATIONS.md lists them). Read from the counters the server
    /// keeps for Stats, Usage and Health: each is read under its own lock or atomic, never the registry's for long.
    public func metricsText() -> String {
        var text = PrometheusText()
        text.family("jobwire_build_info", .gauge, "The server's version; always 1.")
        text.sample("jobwire_build_info", [("version", ServerConfiguration.version)], 1)
        text.family("jobwire_uptime_seconds", .gauge, "Seconds since the server started.")
        text.sample("jobwire_uptime_seconds", Double(stats.uptimeMs) / 1_000)

        let usage = usageLedger.usage()
        var calls: [Method: [StatusCode: UInt64]] = [:]
        var rateLimited: UInt64 = 0
        for key in usage {
            rateLimited += key.rateLimited
            for method in key.methods {
                guard let known = Method(rawValue: method.method) else { continue }
                var failed: UInt64 = 0
                for error in method.errors {
                    calls[known, default: [:]][error.code, default: 0] += error.count
                    failed += error.count
                }
                calls[known, default: [:]][.ok, default: 0] += method.calls - min(failed, method.calls)
            }
        }
        text.family("jobwire_calls_total", .counter, "Calls that ended, by method and status code, on every port.")
        for method in Method.allCases {
            for (code, count) in (calls[method] ?? [:]).sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                text.sample("jobwire_calls_total", [("method", String(method.shortName)), ("code", code.name)], count)
            }
        }
        text.family("jobwire_call_duration_seconds", .histogram,
                    "From a call's arrival to its end (a watch: to its end), by method, on every port.")
        for (method, histogram) in stats.latencyHistograms(bounds: Self.latencyBounds) {
            text.histogram("jobwire_call_duration_seconds", [("method", String(method.shortName))], histogram)
        }
        text.family("jobwire_rate_limited_total", .counter, "Calls refused with RATE_LIMITED.")
        text.sample("jobwire_rate_limited_total", rateLimited)

        text.family("jobwire_connections", .gauge, "Open connections, by port.")
        text.sample("jobwire_connections", [("port", "binary")], stats.connections.load(ordering: .relaxed))
        text.family("jobwire_open_streams", .gauge, "Calls in progress on the binary port, watches included.")
        text.sample("jobwire_open_streams", [("port", "binary")], stats.streams.load(ordering: .relaxed))

        let watches = registry.openWatches()
        text.family("jobwire_watches", .gauge, "Open watches on every port: one job's (WatchJob) and list-watches (WatchJobs).")
        text.sample("jobwire_watches", [("kind", "job")], watches.total - watches.listWatches)
        text.sample("jobwire_watches", [("kind", "list")], watches.listWatches)
        text.family("jobwire_jobs", .gauge, "Jobs the registry holds, of every tenant and status.")
        text.sample("jobwire_jobs", registry.jobCount)
        let reaped = registry.reapedTotals()
        text.family("jobwire_lease_expiries_total", .counter, "Jobs whose worker's lease ran out (failed or cancelled by the server).")
        text.sample("jobwire_lease_expiries_total", reaped.leasesExpired)
        text.family("jobwire_jobs_expired_total", .counter, "Ended jobs removed after their retention.")
        text.sample("jobwire_jobs_expired_total", reaped.jobsExpired)

        text.family("jobwire_store_up", .gauge, "1 while the store commits; 0 once it has stopped (the server is NOT_SERVING).")
        text.sample("jobwire_store_up", store.stoppedBecause == nil ? 1 : 0)
        store.writeMetrics(into: &text)

        for source in metricsSources.withLock({ $0 }) { source(&text) }
        return text.text
    }
}
