/// When a message is tried again after a failure (a non-2xx answer other
/// than 410, a timeout, a refused connection): Standard Webhooks' schedule,
/// counted from the previous attempt — at once, then after 5 s, 5 min,
/// 30 min, 2 h, 5 h, 10 h and 10 h, about 28 hours in all; each wait but the
/// first stretched or shortened by up to a fifth at random, so endpoints
/// that failed together do not all retry in the same second. After the last
/// attempt the message is given up (kept in the deliveries list, and
/// redeliverable by hand).
public struct WebhookRetrySchedule: Sendable, Equatable {
    /// Waits before each attempt, in milliseconds; the first is the first delivery.
    public var delaysMs: [Int64]
    /// How much of each wait is random, either way (0.2: ±20 %).
    public var jitter: Double

    public static let standard = WebhookRetrySchedule(
        delaysMs: [0, 5_000, 5 * 60_000, 30 * 60_000, 2 * 3_600_000, 5 * 3_600_000, 10 * 3_600_000, 10 * 3_600_000],
        jitter: 0.2)

    public init(delaysMs: [Int64], jitter: Double) {
        self.delaysMs = delaysMs
        self.jitter = jitter
    }

    /// How many attempts a message gets.
    public var attempts: Int { delaysMs.count }

    /// The wait before attempt `number` (1 is the first delivery), or nil when
    /// the attempts are used up. `unit` in [0, 1) chooses the jitter.
    public func delayMs(beforeAttempt number: Int, unit: Double) -> Int64? {
        guard number >= 1, number <= delaysMs.count else { return nil }
        let base = delaysMs[number - 1]
        guard number > 1, base > 0 else { return base }
        let factor = 1 + jitter * (2 * min(max(unit, 0), 1) - 1)
        return Int64((Double(base) * factor).rounded())
    }

    /// The wait before attempt `number` with a random jitter.
    public func delayMs(beforeAttempt number: Int) -> Int64? {
        delayMs(beforeAttempt: number, unit: Double.random(in: 0..<1))
    }
}
