import JobWireSync
import Synchronization

/// What a durable store measures of its commits, for Health, stats and
/// `/metrics`: how many, how long the last took, and histograms of their
/// duration and size. Written by the store's queue, read by anyone.
package final class CommitMetrics: Sendable {
    private let count = Atomic<Int>(0)
    private let lastNs = Atomic<UInt64>(0)
    /// Each commit's time (µs) and size (changes).
    private let histograms = Locked((duration: LatencyHistogram(), changes: LatencyHistogram()))
    /// Names the duration's span in `/metrics`' help text, e.g. "to the end of its sync to disk".
    private let durationHelp: String

    package init(durationHelp: String) {
        self.durationHelp = durationHelp
    }

    package var commits: Int { count.load(ordering: .relaxed) }
    package var lastCommitMicros: UInt64 { lastNs.load(ordering: .relaxed) / 1_000 }

    /// One commit of `changes` changes that took `elapsedNs`.
    package func record(elapsedNs: UInt64, changes: Int) {
        count.add(1, ordering: .relaxed)
        lastNs.store(elapsedNs, ordering: .relaxed)
        histograms.withLock { histograms in
            histograms.duration.record(microseconds: elapsedNs / 1_000)
            histograms.changes.record(microseconds: UInt64(changes))
        }
    }

    package func write(into text: inout PrometheusText) {
        let (duration, changes) = histograms.withLock { ($0.duration, $0.changes) }
        text.family("jobwire_store_commits_total", .counter, "Transactions the store committed.")
        text.sample("jobwire_store_commits_total", commits)
        text.family("jobwire_store_commit_duration_seconds", .histogram, durationHelp)
        text.histogram("jobwire_store_commit_duration_seconds",
                       duration.prometheus(bounds: JobService.latencyBounds, unitPerMicrosecond: 1e-6))
        text.family("jobwire_store_commit_changes", .histogram, "Changes (writes, webhook records) committed together in one transaction.")
        text.histogram("jobwire_store_commit_changes",
                       changes.prometheus(bounds: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], unitPerMicrosecond: 1))
    }
}
