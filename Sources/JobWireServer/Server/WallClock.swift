#if canImport(Glibc)
import Glibc
#endif

/// Time for job timestamps, leases and retention: Unix epoch milliseconds.
public enum WallClock {
    public static func nowMs() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}

/// Time for measuring durations (latencies, idle times): never goes back.
package enum MonotonicClock {
    package static func nowNs() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }

    package static func nowMs() -> Int64 { Int64(nowNs() / 1_000_000) }
}
