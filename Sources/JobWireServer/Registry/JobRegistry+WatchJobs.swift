import JobWireProtocol

/// A WatchJobs watcher, registered with the registry for its whole life.
///
/// While *catching up* (its snapshot, a resume, or after it fell behind) its
/// connection reads the tenant's change log at its own pace
/// (``JobRegistry/catchUpJobs(watcherID:tenant:from:since:snapshot:pageSize:maxBytes:)``);
/// once *live*, the registry pushes each change to it as the store accepts
/// it. Either way it costs the server a position, never a queue.
struct JobsWatcher {
    let sink: any WatchSink
    let streamID: UInt32
    let filter: JobFilter
    var live = false
}

/// What a change pushes to a tenant's WatchJobs watchers once accepted: its
/// number and the job before and after it (nil before a creation, nil after a
/// removal). Made at the change, under the lock, only when the tenant has
/// watchers.
struct JobsPush: Sendable {
    let sequence: UInt64
    let before: JobSummary?
    let after: (summary: JobSummary, encodedJob: [UInt8])?
}

extension JobRegistry {
    /// How a WatchJobs stream starts.
    package struct JobsWatchStart: Sendable {
        package let watcherID: UInt64
        /// The position to catch up from (0 for a snapshot).
        package let position: UInt64
        /// For a snapshot, the last change number made before it started: later
        /// changes may concern jobs it already sent (see ``JobRegistry/catchUpJobs(watcherID:tenant:from:since:snapshot:pageSize:maxBytes:)``).
        package let head: UInt64
        /// Whether the catch-up is a snapshot (no cursor, or a resync).
        package let snapshot: Bool
        /// The cursor could not be resumed: a RESYNC event goes first.
        package let resync: Bool
        package let epoch: String
    }

    /// What one step of a catch-up produced.
    package struct JobsCatchUp: Sendable {
        /// Encoded `JobsEvent`s, in order.
        package var events: [[UInt8]] = []
        /// The position reached: the cursor of the last event.
        package var position: UInt64
        /// The watcher is live now (a SYNCED event is the last of `events`).
        package var live = false
        /// The watcher is gone (ended meanwhile).
        package var ended = false
        /// Not live yet, and nothing more to read now: a change made before
        /// the tenant had watchers waits for the store; catch up again shortly.
        package var waiting = false
    }

    /// WatchJobs: checks the request, resolves its cursor and registers the
    /// watcher (catching up, not yet live).
    func watchJobs(_ request: WatchJobsRequest, tenant: String, sink: any WatchSink,
                   streamID: UInt32) throws(JobWireError) -> JobsWatchStart {
        let filter = request.filter
        guard filter.pageToken.isEmpty, filter.orderBy == .created, !filter.ascending else {
            throw JobWireError(.invalidArgument, Reason.fieldNotAllowed,
                               "WatchJobsRequest.filter: page_token, order_by and ascending do not apply to a watch; resume with cursor")
        }
        let cursor = request.cursor.isEmpty ? nil : try ChangeCursor(parsing: request.cursor)
        try checkStore()
        return try state.withLock { (state) throws(JobWireError) -> JobsWatchStart in
            let limit = configuration.maxWatchesPerTenant
            if limit > 0 && state.watchesPerTenant[tenant, default: 0] >= limit {
                throw JobWireError(.resourceExhausted, Reason.tooManyWatches, "the tenant has its maximum of \(limit) open watches")
            }
            var position: UInt64 = 0
            var resync = false
            if let cursor {
                // Another history, a position this history never reached, or one whose removals are gone.
                if cursor.epoch != state.epoch || cursor.position >= state.nextSequence || cursor.position < state.removalHorizon {
                    resync = true
                } else {
                    position = cursor.position
                }
            }
            let watcherID = state.nextWatcherID
            state.nextWatcherID += 1
            if state.jobsWatchers[tenant] == nil { state.jobsWatchedSince[tenant] = state.nextSequence }
            state.jobsWatchers[tenant, default: [:]][watcherID] = JobsWatcher(sink: sink, streamID: streamID,
                                                                              filter: JobFilter(filter))
            state.watchesPerTenant[tenant, default: 0] += 1
            return JobsWatchStart(watcherID: watcherID, position: position, head: state.nextSequence - 1,
                                  snapshot: cursor == nil || resync, resync: resync, epoch: state.epoch)
        }
    }

