import JobWireProtocol

extension JobRegistry {
    /// Retry: a FAILED or CANCELLED job starts a new attempt under the same id
    /// (PENDING, `attempt` one higher, the ended attempt kept in
    /// `previous_attempts`, the attempt's progress, outcome, lease and expiry
    /// cleared; type, labels, priority and stream endpoint kept; the revision
    /// continues). A stream port from the pool, returned when the attempt
    /// ended, is taken again; if another job holds it now the retry is
    /// FAILED_PRECONDITION / STREAM_PORT_IN_USE. Replies with the encoded Job.
    public func retry(_ request: RetryRequest, tenant: String, completion: @escaping WriteCompletion) throws(JobWireError) {
        let now = WallClock.nowMs()
        let store = self.store
        try mutate(request.jobID, tenant: tenant, now: now, completion: completion) { (record, state) throws(JobWireError) -> Change? in
            try Self.checkRevision(request.expectedRevision, of: record)
            try JobLifecycle.retry(from: record.summary.status)
            // Loaded before the port is taken, so the commit that follows cannot fail and leave it taken.
            try record.materialize(from: store)
            if record.pooledPort == nil, let port = UInt16(exactly: record.summary.streamPort),
               state.ports?.contains(port) == true {
                guard state.ports?.claim(port) == true else {
                    throw JobWireError(.failedPrecondition, Reason.streamPortInUse,
                                       "the job's stream port \(port) belongs to another job now")
                }
                record.pooledPort = port
            }
            record.leaseTTLMs = 0
            return Change { job in
                let attempt = max(job.attempt, 1)
                job.previousAttempts.append(JobAttempt(attempt: attempt, status: job.status, error: job.error,
                                                       cancelReason: job.cancelReason, completedAtMs: job.completedAtMs))
                if job.previousAttempts.count > Limits.maxPreviousAttempts {
                    job.previousAttempts.removeFirst(job.previousAttempts.count - Limits.maxPreviousAttempts)
                }
                job.attempt = attempt + 1
                job.status = .pending
                job.progress = 0
                job.currentTask = ""
                job.etaSeconds = nil
                job.result = nil
                job.error = nil
                job.cancelReason = ""
                job.completedAtMs = 0
                job.expiresAtMs = 0
                job.leaseExpiresAtMs = 0
            }
        }
    }

    /// SetPriority: the priority of a job that has not ended; the same
    /// priority again changes nothing (no new revision). Replies with the encoded Job.
    public func setPriority(_ request: SetPriorityRequest, tenant: String,
                            completion: @escaping WriteCompletion) throws(JobWireError) {
        try mutate(request.jobID, tenant: tenant, now: WallClock.nowMs(), completion: completion) { (record, _) throws(JobWireError) -> Change? in
            try Self.checkRevision(request.expectedRevision, of: record)
            if record.summary.status.isTerminal {
                throw JobWireError(.failedPrecondition, Reason.jobTerminal,
                                   "the job is \(record.summary.status.name.uppercased()) and no longer changes")
            }
            guard record.summary.priority != request.priority else { return nil }
            return Change { job in job.priority = request.priority }
        }
    }
}
