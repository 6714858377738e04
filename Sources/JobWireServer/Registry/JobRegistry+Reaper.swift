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
    /// Only what the ``DeadlineQueue`` says is due is looked at, in batches of
    /// at most `batch` changes per lock, so a backlog never holds the lock for
    /// long and a pass with nothing due costs nothing.
    @discardableResult
    public func reap(now: Int64 = WallClock.nowMs(), batch: Int = 256) -> ReapReport {
        var report = ReapReport()
        // A stopped store takes no more changes; the server is on its way down.
        guard store.stoppedBecause == nil else { return report }
        while true {
            let (done, completions) = state.withLock { state -> (Bool, [DeferredReply]) in
                var budget = batch
                // Skipped entries (stale hints) cost too; bound them as well.
                var looked = 0
                while budget > 0 && looked < 4 * batch {
                    guard let entry = state.deadlines.popDue(now: now) else {
                        state.compactDeadlinesIfBloated()
                        return (true, state.takeAfterUnlock())
                    }
                    looked += 1
                    switch entry.kind {
                    case .tombstone:
                        guard let tombstone = state.tombstones[entry.jobID], tombstone.forgetAtMs == entry.atMs else { continue }
                        budget -= 1
                        report.tombstonesForgotten += 1
                        state.tombstones.removeValue(forKey: entry.jobID)
                        persist(.forget(jobID: entry.jobID), in: &state, accepted: { _ in }, completion: { _ in })
                    case .job:
                        guard var record = state.jobs[entry.jobID], record.queuedDeadlineMs == entry.atMs else { continue }
                        record.queuedDeadlineMs = 0
                        if reapJob(&record, now: now, state: &state, report: &report) {
                            budget -= 1
                        }
                    }
                }
                return (false, state.takeAfterUnlock())
            }
            runAfterUnlock(completions)
            if done {
                leasesExpiredTotal.add(UInt64(report.leasesExpired), ordering: .relaxed)
                jobsExpiredTotal.add(UInt64(report.jobsExpired), ordering: .relaxed)
                return report
            }
        }
    }

    /// Expires `record`'s lease or retention if due, else re-queues it at its
    /// real deadline. Returns whether it changed anything.
    private func reapJob(_ record: inout JobRecord, now: Int64, state: inout RegistryState,
                         report: inout ReapReport) -> Bool {
        let jobID = record.summary.jobID
        if record.summary.leaseExpiresAtMs != 0 && record.summary.leaseExpiresAtMs <= now,
           let next = JobLifecycle.leaseExpiry(from: record.summary.status) {
            let expiry = Change { job in
                job.status = next
                if next == .failed {
                    job.error = JobError(message: "the worker stopped renewing its lease",
                                         failedTask: job.currentTask, reason: Reason.leaseExpired)
                }
            }
            do {
                try apply(expiry, to: &record, now: now, in: &state, completion: { _ in })
            } catch {
                // A job whose stored bytes do not decode cannot change; it stays as it is
                // (reads answer from its bytes) and the failure is for the operator's check.
                state.jobs[jobID] = record
                return false
            }
            report.leasesExpired += 1
            return true
        }
        if record.summary.status.isTerminal && record.summary.expiresAtMs != 0 && record.summary.expiresAtMs <= now {
            report.jobsExpired += 1
            state.remove(jobID)
            let tenant = record.summary.tenant
            let tombstone = StoredTombstone(jobID: jobID, tenant: tenant, forgetAtMs: now + configuration.expiredRetentionMs)
            state.addTombstone(jobID, RegistryState.Tombstone(tenant: tombstone.tenant, forgetAtMs: tombstone.forgetAtMs))
            let removal = state.recordRemoval(of: jobID, tenant: tenant)
            let stored = StoredRemoval(sequence: removal.sequence, tenant: tenant, jobID: jobID)
            let shown = record.summary
            persist(.expire(tombstone, sequence: record.sequence, removal: stored), in: &state,
                    accepted: { state in
                        removal.mark.accepted = true
                        state.publishJobs(tenant: tenant, jobID: jobID, JobsPush(sequence: removal.sequence, before: shown, after: nil))
                    },
                    completion: { _ in })
            if let horizon = state.pruneRemovals(keeping: configuration.retainedRemovals) {
                persist(.pruneRemovals(through: horizon), in: &state, accepted: { _ in }, completion: { _ in })
            }
            return true
        }
        // Not due after all (renewed since it was queued): queue its real deadline.
        state.replace(record)
        return false
    }
}
