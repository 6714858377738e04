import Dispatch
import JobWireProtocol

extension Connection: WatchSink {
    /// Called by the registry under its lock, from any thread: only enqueue.
    package func deliver(streamID: UInt32, watcherID: UInt64, _ delivery: WatchDelivery) {
        deliveries.post(LoopDeliveries.Item(connection: Unmanaged.passUnretained(self), streamID: streamID, watcherID: watcherID, delivery: delivery))
    }

    /// Starts WatchJob: sends the first events, then either ends (the job is
    /// already terminal) or keeps the stream open for deliveries.
    func startWatch(_ request: WatchJobRequest, caller: Caller, streamID: UInt32, timeoutMs: UInt32,
                    startedAtNs: UInt64) throws(JobWireError) {
        let start = try context.service.watch(request, caller: caller, sink: self, streamID: streamID)
        let now = WallClock.nowMs()
        var watch = WatchStream(jobID: request.jobID, watcherID: start.watcherID, lastRevision: request.afterRevision,
                                now: now, startedAtNs: startedAtNs)
        for event in start.events {
            ReplyFrames.append(streamID: streamID, message: event.encodedEvent, to: &output)
            watch.lastRevision = event.revision
        }
        openStream(streamID, .watch(watch))
        if start.ended {
            closeStream(streamID, status: .ok)
            recordCall(.watchJob, code: .ok, startedAtNs: startedAtNs)
            return
        }
        if timeoutMs > 0, let watcherID = start.watcherID {
            loop.schedule(afterMs: Int(timeoutMs)) { [weak self] in
                self?.expireWatch(streamID: streamID, watcherID: watcherID, timeoutMs: timeoutMs)
            }
        }
    }

    private func expireWatch(streamID: UInt32, watcherID: UInt64, timeoutMs: UInt32) {
        guard case .watch(let watch)? = streams[streamID], watch.watcherID == watcherID else { return }
        closeStream(streamID, status: JobWireProtocol.Status(code: .deadlineExceeded, reason: Reason.deadlineExceeded,
                                                             message: "the watch reached its \(timeoutMs) ms deadline"))
        recordCall(.watchJob, code: .deadlineExceeded, startedAtNs: watch.startedAtNs)
        flush()
    }

    func handleWatchDelivery(streamID: UInt32, watcherID: UInt64, _ delivery: WatchDelivery) {
        if case .jobs(let sequence, let encodedEvent) = delivery {
            handleJobsDelivery(streamID: streamID, watcherID: watcherID, sequence: sequence, encodedEvent: encodedEvent)
            return
        }
        guard case .watch(var watch)? = streams[streamID], watch.watcherID == watcherID else { return }
        switch delivery {
        case .jobs:
            return
        case .end(let status):
            closeStream(streamID, status: status)
            recordCall(.watchJob, code: status.code, reason: status.reason, startedAtNs: watch.startedAtNs)
        case .event(let revision, let encodedEvent, let isStatusTransition, let isTerminal):
            guard revision > watch.lastRevision else { return }
            let event = WatchStream.Pending(revision: revision, encodedEvent: encodedEvent,
                                            isStatusTransition: isStatusTransition, isTerminal: isTerminal)
            if watch.hasPending || pendingOutput > configuration.maxOutputBufferBytes {
                // The client is not keeping up: hold the event back (collapsing).
                watch.hold(event)
                streams[streamID] = .watch(watch)
                hasHeldWatchEvents = true
                return
            }
            send(event, on: streamID, watch)
        }
    }

    /// Writes one event; ends the stream after a terminal one.
    private func send(_ event: WatchStream.Pending, on streamID: UInt32, _ watch: WatchStream) {
        var watch = watch
        ReplyFrames.append(streamID: streamID, message: event.encodedEvent, to: &output)
        watch.lastRevision = event.revision
        watch.lastSentAtMs = WallClock.nowMs()
        streams[streamID] = .watch(watch)
        if event.isTerminal {
            closeStream(streamID, status: .ok)
            recordCall(.watchJob, code: .ok, startedAtNs: watch.startedAtNs)
        }
    }

    /// Once the output has drained, held-back events go out, oldest first,
    /// until the output is over its bound again.
    func releaseHeldWatchEvents() {
        // Every flush comes here and most find nothing held: the flag spares
        // them a walk over every stream.
        guard hasHeldWatchEvents else { return }
        hasHeldWatchEvents = false
        for (streamID, state) in streams {
            guard case .watch(var watch) = state, watch.hasPending else { continue }
            let held = watch.takePending()
            streams[streamID] = .watch(watch)
            for (index, event) in held.enumerated() {
                guard case .watch(let current)? = streams[streamID] else { break }
                if pendingOutput > configuration.maxOutputBufferBytes {
                    var keep = current
                    for rest in held[index...] { keep.hold(rest) }
                    streams[streamID] = .watch(keep)
                    hasHeldWatchEvents = true
                    break
                }
                send(event, on: streamID, current)
            }
        }
        if pendingOutput > 0 {
            flush()
        }
    }

    /// Idle watches get a BOOKMARK with the revision they can resume from.
    func sendBookmarks(now: Int64) {
        let interval = Int64(configuration.bookmarkIntervalMs)
        for (streamID, state) in streams {
            guard case .watch(var watch) = state, !watch.hasPending, now - watch.lastSentAtMs >= interval else { continue }
            let event = WatchEvents.encode(type: .bookmark, revision: watch.lastRevision, encodedJob: nil, logLines: [])
            ReplyFrames.append(streamID: streamID, message: event, to: &output)
            watch.lastSentAtMs = now
            streams[streamID] = .watch(watch)
        }
    }
}
