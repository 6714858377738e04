import JobWireProtocol

extension Connection {
    /// Bytes of events one catch-up step produces before the connection
    /// writes them (and reads the log further only once they drained).
    static let catchUpStepBytes = 64 * 1024

    /// Starts WatchJobs: registers the watcher, sends RESYNC if its cursor
    /// could not be resumed, and catches up as far as the output allows.
    func startWatchJobs(_ request: WatchJobsRequest, caller: Caller, streamID: UInt32, timeoutMs: UInt32,
                        startedAtNs: UInt64) throws(JobWireError) {
        let start = try context.service.watchJobs(request, caller: caller, sink: self, streamID: streamID)
        let pageSize = request.filter.pageSize == 0 ? Limits.defaultPageSize : Int(request.filter.pageSize)
        let stream = JobsStream(watcherID: start.watcherID, tenant: caller.tenant, pageSize: pageSize, startedAtNs: startedAtNs,
                                epoch: start.epoch, position: start.position, snapshot: start.snapshot,
                                since: start.snapshot ? start.head : start.position,
                                lastSentAtMs: WallClock.nowMs())
        openStream(streamID, .jobs(stream))
        if start.resync {
            let cursor = ChangeCursor(epoch: start.epoch, position: 0).encoded
            ReplyFrames.append(streamID: streamID, message: JobsEvents.encode(type: .resync, cursor: cursor), to: &output)
        }
        continueJobsCatchUp(streamID)
        if timeoutMs > 0 {
            let watcherID = start.watcherID
            loop.schedule(afterMs: Int(timeoutMs)) { [weak self] in
                guard let self, case .jobs(let stream)? = self.streams[streamID], stream.watcherID == watcherID else { return }
                self.closeStream(streamID, status: JobWireProtocol.Status(
                    code: .deadlineExceeded, reason: Reason.deadlineExceeded, message: "the watch reached its \(timeoutMs) ms deadline"))
                self.recordCall(.watchJobs, code: .deadlineExceeded, startedAtNs: stream.startedAtNs)
                self.flush()
            }
        }
    }

    /// Catches a WatchJobs stream up while the output has room: steps of
    /// about ``catchUpStepBytes`` until it is live, or until the output is
    /// over its bound (then again once it drained).
    func continueJobsCatchUp(_ streamID: UInt32) {
        while case .jobs(var stream)? = streams[streamID], stream.mode == .catchingUp {
            guard pendingOutput <= configuration.maxOutputBufferBytes else {
                hasJobsCatchUps = true
                return
            }
            let step = context.service.catchUpJobs(watcherID: stream.watcherID, tenant: stream.tenant, from: stream.position,
                                                   since: stream.since, snapshot: stream.snapshot, pageSize: stream.pageSize,
                                                   maxBytes: Self.catchUpStepBytes)
            guard !step.ended else { return }
            for event in step.events {
                let frameSize = ReplyFrames.frameSize(streamID: streamID, messageBytes: event.count)
                guard frameSize <= maxFrameBytes else {
                    closeStream(streamID, status: JobWireProtocol.Status(
                        code: .resourceExhausted, reason: Reason.frameTooLarge,
                        message: "an event (\(frameSize) bytes) exceeds the connection's frame limit of \(maxFrameBytes); use a smaller page_size"))
                    recordCall(.watchJobs, code: .resourceExhausted, reason: Reason.frameTooLarge, startedAtNs: stream.startedAtNs)
                    return
                }
                ReplyFrames.append(streamID: streamID, message: event, to: &output)
            }
            stream.position = step.position
            if !step.events.isEmpty { stream.lastSentAtMs = WallClock.nowMs() }
            if step.live {
                // Later catch-ups (after falling behind) resume from the position; they send changes.
                stream.mode = .live
                stream.snapshot = false
            }
            streams[streamID] = .jobs(stream)
            if step.waiting {
                // A change made before the tenant had watchers is still being stored (milliseconds).
                let watcherID = stream.watcherID
                loop.schedule(afterMs: 1) { [weak self] in
                    guard let self, case .jobs(let current)? = self.streams[streamID], current.watcherID == watcherID else { return }
                    self.continueJobsCatchUp(streamID)
                    self.flush()
                }
                return
            }
        }
    }

    /// A change pushed to a live WatchJobs stream. Over the output bound, the
    /// stream stops taking pushes and catches up from its position later.
    func handleJobsDelivery(streamID: UInt32, watcherID: UInt64, sequence: UInt64, encodedEvent: [UInt8]) {
        guard case .jobs(var stream)? = streams[streamID], stream.watcherID == watcherID, stream.mode == .live,
              sequence > stream.position else { return }
        let frameSize = ReplyFrames.frameSize(streamID: streamID, messageBytes: encodedEvent.count)
        guard pendingOutput <= configuration.maxOutputBufferBytes, frameSize <= maxFrameBytes else {
            stream.mode = .catchingUp
            stream.since = stream.position
            streams[streamID] = .jobs(stream)
            context.service.pauseJobsWatch(watcherID: watcherID, tenant: stream.tenant)
            hasJobsCatchUps = true
            return
        }
        ReplyFrames.append(streamID: streamID, message: encodedEvent, to: &output)
        stream.position = sequence
        stream.lastSentAtMs = WallClock.nowMs()
        streams[streamID] = .jobs(stream)
    }

    /// Once the output drained: every WatchJobs stream still catching up goes on.
    func continueJobsCatchUps() {
        guard hasJobsCatchUps else { return }
        hasJobsCatchUps = false
        for (streamID, state) in streams {
            if case .jobs(let stream) = state, stream.mode == .catchingUp {
                continueJobsCatchUp(streamID)
            }
        }
    }

    /// Idle live WatchJobs streams get a BOOKMARK with their position.
    func sendJobsBookmarks(now: Int64) {
        let interval = Int64(configuration.bookmarkIntervalMs)
        for (streamID, state) in streams {
            guard case .jobs(var stream) = state, stream.mode == .live, now - stream.lastSentAtMs >= interval else { continue }
            let cursor = ChangeCursor(epoch: stream.epoch, position: stream.position).encoded
            ReplyFrames.append(streamID: streamID, message: JobsEvents.encode(type: .bookmark, cursor: cursor), to: &output)
            stream.lastSentAtMs = now
            streams[streamID] = .jobs(stream)
        }
    }
}
