/// Log-linear latency histogram in microseconds: exact below 16 µs, then 16
/// buckets per power of two (about 6 % resolution) up to ~2^40 µs. Fixed
/// memory, O(1) recording; percentiles read the bucket's upper bound. Any
/// other whole quantity (a commit's number of changes) records the same way.
package struct LatencyHistogram {
    private static let subBuckets = 16
    private static let powers = 40
    private var counts = [UInt64](repeating: 0, count: subBuckets * (powers + 1))
    private(set) var total: UInt64 = 0
    /// Of every recording, for Prometheus' `_sum`.
    private(set) var sumMicroseconds: UInt64 = 0

    package init() {}

    package mutating func record(microseconds: UInt64) {
        counts[Self.bucket(for: microseconds)] += 1
        total += 1
        sumMicroseconds &+= microseconds
    }

    /// Prometheus' buckets at `bounds` (in the unit of `unitMicroseconds`, e.g. 1e-6 for seconds): each counts the
    /// recordings whose bucket ends at or below it, so a recording within a fine bucket's width (at most 1/16) above
    /// a bound is counted at the next one.
    package func prometheus(bounds: [Double], unitPerMicrosecond: Double) -> PrometheusHistogram {
        var cumulative: [(bound: Double, count: UInt64)] = []
        cumulative.reserveCapacity(bounds.count)
        var seen: UInt64 = 0
        var index = 0
        for bound in bounds {
            let limit = bound / unitPerMicrosecond
            while index < counts.count && Double(Self.upperBound(of: index)) <= limit {
                seen += counts[index]
                index += 1
            }
            cumulative.append((bound, seen))
        }
        return PrometheusHistogram(cumulative: cumulative, sum: Double(sumMicroseconds) * unitPerMicrosecond, count: total)
    }

    /// The value at or below which `fraction` (0...1) of the recordings lie.
    func percentile(_ fraction: Double) -> UInt64 {
        guard total > 0 else { return 0 }
        let rank = max(1, UInt64((Double(total) * fraction).rounded(.up)))
        var seen: UInt64 = 0
        for (index, count) in counts.enumerated() {
            seen += count
            if seen >= rank { return Self.upperBound(of: index) }
        }
        return Self.upperBound(of: counts.count - 1)
    }

    static func bucket(for value: UInt64) -> Int {
        if value < UInt64(subBuckets) { return Int(value) }
        let power = 63 - value.leadingZeroBitCount  // >= 4
        let shift = power - 4
        let sub = Int((value >> UInt64(shift)) & UInt64(subBuckets - 1))
        return min((power - 3) * subBuckets + sub, subBuckets * (powers + 1) - 1)
    }

    static func upperBound(of bucket: Int) -> UInt64 {
        if bucket < subBuckets { return UInt64(bucket) }
        let power = bucket / subBuckets + 3
        let sub = UInt64(bucket % subBuckets)
        let shift = UInt64(power - 4)
        return ((UInt64(subBuckets) + sub + 1) << shift) - 1
    }
}
