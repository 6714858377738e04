import JobWireProtocol
import JobWireSync
import Synchronization

/// Counters for Stats: calls, errors and latency per method, open
/// connections and streams. Updated from every event loop; each piece
/// has its own lock or atomic, held for a few instructions.
package final class ServerStats: Sendable {
    private struct MethodCounters {
        var calls: UInt64 = 0
        var errors: UInt64 = 0
        var latency = LatencyHistogram()
    }

    private let methods: Locked<[Method: MethodCounters]> = Locked([:])
    package let connections = Atomic<Int>(0)
    package let streams = Atomic<Int>(0)
    let startedAtNs = MonotonicClock.nowNs()

    package func record(_ method: Method, code: StatusCode, startedAtNs: UInt64) {
        let micros = (MonotonicClock.nowNs() &- startedAtNs) / 1_000
        methods.withLock { methods in
            methods[method, default: MethodCounters()].calls += 1
            if code != .ok { methods[method, default: MethodCounters()].errors += 1 }
            methods[method, default: MethodCounters()].latency.record(microseconds: micros)
        }
    }

    var uptimeMs: Int64 { Int64((MonotonicClock.nowNs() - startedAtNs) / 1_000_000) }

    /// Each method's latency histogram as Prometheus buckets (seconds), for the methods called so far.
    func latencyHistograms(bounds: [Double]) -> [(Method, PrometheusHistogram)] {
        let copies = methods.withLock { methods in Method.allCases.compactMap { method in methods[method].map { (method, $0.latency) } } }
        return copies.map { ($0.0, $0.1.prometheus(bounds: bounds, unitPerMicrosecond: 1e-6)) }
    }

    func methodStats() -> [MethodStats] {
        methods.withLock { methods in
            Method.allCases.compactMap { method in
                guard let counters = methods[method] else { return nil }
                return MethodStats(method: method.rawValue, calls: counters.calls, errors: counters.errors,
                                   p50Us: counters.latency.percentile(0.5), p99Us: counters.latency.percentile(0.99),
                                   p999Us: counters.latency.percentile(0.999))
            }
        }
    }
}
