import JobWireProtocol

/// How a write's reply comes back: after the store made it durable.
public typealias WriteCompletion = @Sendable (Result<[UInt8], JobWireError>) -> Void

extension JobRegistry {
    /// Configure: creates a job (or replays the one an earlier request with
    /// the same request id created). Replies with an encoded ConfigureResponse.
    public func configure(_ request: ConfigureRequest, tenant: String, completion: @escaping WriteCompletion) throws(JobWireError) {
        try checkStore()
        let now = WallClock.nowMs()
        // Fingerprint of the canonical encoding, not of the bytes received: clients may
        // write map entries in any order, and the same request must not read as reused.
        // Only a request id is ever compared against it; without one, skip the encoding.
        let fingerprint = request.requestID.isEmpty ? 0 : FNV1a.hash(request.encode())
        let configuration = self.configuration
        // Outside the lock, like everything that needs no registry state.
        let (jobID, key) = JobIDGenerator.make()
        let job = Job(
            jobID: jobID, tenant: tenant, type: request.job.type, labels: request.job.labels,
            priority: request.job.priority, streamURL: request.job.streamURL, streamPort: request.job.streamPort,
            viewType: request.job.viewType, frequenciesList: request.job.frequenciesList,
            linesDt: request.job.linesDt, channelToStreamIndex: request.job.channelToStreamIndex,
            streamAmount: request.job.streamAmount, frequenciesAmount: request.job.frequenciesAmount,
            channelAmount: request.job.channelAmount, metadata: request.job.metadata, status: .pending,
            attempt: 1, createdAtMs: now, updatedAtMs: now,
            leaseExpiresAtMs: request.leaseTTLMs > 0 ? now + Int64(request.leaseTTLMs) : 0, revision: 1)
        // The record, its creation event and the reply are built before taking
        // the lock: encoding them was most of the time the lock was held, and
        // every event loop creates jobs through it. Only a job that takes a
        // port from the pool is built again under the lock, with its port.
        var creation = Creation(job: job, key: key, request: request, fingerprint: fingerprint, configuration: configuration)
        runAfterUnlock(try state.withLock { (state) throws(JobWireError) -> [DeferredReply] in
            if !request.requestID.isEmpty,
               let existingID = state.requestIDs[RegistryState.RequestKey(tenant: tenant, requestID: request.requestID)],
               let existing = state.jobs[existingID], !existing.isBeingRemoved {
                guard existing.requestFingerprint == fingerprint else {
                    throw JobWireError(.alreadyExists, Reason.requestIDReused,
                                       "request id \"\(request.requestID)\" was used for a different job")
                }
                // The first request's job as readers see it; while its creation still waits
                // for the store, the job it created, once the store has it.
                guard let shown = existing.visible ?? existing.oldestWaiting else {
                    throw JobWireError(.internal, Reason.internal, "job \(existingID) has no revision to show")
                }
                let reply = Self.configureResponse(shown.encodedJob, created: false)
                state.whenAccepted(existingID, revision: shown.summary.revision) { result in
                    completion(result.map { reply })
                }
                return state.takeAfterUnlock()
            }

            let limit = configuration.maxJobsPerTenant
            if limit > 0 && state.jobsPerTenant[tenant, default: 0] >= limit {
                throw JobWireError(.resourceExhausted, Reason.tooManyJobs,
                                   "the tenant has its maximum of \(limit) jobs; delete finished ones or wait for retention")
            }

            if state.ports != nil {
                var pooled = job
                var pooledPort: UInt16?
                if pooled.streamPort == 0 {
                    guard let port = state.ports?.allocate() else {
                        throw JobWireError(.resourceExhausted, Reason.noStreamPort, "every port of the stream port pool is in use")
                    }
                    pooledPort = port
                    pooled.streamPort = UInt32(port)
                    if pooled.streamURL.isEmpty { pooled.streamURL = configuration.streamHost }
                } else if let port = UInt16(exactly: pooled.streamPort), state.ports?.contains(port) == true {
                    guard state.ports?.claim(port) == true else {
                        throw JobWireError(.alreadyExists, Reason.streamPortInUse, "stream port \(port) belongs to another job")
                    }
                    pooledPort = port
                }
                if pooledPort != nil {
                    creation = Creation(job: pooled, key: key, request: request, fingerprint: fingerprint,
                                        configuration: configuration, pooledPort: pooledPort)
                }
            }

            var record = creation.record
            record.sequence = state.nextSequence
            state.nextSequence += 1
            record.awaitCreation()
            record.changeSequence = record.sequence
            let messages = outbox.map { outbox in
                outbox.hasEndpoints(tenant: tenant)
                    ? outbox.messages(previous: nil, current: creation.job, revision: 1, encodedJob: record.encodedJob, changedAtMs: now)
                    : []
            } ?? []
            let change = record.storedChange(appendedLogLines: [], event: creation.event, outbox: messages)
            let slot = state.insert(record, key: creation.key)
            let reply = creation.reply
            // What WatchJobs watchers are pushed, only when the tenant has some
            // (see ``JobRegistry/catchUpJobs``): the common create carries no copy of the job.
            let published = state.recordCreation(slot, tenant: tenant)
                ? JobsPush(sequence: record.sequence, before: nil, after: (record.summary, record.encodedJob)) : nil
            persist(change, in: &state, acceptance: (slot, 1),
                    accepted: { state in
                        state.accept(jobID, revision: 1)
                        if let published { state.publishJobs(tenant: tenant, jobID: jobID, published) }
                    },
                    completion: { [outbox] result in
                        if case .success = result, !messages.isEmpty { outbox?.committed(messages) }
                        completion(result.map { reply })
                    })
            return state.takeAfterUnlock()
        })
    }

