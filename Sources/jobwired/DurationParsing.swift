import ArgumentParser
import JobWireServer

/// A duration flag: `500ms`, `30s`, `15m`, `24h`, `7d`; a bare number is seconds.
struct DurationArgument: ExpressibleByArgument, Sendable {
    let milliseconds: Int64

    init(milliseconds: Int64) {
        self.milliseconds = milliseconds
    }

    init?(argument: String) {
        let units: [(suffix: String, factor: Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000),
                                                         ("d", 86_400_000)]
        for (suffix, factor) in units where argument.hasSuffix(suffix) {
            let number = argument.dropLast(suffix.count)
            // "ms" also ends in "s": only accept a number before the suffix.
            guard let value = Int64(number), value >= 0 else { continue }
            milliseconds = value * factor
            return
        }
        guard let seconds = Int64(argument), seconds >= 0 else { return nil }
        milliseconds = seconds * 1000
    }

    var defaultValueDescription: String {
        if milliseconds % 86_400_000 == 0 { return "\(milliseconds / 86_400_000)d" }
        if milliseconds % 3_600_000 == 0 { return "\(milliseconds / 3_600_000)h" }
        if milliseconds % 60_000 == 0 { return "\(milliseconds / 60_000)m" }
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000)s" }
        return "\(milliseconds)ms"
    }
}

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
