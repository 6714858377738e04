import JobWireProtocol

extension JobRegistry {
    /// What one reaper pass did.
    public struct ReapReport: Sendable, Equatable {
        public var leasesExpired = 0
        public var jobsExpired = 0
        public var tombstonesForgotten = 0
    }

    /// Fails or cancels jobs whose worker lease ran out, expires terminal jobs
    /// past their retention and forgets expired ones past the further period.
    /// Works in batches of at most `batch` changes per lock, so a large backlog
    /// never holds the lock for long.
    @discardableResult
    public func reap(now: Int64 = WallClock.nowMs(), batch: Int = 256) -> ReapReport {
        var report = ReapReport()
        while true {
            let done = state.withLock { state -> Bool in
                var budget = batch
                let retention = configuration.retentionMs
                let expiredRetention = configuration.expiredRetentionMs
                for (jobID, var record) in state.jobs where budget > 0 {
                    if record.summary.leaseExpiresAtMs != 0 && record.summary.leaseExpiresAtMs <= now,
                       let next = JobLifecycle.leaseExpiry(from: record.summary.status) {
                        // A job whose stored bytes do not decode cannot change; it stays as it is
                        // (reads answer from its bytes) and the failure is for the operator's check.
                        guard let event = try? record.commit(now: now, newLogLines: [], store: store, { job in
                            job.status = next
                            if next == .failed {
                                job.error = JobError(message: "the worker stopped renewing its lease",
                                                     failedTask: job.currentTask, reason: Reason.leaseExpired)
                            }
                            job.completedAtMs = now
                            job.expiresAtMs = now + retention
                            job.leaseExpiresAtMs = 0
                            job.etaSeconds = nil
                        }) else { continue }
                        budget -= 1
                        report.leasesExpired += 1
                        if let port = record.pooledPort {
                            state.ports?.release(port)
                            record.pooledPort = nil
                        }
                        state.jobs[jobID] = record
                        state.publish(event, of: record)
                        store.persist(record.storedChange(appendedLogLines: [], event: event)) { _ in }
                    } else if record.summary.status.isTerminal && record.summary.expiresAtMs != 0 && record.summary.expiresAtMs <= now {
                        budget -= 1
                        report.jobsExpired += 1
                        state.remove(jobID)
                        state.tombstones[jobID] = RegistryState.Tombstone(tenant: record.summary.tenant,
                                                                          forgetAtMs: now + expiredRetention)
                        store.persist(.expire(StoredTombstone(jobID: jobID, tenant: record.summary.tenant,
                                                              forgetAtMs: now + expiredRetention),
                                              sequence: record.sequence)) { _ in }
                    }
                }
                for (jobID, tombstone) in state.tombstones where budget > 0 && tombstone.forgetAtMs <= now {
                    budget -= 1
                    report.tombstonesForgotten += 1
                    state.tombstones.removeValue(forKey: jobID)
                    store.persist(.forget(jobID: jobID)) { _ in }
                }
                return budget > 0
            }
            if done { return report }
        }
    }
}