    /// A new job's record (with its creation event in its history), that
    /// event, and the Configure reply, made from the job as it will be stored.
    private struct Creation {
        let job: Job
        var record: JobRecord
        let key: JobKey
        let event: StoredEvent
        let reply: [UInt8]

        init(job: Job, key: JobKey, request: ConfigureRequest, fingerprint: UInt64,
             configuration: RegistryConfiguration, pooledPort: UInt16? = nil) {
            self.key = key
            self.job = job
            record = JobRecord(job: job, sequence: 0, requestID: request.requestID, requestFingerprint: fingerprint,
                               leaseTTLMs: request.leaseTTLMs, pooledPort: pooledPort,
                               capacities: JobRecord.Capacities(configuration))
            event = StoredEvent(
                revision: job.revision,
                encodedEvent: WatchEvents.encode(type: .change, revision: job.revision, encodedJob: record.encodedJob,
                                                 logLines: []),
                isStatusTransition: true)
            record.recordCreation(event)
            reply = JobRegistry.configureResponse(record.encodedJob, created: true)
        }
    }

    /// Cancel: best-effort and idempotent. Replies with the encoded Job.
    public func cancel(_ request: CancelRequest, tenant: String, completion: @escaping WriteCompletion) throws(JobWireError) {
        let now = WallClock.nowMs()
        try mutate(request.jobID, tenant: tenant, now: now, completion: completion) { (record, _) throws(JobWireError) -> Change? in
            switch JobLifecycle.cancel(from: record.summary.status, leaseIsLive: record.leaseIsLive(now: now)) {
            case .unchanged:
                return nil
            case .cancelling:
                return Change { job in
                    job.status = .cancelling
                    job.cancelReason = request.reason
                }
            case .cancelled:
                return Change { job in
                    job.status = .cancelled
                    job.cancelReason = request.reason
                }
            }
        }
    }