    /// One step of a watcher's catch-up: the tenant's changes after
    /// `position`, as events of at most about `maxBytes`, in change order.
    /// A snapshot sends the matching jobs in SNAPSHOT pages of `pageSize`;
    /// `since` is the last change number made before it started, and a change
    /// after it may concern a job an earlier step already sent, so such a job
    /// that no longer matches, or was removed, is sent as LEFT (the snapshot
    /// spans steps, and the log moves meanwhile). A resume sends each job
    /// changed since `since` as CHANGED (it matches) or LEFT (it does not, or
    /// it was removed; jobs created after `since`, which the client cannot
    /// hold, are left out). When the step reaches the end
    /// of the log, or a change the store has not accepted yet, the watcher
    /// turns live in the same critical section (SYNCED ends the events): the
    /// changes from there on are pushed to it as they are accepted, in order.
    func catchUpJobs(watcherID: UInt64, tenant: String, from position: UInt64, since: UInt64, snapshot: Bool,
                     pageSize: Int, maxBytes: Int) -> JobsCatchUp {
        state.withLock { state in
            guard let watcher = state.jobsWatchers[tenant]?[watcherID] else {
                return JobsCatchUp(position: position, ended: true)
            }
            let epoch = state.epoch
            var step = JobsCatchUp(position: position)
            var bytes = 0
            var page: [[UInt8]] = []
            func cursor(_ position: UInt64) -> String { ChangeCursor(epoch: epoch, position: position).encoded }
            func flushPage() {
                guard !page.isEmpty else { return }
                let event = JobsEvents.encode(type: .snapshot, cursor: cursor(step.position), encodedJobs: page)
                bytes += event.count
                step.events.append(event)
                page.removeAll()
            }

            let entries = state.changes[tenant]?.entries ?? []
            var index = state.changes[tenant]?.firstIndex(after: position) ?? 0
            var stoppedAt: UInt64?
            while index < entries.count {
                if bytes >= maxBytes {
                    flushPage()
                    return step
                }
                let entry = entries[index]
                index += 1
                guard entry.isCurrent, !(entry.isRemoval && entry.sequence <= state.removalHorizon) else { continue }
                guard entry.isAccepted else {
                    stoppedAt = entry.sequence
                    break
                }
                step.position = entry.sequence
                // In a snapshot, only changes made after it started can concern a job it sent.
                let mayHaveBeenSent = !snapshot || entry.sequence > since
                switch entry.kind {
                case .removal(let jobID, _):
                    guard mayHaveBeenSent else { continue }
                    flushPage()
                    let event = JobsEvents.encode(type: .left, cursor: cursor(entry.sequence), jobID: jobID)
                    bytes += event.count
                    step.events.append(event)
                case .change(let slot, _):
                    guard let visible = slot.record.visible else { continue }
                    let matches = watcher.filter.matches(visible.summary)
                    if snapshot && matches {
                        page.append(visible.encodedJob)
                        bytes += visible.encodedJob.count
                        if page.count >= pageSize { flushPage() }
                    } else if snapshot {
                        guard mayHaveBeenSent else { continue }
                        flushPage()
                        let event = JobsEvents.encode(type: .left, cursor: cursor(entry.sequence),
                                                      encodedJobs: [visible.encodedJob], jobID: visible.summary.jobID)
                        bytes += event.count
                        step.events.append(event)
                    } else if matches || slot.record.sequence <= since {
                        let event = JobsEvents.encode(type: matches ? .changed : .left, cursor: cursor(entry.sequence),
                                                      encodedJobs: [visible.encodedJob], jobID: visible.summary.jobID)
                        bytes += event.count
                        step.events.append(event)
                    }
                }
            }
            flushPage()
            // A change the store has not accepted, made before the tenant had
            // watchers, carries nothing to push: it is read from the log once
            // accepted, so the watcher cannot turn live before it.
            if let stoppedAt, stoppedAt < state.jobsWatchedSince[tenant] ?? .max {
                step.waiting = true
                return step
            }
            // Live from here: every change after the last one read reaches the
            // watcher from the store's acceptance, through the lock. Changes
            // already handed to the store must come that way too.
            step.position = stoppedAt.map { $0 - 1 } ?? max(step.position, state.nextSequence - 1)
            for entry in entries[max(0, index - 1)...] where !entry.isRemoval && !entry.isAccepted {
                if case .change(let slot, _) = entry.kind { slot.requireLock() }
            }
            state.jobsWatchers[tenant]?[watcherID]?.live = true
            step.events.append(JobsEvents.encode(type: .synced, cursor: cursor(step.position)))
            step.live = true
            return step
        }
    }

    /// The watcher fell behind: stop pushing to it; it catches up from its
    /// own position once its connection has room again.
    func pauseJobsWatch(watcherID: UInt64, tenant: String) {
        state.withLock { state in
            state.jobsWatchers[tenant]?[watcherID]?.live = false
        }
    }

    func unwatchJobs(watcherID: UInt64, tenant: String) {
        state.withLock { state in
            guard state.jobsWatchers[tenant]?.removeValue(forKey: watcherID) != nil else { return }
            if state.jobsWatchers[tenant]?.isEmpty == true {
                state.jobsWatchers.removeValue(forKey: tenant)
                state.jobsWatchedSince.removeValue(forKey: tenant)
            }
            if let count = state.watchesPerTenant[tenant], count > 1 {
                state.watchesPerTenant[tenant] = count - 1
            } else {
                state.watchesPerTenant.removeValue(forKey: tenant)
            }
        }
    }
}

