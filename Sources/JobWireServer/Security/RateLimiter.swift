import JobWireProtocol
import JobWireSync
import Synchronization

/// Token buckets per key and per tenant. A call is admitted only when both
/// its key's and its tenant's bucket hold a token, and then takes one from
/// each; otherwise it is refused with how long until it would be admitted.
///
/// Shared by every connection; the buckets live under one Mutex (a few
/// arithmetic operations per call). Buckets exist only for keys and tenants
/// of the keys file (or the one development tenant), so the map is bounded.
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updatedNs: UInt64

        mutating func refill(_ limit: RateLimit, nowNs: UInt64) {
            let elapsed = Double(nowNs &- updatedNs) / 1e9
            tokens = min(limit.burst, tokens + elapsed * limit.perSecond)
            updatedNs = nowNs
        }

        /// Milliseconds until a token is there (0 when there is one now).
        func wait(_ limit: RateLimit) -> UInt32 {
            tokens >= 1 ? 0 : UInt32(((1 - tokens) / limit.perSecond * 1000).rounded(.up))
        }
    }

    private let keyRate: RateLimit?
    private let tenantRate: RateLimit?
    private let buckets = Locked<[String: Bucket]>([:])

    init(keyRate: RateLimit?, tenantRate: RateLimit?) {
        self.keyRate = keyRate
        self.tenantRate = tenantRate
    }

    var isActive: Bool { keyRate != nil || tenantRate != nil }

    /// nil when admitted; else the RATE_LIMITED error with `retry_after_ms`.
    func admit(_ principal: Principal, tenant: String, nowNs: UInt64 = MonotonicClock.nowNs()) -> JobWireError? {
        guard isActive else { return nil }
        var limits: [(name: String, limit: RateLimit)] = []
        if let keyRate, let keyID = principal.keyID { limits.append(("key " + keyID, keyRate)) }
        if let tenantRate { limits.append(("tenant " + tenant, tenantRate)) }
        return buckets.withLock { buckets -> JobWireError? in
            var wait: UInt32 = 0
            var limitedBy = ""
            for (name, limit) in limits {
                var bucket = buckets[name] ?? Bucket(tokens: limit.burst, updatedNs: nowNs)
                bucket.refill(limit, nowNs: nowNs)
                buckets[name] = bucket
                let needed = bucket.wait(limit)
                if needed > wait {
                    wait = needed
                    limitedBy = "the \(name) is over its rate of \(limit.perSecond) calls/s (burst \(Int(limit.burst)))"
                }
            }
            if wait > 0 {
                return JobWireError(.resourceExhausted, Reason.rateLimited, limitedBy, retryAfterMs: wait)
            }
            for (name, _) in limits {
                buckets[name]?.tokens -= 1
            }
            return nil
        }
    }
}
