import Dispatch
import JobWireKeys
import JobWireProtocol

extension Connection {
    /// One frame body from the decoder. Throwing ends the connection with a
    /// GoAway carrying the error.
    func handleFrame(_ body: UnsafeRawBufferPointer) throws(JobWireError) {
        let frame = try Frame(decoding: body, maxBytes: maxFrameBytes)
        if phase == .handshake {
            guard case .hello(let hello) = frame else {
                throw JobWireError(.invalidArgument, Reason.helloRequired, "the first frame must be a Hello")
            }
            try handleHello(hello)
            return
        }
        switch frame {
        case .call(let call):
            try handleCall(call)
        case .cancelCall(let cancel):
            handleCancel(cancel.streamID)
        case .ping(let ping):
            _ = try? FrameEncoder.append(.pong(Pong(payload: ping.payload)), to: &output, maxFrameBytes: .max)
        case .pong:
            pingSentAtMs = nil
        case .hello:
            throw JobWireError(.invalidArgument, Reason.unexpectedFrame, "a second Hello on an open connection")
        case .helloAck, .reply, .end, .goAway:
            throw JobWireError(.invalidArgument, Reason.unexpectedFrame, "clients may not send this kind of frame")
        }
    }

    private func handleHello(_ hello: Hello) throws(JobWireError) {
        guard hello.protocolVersion == ProtocolVersion.current else {
            throw JobWireError(.failedPrecondition, Reason.unsupportedProtocolVersion,
                               "this server speaks protocol version \(ProtocolVersion.current), not \(hello.protocolVersion)")
        }
        if hello.maxFrameBytes != 0 {
            maxFrameBytes = min(maxFrameBytes, max(Int(hello.maxFrameBytes), Limits.minMaxFrameBytes))
        }
        principal = try context.service.authenticate(apiKey: hello.apiKey, certificateFingerprint: tls?.peerCertificateFingerprint)
        account = context.service.account(for: principal)
        if let keyID = principal.keyID {
            logger[metadataKey: "key"] = "\(keyID)"
        }
        phase = .open
        if !hello.clientName.isEmpty {
            logger[metadataKey: "client"] = "\(hello.clientName)"
        }
        let ack = HelloAck(serverName: configuration.serverName, maxFrameBytes: UInt32(maxFrameBytes),
                           maxConcurrentStreams: UInt32(configuration.maxStreamsPerConnection),
                           pingIntervalMs: UInt32(configuration.pingIntervalMs), tenant: principal.tenant,
                           role: principal.role.rawValue)
        _ = try? FrameEncoder.append(.helloAck(ack), to: &output, maxFrameBytes: .max)
        logger.debug("handshake done")
    }

    private func handleCall(_ call: Call) throws(JobWireError) {
        guard call.streamID != 0 else {
            throw JobWireError(.invalidArgument, Reason.invalidStreamID, "stream id 0 is not allowed")
        }
        guard streams[call.streamID] == nil else {
            throw JobWireError(.invalidArgument, Reason.streamIDInUse, "stream \(call.streamID) is still open")
        }
        let startedAtNs = MonotonicClock.nowNs()
        if goAwaySent {
            // Draining: not accepted, safe for the client to retry elsewhere.
            EndFrames.append(streamID: call.streamID, status: JobWireProtocol.Status(
                code: .unavailable, reason: Reason.serverShuttingDown, message: "the server is shutting down"), to: &output)
            return
        }
        lastAcceptedStreamID = max(lastAcceptedStreamID, call.streamID)
        guard let method = Method(rawValue: call.method) else {
            EndFrames.append(streamID: call.streamID, status: JobWireProtocol.Status(
                code: .unimplemented, reason: Reason.unknownMethod, message: "no method \"\(call.method.prefix(200))\""),
                to: &output)
            return
        }
        let caller: Caller
        do throws(JobWireError) {
            caller = try context.service.admit(principal, to: method, tenant: call.tenant)
        } catch {
            end(call.streamID, method, startedAtNs, error)
            return
        }
        guard streams.count < configuration.maxStreamsPerConnection else {
            end(call.streamID, method, startedAtNs, JobWireError(
                .resourceExhausted, Reason.tooManyStreams,
                "at most \(configuration.maxStreamsPerConnection) calls may be open on one connection"))
            return
        }
        dispatch(method, call, caller: caller, startedAtNs: startedAtNs)
    }