    /// UpdateJob: the worker's report. Replies with the encoded Job.
    public func update(_ request: UpdateJobRequest, tenant: String, completion: @escaping WriteCompletion) throws(JobWireError) {
        let now = WallClock.nowMs()
        try mutate(request.jobID, tenant: tenant, now: now, completion: completion) { (record, _) throws(JobWireError) -> Change? in
            try Self.checkRevision(request.expectedRevision, of: record)
            let newStatus = try JobLifecycle.workerTransition(from: record.summary.status, to: request.status)
            let finalStatus = newStatus ?? record.summary.status
            if request.result != nil && finalStatus != .completed {
                throw JobWireError(.invalidArgument, Reason.fieldNotAllowed, "a result goes with status COMPLETED only")
            }
            if request.error != nil && finalStatus != .failed {
                throw JobWireError(.invalidArgument, Reason.fieldNotAllowed, "an error goes with status FAILED only")
            }
            let leaseTTL = request.leaseTTLMs > 0 ? request.leaseTTLMs : record.leaseTTLMs
            record.leaseTTLMs = leaseTTL
            return Change(logLines: request.logLines) { job in
                if let newStatus { job.status = newStatus }
                if let progress = request.progress { job.progress = progress }
                if let task = request.currentTask { job.currentTask = task }
                if let eta = request.etaSeconds { job.etaSeconds = eta < 0 ? nil : eta }
                if let result = request.result { job.result = result }
                if let error = request.error { job.error = error }
                if leaseTTL > 0 { job.leaseExpiresAtMs = now + Int64(leaseTTL) }
            }
        }
    }

    /// DeleteJob: forgets the job; its watchers end with JOB_DELETED.
    /// Writes see the job gone at once; readers and watchers keep it until
    /// the store accepted the delete.
    public func delete(_ request: DeleteJobRequest, tenant: String, completion: @escaping WriteCompletion) throws(JobWireError) {
        try checkStore()
        runAfterUnlock(try state.withLock { (state) throws(JobWireError) -> [DeferredReply] in
            let jobID = request.jobID
            var record: JobRecord
            do throws(JobWireError) {
                record = try state.lookup(jobID, tenant: tenant)
            } catch {
                guard state.deferError(error, of: jobID, tenant: tenant, completion: completion) else { throw error }
                return state.takeAfterUnlock()
            }
            let sequence = record.sequence
            let shown = record.visible?.summary
            record.awaitRemoval()
            state.jobs[jobID] = record
            // Finishing the delete needs the lock.
            state.jobs.slot(jobID)?.requireLock()
            let reply = DeleteJobResponse(revision: record.summary.revision).encode()
            let removal = state.recordRemoval(of: jobID, tenant: tenant)
            let stored = StoredRemoval(sequence: removal.sequence, tenant: tenant, jobID: jobID)
            persist(.remove(jobID: jobID, sequence: sequence, removal: stored), in: &state,
                    accepted: { state in
                        removal.mark.accepted = true
                        state.publishJobs(tenant: tenant, jobID: jobID,
                                          JobsPush(sequence: removal.sequence, before: shown, after: nil))
                        if state.jobs[jobID]?.sequence == sequence { state.remove(jobID) }
                        state.releaseWaiters(of: jobID)
                        state.notify(jobID, .end(Status(code: .notFound, reason: Reason.jobDeleted,
                                                        message: "job \(jobID) was deleted")))
                        state.removeWatchers(of: jobID)
                    },
                    completion: { result in completion(result.map { reply }) })
            if let horizon = state.pruneRemovals(keeping: configuration.retainedRemovals) {
                persist(.pruneRemovals(through: horizon), in: &state, accepted: { _ in }, completion: { _ in })
            }
            return state.takeAfterUnlock()
        })
    }

    /// A change to apply to a job: the edit and the log lines it appends.
    struct Change {
        var logLines: [String] = []
        var edit: (inout Job) -> Void

        init(logLines: [String] = [], edit: @escaping (inout Job) -> Void) {
            self.logLines = logLines
            self.edit = edit
        }
    }

    /// A conditional write's check: `expected` (0: none) is the job's revision.
    static func checkRevision(_ expected: UInt64, of record: JobRecord) throws(JobWireError) {
        if expected != 0 && expected != record.summary.revision {
            throw JobWireError(.aborted, Reason.revisionMismatch,
                               "the job is at revision \(record.summary.revision), not \(expected)")
        }
    }

