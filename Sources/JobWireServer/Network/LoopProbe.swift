import JobWireProtocol
import JobWireSync

/// How responsive the event loops are, for detailed Health: each loop runs a
/// timer every ``intervalMs`` and records how late it fired. A loop kept busy
/// by one long task, or blocked, fires late or not at all; a healthy one
/// fires within about a millisecond (its timers have millisecond resolution).
final class LoopProbe: Sendable {
    private struct Sample {
        /// How late the last tick fired.
        var lastLagNs: UInt64 = 0
        /// The largest lateness among the last ticks (a window of ``window`` ticks).
        var recentLagsNs: [UInt64] = []
        var lastTickNs: UInt64
    }

    let intervalMs: Int
    /// Ticks whose lateness the report's maximum covers.
    private let window = 20
    private let loops: [EventLoop]
    private let samples: Locked<[Sample]>

    init(loops: [EventLoop], intervalMs: Int = 250) {
        self.loops = loops
        self.intervalMs = intervalMs
        let now = MonotonicClock.nowNs()
        samples = Locked(loops.map { _ in Sample(lastTickNs: now) })
    }

    /// Starts the ticks; they end with their loops.
    func start() {
        for index in loops.indices {
            schedule(index)
        }
    }

    private func schedule(_ index: Int) {
        let due = MonotonicClock.nowNs() + UInt64(intervalMs) * 1_000_000
        loops[index].schedule(afterMs: intervalMs) { [self] in
            let now = MonotonicClock.nowNs()
            let lag = now > due ? now - due : 0
            samples.withLock { samples in
                samples[index].lastLagNs = lag
                samples[index].lastTickNs = now
                samples[index].recentLagsNs.append(lag)
                if samples[index].recentLagsNs.count > window { samples[index].recentLagsNs.removeFirst() }
            }
            schedule(index)
        }
    }

    /// The `event_loops` component: WARNING when a tick fired more than
    /// 100 ms late within the window, FAILING when a loop has not ticked for
    /// 5 s (it is blocked).
    func health() -> ComponentHealth {
        let now = MonotonicClock.nowNs()
        let samples = self.samples.withLock { $0 }
        let maxLagNs = samples.map { $0.recentLagsNs.max() ?? 0 }.max() ?? 0
        let silentNs = samples.map { now > $0.lastTickNs ? now - $0.lastTickNs : 0 }.max() ?? 0
        var component = ComponentHealth(name: "event_loops", state: .ok, measures: [
            "loops": Double(samples.count),
            "max_lag_us": Double(maxLagNs / 1_000),
            "last_lag_us": Double((samples.map(\.lastLagNs).max() ?? 0) / 1_000),
            "probe_interval_ms": Double(intervalMs),
        ])
        if silentNs > 5_000_000_000 {
            component.state = .failing
            component.message = "an event loop has not run its timers for \(silentNs / 1_000_000) ms"
        } else if maxLagNs > 100_000_000 {
            component.state = .warning
            component.message = "an event loop ran a timer \(maxLagNs / 1_000_000) ms late"
        }
        return component
    }
}
