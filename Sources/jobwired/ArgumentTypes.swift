import ArgumentParser
import JobWireServer

/// `--stream-ports LOW-HIGH`.
struct PortRangeArgument: ExpressibleByArgument, Sendable {
    let range: ClosedRange<UInt16>

    init?(argument: String) {
        let parts = argument.split(separator: "-")
        guard parts.count == 2, let low = UInt16(parts[0]), let high = UInt16(parts[1]), low >= 1, low <= high else {
            return nil
        }
        range = low...high
    }
}

/// `--rate-limit RATE` or `RATE/BURST` (calls per second; burst defaults to the rate).
struct RateLimitArgument: ExpressibleByArgument, Sendable {
    let limit: RateLimit

    init?(argument: String) {
        let parts = argument.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let rate = Double(parts[0]), rate > 0, rate.isFinite else { return nil }
        var burst: Double?
        if parts.count == 2 {
            guard let value = Double(parts[1]), value >= 1, value.isFinite else { return nil }
            burst = value
        }
        limit = RateLimit(perSecond: rate, burst: burst)
    }
}
