import JobWireProtocol

extension JobRegistry {
    /// Open watches of every tenant, both kinds, and of those the list-watches (WatchJobs).
    public func openWatches() -> (total: Int, listWatches: Int) {
        state.withLock { state in
            (state.watchesPerTenant.values.reduce(0, +), state.jobsWatchers.values.reduce(0) { $0 + $1.count })
        }
    }

    /// Leases the reaper found expired, and ended jobs it removed after their retention, since start.
    public func reapedTotals() -> (leasesExpired: UInt64, jobsExpired: UInt64) {
        (leasesExpiredTotal.load(ordering: .relaxed), jobsExpiredTotal.load(ordering: .relaxed))
    }

    /// Stats' job figures for one tenant: what readers see of its jobs
    /// created in a range, as 003's statistics endpoint reports them.
    public struct JobStatistics: Sendable, Equatable {
        /// One entry per status that has jobs, in status order.
        public var counts: [StatusCount] = []
        public var total: UInt64 = 0
        /// COMPLETED / (COMPLETED + FAILED + CANCELLED); 0 when none finished.
        public var successRate: Double = 0
        /// Mean creation-to-completion time of the COMPLETED jobs; 0 when none.
        public var averageRunTimeMs: Double = 0
    }

    /// The figures of `tenant`'s jobs created in `[createdAfterMs, createdBeforeMs)`
    /// (0: no bound), in one pass over the tenant's jobs. Jobs past their
    /// retention are left out, as ListJobs leaves them out.
    public func statistics(tenant: String, createdAfterMs: Int64 = 0, createdBeforeMs: Int64 = 0) -> JobStatistics {
        state.withLock { state in
            var counts = [UInt64](repeating: 0, count: JobStatus.allCases.count)
            var runTimeMs: Double = 0
            let now = WallClock.nowMs()
            state.tenants[tenant]?.scan(statusMask: 0, backwards: false) { slot in
                guard let job = slot.visibleFigures() else { return }
                if createdAfterMs != 0 && job.createdAtMs < createdAfterMs { return }
                if createdBeforeMs != 0 && job.createdAtMs >= createdBeforeMs { return }
                if JobRecord.isPastRetention(status: job.status, expiresAtMs: job.expiresAtMs, nowMs: now) { return }
                counts[Int(job.status.rawValue)] += 1
                if job.status == .completed {
                    runTimeMs += Double(max(0, job.completedAtMs - job.createdAtMs))
                }
            }
            var statistics = JobStatistics()
            for status in JobStatus.allCases where counts[Int(status.rawValue)] > 0 {
                statistics.counts.append(StatusCount(status: status, count: counts[Int(status.rawValue)]))
            }
            statistics.total = counts.reduce(0, +)
            let completed = counts[Int(JobStatus.completed.rawValue)]
            let finished = completed + counts[Int(JobStatus.failed.rawValue)] + counts[Int(JobStatus.cancelled.rawValue)]
            statistics.successRate = finished == 0 ? 0 : Double(completed) / Double(finished)
            statistics.averageRunTimeMs = completed == 0 ? 0 : runTimeMs / Double(completed)
            return statistics
        }
    }
}