    /// After the keys were reloaded: a connection whose key is gone, or now
    /// grants another tenant or role, is closed.
    func recheckKey(_ keys: KeyRing) {
        guard phase == .open || phase == .handshake, !context.service.isCurrent(principal, in: keys) else { return }
        fail(JobWireError(.unauthenticated, Reason.invalidAPIKey, "the API key was revoked or changed"))
    }

    private func handleCancel(_ streamID: UInt32) {
        // Unknown or finished streams are ignored: the cancel may cross the End.
        guard let state = streams.removeValue(forKey: streamID) else { return }
        endStreamAccounting(streamID, state)
        switch state {
        case .unary(let method, let startedAtNs, _, _):
            recordCall(method, code: .cancelled, startedAtNs: startedAtNs)
        case .watch(let watch):
            recordCall(.watchJob, code: .cancelled, startedAtNs: watch.startedAtNs)
        case .jobs(let stream):
            recordCall(.watchJobs, code: .cancelled, startedAtNs: stream.startedAtNs)
        }
    }

    /// Bookkeeping when a stream goes away for any reason.
    func endStreamAccounting(_ streamID: UInt32, _ state: StreamState) {
        context.stats.streams.subtract(1, ordering: .relaxed)
        if case .watch(let watch) = state, let watcherID = watch.watcherID {
            context.service.unwatch(jobID: watch.jobID, watcherID: watcherID)
        }
        if case .jobs(let stream) = state {
            context.service.unwatchJobs(watcherID: stream.watcherID, tenant: stream.tenant)
        }
    }

    func openStream(_ streamID: UInt32, _ state: StreamState) {
        streams[streamID] = state
        context.stats.streams.add(1, ordering: .relaxed)
    }

    /// Removes a stream and writes its End.
    func closeStream(_ streamID: UInt32, status: JobWireProtocol.Status) {
        if let state = streams.removeValue(forKey: streamID) {
            endStreamAccounting(streamID, state)
        }
        EndFrames.append(streamID: streamID, status: status, to: &output)
    }

    /// Ends a call that never became a stream, counting it in Stats.
    func end(_ streamID: UInt32, _ method: Method, _ startedAtNs: UInt64, _ error: JobWireError) {
        EndFrames.append(streamID: streamID, status: error.status, to: &output)
        recordCall(method, code: error.code, reason: error.reason, startedAtNs: startedAtNs)
    }

    /// Counts a call that ended, in Stats and in its key's Usage.
    func recordCall(_ method: Method, code: StatusCode, reason: String = "", startedAtNs: UInt64) {
        context.stats.record(method, code: code, startedAtNs: startedAtNs)
        account?.record(method, code: code, reason: reason)
    }

    /// Write calls still waiting at the end of a turn get a deadline timer.
    func armDeadlines() {
        guard !deadlineCandidates.isEmpty else { return }
        for streamID in deadlineCandidates {
            guard case .unary(_, _, let token, let timeoutMs)? = streams[streamID], timeoutMs > 0 else { continue }
            loop.schedule(afterMs: Int(timeoutMs)) { [weak self] in
                self?.expireUnary(streamID: streamID, token: token)
            }
        }
        deadlineCandidates.removeAll()
    }

    private func expireUnary(streamID: UInt32, token: UInt64) {
        guard case .unary(let method, let startedAtNs, let current, let timeoutMs)? = streams[streamID], current == token else {
            return
        }
        let error = JobWireError(.deadlineExceeded, Reason.deadlineExceeded, "the call did not finish within \(timeoutMs) ms")
        closeStream(streamID, status: error.status)
        recordCall(method, code: error.code, startedAtNs: startedAtNs)
        flush()
    }

    // MARK: Draining

    /// Graceful shutdown of this connection: GoAway, end watches so clients
    /// resume elsewhere, let write calls finish, close when nothing is left.
    func beginDrain() {
        guard phase == .open || phase == .handshake, !goAwaySent else { return }
        let shuttingDown = JobWireProtocol.Status(code: .unavailable, reason: Reason.serverShuttingDown,
                                                  message: "the server is shutting down")
        appendGoAway(shuttingDown)
        for (streamID, state) in streams {
            if case .watch(let watch) = state {
                closeStream(streamID, status: shuttingDown)
                recordCall(.watchJob, code: .unavailable, startedAtNs: watch.startedAtNs)
            }
            if case .jobs(let stream) = state {
                closeStream(streamID, status: shuttingDown)
                recordCall(.watchJobs, code: .unavailable, reason: Reason.serverShuttingDown, startedAtNs: stream.startedAtNs)
            }
        }
        if phase == .handshake {
            phase = .closing
            closeAtLatest(afterMs: configuration.pingIntervalMs)
        }
        flush()
    }
}