    /// The shared path of every caller's change to an existing job: look it up,
    /// let `decide` validate and describe the change (nil: reply with the job
    /// unchanged), then ``apply(_:to:now:in:completion:)`` it. `decide` may
    /// also take what the change needs from the registry (a stream port).
    func mutate(_ jobID: String, tenant: String, now: Int64, completion: @escaping WriteCompletion,
                _ decide: (inout JobRecord, inout RegistryState) throws(JobWireError) -> Change?) throws(JobWireError) {
        try checkStore()
        runAfterUnlock(try state.withLock { (state) throws(JobWireError) -> [DeferredReply] in
            do throws(JobWireError) {
                var record = try state.lookup(jobID, tenant: tenant)
                if let change = try decide(&record, &state) {
                    try apply(change, to: &record, now: now, in: &state, completion: completion)
                } else {
                    // Nothing changes: the answer is the job as the store has it, once it has it all.
                    let reply = record.encodedJob
                    state.whenAccepted(jobID, revision: record.summary.revision) { result in completion(result.map { reply }) }
                }
            } catch {
                guard state.deferError(error, of: jobID, tenant: tenant, completion: completion) else { throw error }
            }
            return state.takeAfterUnlock()
        })
    }

    /// The one way a change enters a job, whether a caller's write or the
    /// reaper's lease expiry makes it: commit it (a new revision), settle what
    /// a terminal state implies (completion and expiry times, no lease, no ETA,
    /// the pooled port back), store the record, persist, publish to watchers once
    /// durable, and complete with the job's encoding.
    ///
    /// Called under the lock (`state` is the locked state). Throws, leaving
    /// the registry unchanged, when the job's stored bytes cannot be read.
    func apply(_ change: Change, to record: inout JobRecord, now: Int64, in state: inout RegistryState,
               completion: @escaping WriteCompletion) throws(JobWireError) {
        let retention = configuration.retentionMs
        let watched = state.isWatched(record.summary.tenant)
        let before = watched ? record.summary : nil
        let statusBefore = record.summary.status
        let outbox = self.outbox?.hasEndpoints(tenant: record.summary.tenant) == true ? self.outbox : nil
        var jobs: (previous: Job, current: Job)?
        let event = try record.commit(now: now, newLogLines: change.logLines, store: store) { job in
            let previous = outbox == nil ? nil : job
            change.edit(&job)
            if job.status.isTerminal {
                job.completedAtMs = now
                job.expiresAtMs = now + retention
                job.leaseExpiresAtMs = 0
                job.etaSeconds = nil
            }
            if let previous { jobs = (previous, job) }
        }
        let messages = jobs.map { jobs in
            outbox?.messages(previous: jobs.previous, current: jobs.current, revision: event.revision,
                             encodedJob: record.encodedJob, changedAtMs: now) ?? []
        } ?? []
        if record.summary.status.isTerminal, let port = record.pooledPort {
            state.ports?.release(port)
            record.pooledPort = nil
        }
        state.replace(record)
        let jobID = record.summary.jobID
        let tenant = record.summary.tenant
        let reply = record.encodedJob
        let terminal = record.summary.status.isTerminal
        let slot = state.jobs.slot(jobID)
        if let slot {
            record.changeSequence = state.recordChange(slot, tenant: tenant, revision: event.revision)
            if record.summary.status != statusBefore {
                state.tenants[tenant]?.noteStatus(record.summary.status, of: slot)
            }
        }
        let published = watched
            ? JobsPush(sequence: record.changeSequence, before: before, after: (record.summary, record.encodedJob)) : nil
        persist(record.storedChange(appendedLogLines: change.logLines, event: event, outbox: messages), in: &state,
                acceptance: slot.map { ($0, event.revision) },
                accepted: { state in
                    state.accept(jobID, revision: event.revision)
                    state.publish(event, jobID: jobID, terminal: terminal)
                    if let published { state.publishJobs(tenant: tenant, jobID: jobID, published) }
                },
                completion: { result in
                    if case .success = result, !messages.isEmpty { outbox?.committed(messages) }
                    completion(result.map { reply })
                })
    }

    static func configureResponse(_ encodedJob: [UInt8], created: Bool) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(encodedJob.count + 8)
        ProtobufWriter.appendLengthDelimited(WireFields.ConfigureResponse.job, encodedJob, to: &bytes)
        ProtobufWriter.appendVarintField(WireFields.ConfigureResponse.created, created ? 1 : 0, to: &bytes)
        return bytes
    }
}