extension RegistryState {
    /// At start-up: the store's history and its retained removals.
    mutating func restoreChangeLog(_ log: StoredChangeLog) throws(JobWireError) {
        epoch = log.epoch
        removalHorizon = log.horizon
        for removal in log.removals where removal.sequence > log.horizon {
            let mark = ChangeEntry.RemovalMark()
            mark.accepted = true
            changes[removal.tenant, default: TenantChanges()]
                .append(ChangeEntry(sequence: removal.sequence, removedJobID: removal.jobID, mark: mark))
            removals.append(removal.sequence)
            nextSequence = max(nextSequence, removal.sequence + 1)
        }
        nextSequence = max(nextSequence, log.horizon + 1)
        for tenant in changes.keys {
            changes[tenant]?.sortAfterRestore()
        }
    }

    /// Numbers a change to the job in `slot` (made under the lock, not yet
    /// accepted) and records it in its tenant's log. With WatchJobs watchers
    /// on the tenant (``isWatched(_:)``), its acceptance will come through the
    /// lock, to reach them.
    mutating func recordChange(_ slot: JobSlot, tenant: String, revision: UInt64) -> UInt64 {
        let sequence = nextSequence
        nextSequence += 1
        let replaced = slot.record.changeSequence != 0
        slot.record.changeSequence = sequence
        changes[tenant, default: TenantChanges()].append(ChangeEntry(sequence: sequence, slot: slot, revision: revision))
        if replaced { changes[tenant]?.noteStale(retainedRemovalsFrom: removalHorizon) }
        if jobsWatchers[tenant] != nil { slot.requireLock() }
        return sequence
    }

    /// Records a new job's creation, numbered by its creation sequence.
    /// Returns whether the tenant has WatchJobs watchers (then the change's
    /// acceptance comes through the lock, and must carry what they are pushed).
    mutating func recordCreation(_ slot: JobSlot, tenant: String) -> Bool {
        slot.record.changeSequence = slot.record.sequence
        changes[tenant, default: TenantChanges()].append(ChangeEntry(sequence: slot.record.sequence, slot: slot, revision: 1))
        guard jobsWatchers[tenant] != nil else { return false }
        slot.requireLock()
        return true
    }

    /// Whether the tenant has WatchJobs watchers.
    func isWatched(_ tenant: String) -> Bool { jobsWatchers[tenant] != nil }

    /// Numbers a job's removal and records it; the mark is set once the store accepted it.
    mutating func recordRemoval(of jobID: String, tenant: String) -> (sequence: UInt64, mark: ChangeEntry.RemovalMark) {
        let sequence = nextSequence
        nextSequence += 1
        let mark = ChangeEntry.RemovalMark()
        changes[tenant, default: TenantChanges()].append(ChangeEntry(sequence: sequence, removedJobID: jobID, mark: mark))
        changes[tenant]?.noteStale(retainedRemovalsFrom: removalHorizon)
        removals.append(sequence)
        return (sequence, mark)
    }

    /// The removals beyond those retained, to forget: the new horizon, or nil
    /// when nothing is due. Pruned in batches, each one store change.
    mutating func pruneRemovals(keeping retained: Int) -> UInt64? {
        let count = removals.count - removalsHead
        guard count > retained + 1024 else { return nil }
        removalsHead += count - retained
        removalHorizon = removals[removalsHead - 1]
        if removalsHead > removals.count / 2 {
            removals.removeFirst(removalsHead)
            removalsHead = 0
        }
        return removalHorizon
    }

    /// Pushes an accepted change to the tenant's live WatchJobs watchers:
    /// ENTERED, CHANGED or LEFT for each, by whether the job matched its
    /// filter before and after. Each kind of event is encoded once, whatever
    /// the number of watchers.
    func publishJobs(tenant: String, jobID: String, _ push: JobsPush) {
        guard let watchers = jobsWatchers[tenant] else { return }
        let (before, after) = (push.before, push.after)
        let cursor = ChangeCursor(epoch: epoch, position: push.sequence).encoded
        var encoded: [JobsEventType: [UInt8]] = [:]
        for (watcherID, watcher) in watchers where watcher.live {
            let matchedBefore = before.map { watcher.filter.matches($0) } ?? false
            let matchesNow = after.map { watcher.filter.matches($0.summary) } ?? false
            let type: JobsEventType
            switch (matchedBefore, matchesNow) {
            case (false, true): type = .entered
            case (true, true): type = .changed
            case (true, false): type = .left
            case (false, false): continue
            }
            let event: [UInt8]
            if let made = encoded[type] {
                event = made
            } else {
                event = JobsEvents.encode(type: type, cursor: cursor, encodedJobs: after.map { [$0.encodedJob] } ?? [],
                                          jobID: jobID)
                encoded[type] = event
            }
            watcher.sink.deliver(streamID: watcher.streamID, watcherID: watcherID,
                                 .jobs(sequence: push.sequence, encodedEvent: event))
        }
    }
}
