import JobWireProtocol

extension JobRegistry {
    /// What a new watch sends first, and whether it goes on.
    public struct WatchStart: Sendable {
        /// Encoded `WatchEvent`s to send now, in order, with their revisions.
        package var events: [(revision: UInt64, encodedEvent: [UInt8])]
        /// Set when the watch was registered: pass it to ``unwatch(jobID:watcherID:)``.
        package var watcherID: UInt64?
        /// The last event carries a terminal status: the watch ends with OK after it.
        package var ended: Bool
    }

    /// WatchJob: the first events (snapshot, resumed history or resync) and,
    /// unless the job is already terminal, a registration that delivers every
    /// later change to `sink`. Both happen under one lock, so nothing falls
    /// between the first events and the deliveries.
    func watch(_ request: WatchJobRequest, tenant: String, sink: any WatchSink, streamID: UInt32) throws(JobWireError) -> WatchStart {
        try checkStore()
        return try state.withLock { (state) throws(JobWireError) -> WatchStart in
            // A watch starts from what the store accepted; later revisions reach it as they are
            // accepted, through the lock (asked for first, so none falls in between).
            state.jobs.slot(request.jobID)?.requireLock()
            let record = try state.loadedRecord(request.jobID, tenant: tenant, store: store)
            guard let visible = record.visible, let visibleBytes = record.visibleEncoded(logTail: request.logTail) else {
                throw JobWireError(.notFound, Reason.jobNotFound, "job \(request.jobID) not found")
            }
            let current = visible.summary.revision
            var events: [(revision: UInt64, encodedEvent: [UInt8])] = []
            let after = request.afterRevision

            func fullState(_ type: WatchEventType) -> (UInt64, [UInt8]) {
                (current, WatchEvents.encode(type: type, revision: current, encodedJob: visibleBytes, logLines: []))
            }

            if after == 0 {
                events.append(fullState(.snapshot))
            } else if after > current {
                // A revision this job never had (e.g. from before a restart of a
                // memory store): the client's state is not ours; replace it.
                events.append(fullState(.resync))
            } else if after < current {
                if let oldest = record.oldestEvent, oldest.revision <= after + 1 {
                    for event in record.events(after: after) where event.revision <= current {
                        events.append((event.revision, event.encodedEvent))
                    }
                } else {
                    events.append(fullState(.resync))
                }
            }

            if visible.summary.status.isTerminal {
                return WatchStart(events: events, watcherID: nil, ended: true)
            }
            let limit = configuration.maxWatchesPerTenant
            if limit > 0 && state.watchesPerTenant[tenant, default: 0] >= limit {
                throw JobWireError(.resourceExhausted, Reason.tooManyWatches, "the tenant has its maximum of \(limit) open watches")
            }
            let watcherID = state.nextWatcherID
            state.nextWatcherID += 1
            state.addWatcher(RegistryState.Watcher(sink: sink, streamID: streamID, tenant: tenant), id: watcherID,
                             jobID: request.jobID)
            return WatchStart(events: events, watcherID: watcherID, ended: false)
        }
    }

    /// Ends a registration (the client cancelled, or its connection closed).
    func unwatch(jobID: String, watcherID: UInt64) {
        state.withLock { state in
            state.removeWatcher(watcherID, jobID: jobID)
        }
    }
}
