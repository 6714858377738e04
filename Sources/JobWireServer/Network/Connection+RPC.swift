import JobWireProtocol

extension Connection {
    /// Decodes one call's request and hands it to the job service. Reads
    /// answer at once; writes answer when the store has committed (through
    /// the inbox); WatchJob becomes a stream.
    func dispatch(_ method: Method, _ call: Call, caller: Caller, startedAtNs: UInt64) {
        let streamID = call.streamID
        let service = context.service
        do throws(JobWireError) {
            switch method {
            case .getMetadata:
                let request = try GetMetadataRequest(decoding: call.request, maxBytes: maxFrameBytes)
                reply(streamID, method, startedAtNs, try service.getMetadata(request, caller: caller).bytes)
            case .batchGetMetadata:
                let request = try BatchGetMetadataRequest(decoding: call.request, maxBytes: maxFrameBytes)
                reply(streamID, method, startedAtNs, try service.batchGetMetadata(request, caller: caller).bytes)
            case .listJobs:
                let request = try ListJobsRequest(decoding: call.request, maxBytes: maxFrameBytes)
                reply(streamID, method, startedAtNs, try service.listJobs(request, caller: caller).bytes)
            case .health:
                let request = try HealthRequest(decoding: call.request, maxBytes: maxFrameBytes)
                reply(streamID, method, startedAtNs,
                      service.health(request, caller: caller, sessionDraining: goAwaySent).encode())
            case .stats:
                let request = try StatsRequest(decoding: call.request, maxBytes: maxFrameBytes)
                reply(streamID, method, startedAtNs, try service.stats(request, caller: caller).encode())
            case .usage:
                let request = try UsageRequest(decoding: call.request, maxBytes: maxFrameBytes)
                reply(streamID, method, startedAtNs, try service.usage(request, caller: caller).encode())
            case .configure:
                let request = try ConfigureRequest(decoding: call.request, maxBytes: maxFrameBytes)
                try write(call, method, startedAtNs) { completion throws(JobWireError) in
                    try service.configure(request, caller: caller) { completion($0.map(\.bytes)) }
                }
            case .cancel:
                let request = try CancelRequest(decoding: call.request, maxBytes: maxFrameBytes)
                try write(call, method, startedAtNs) { completion throws(JobWireError) in
                    try service.cancel(request, caller: caller) { completion($0.map(\.bytes)) }
                }
            case .updateJob:
                let request = try UpdateJobRequest(decoding: call.request, maxBytes: maxFrameBytes)
                try write(call, method, startedAtNs) { completion throws(JobWireError) in
                    try service.updateJob(request, caller: caller) { completion($0.map(\.bytes)) }
                }
            case .retry:
                let request = try RetryRequest(decoding: call.request, maxBytes: maxFrameBytes)
                try write(call, method, startedAtNs) { completion throws(JobWireError) in
                    try service.retry(request, caller: caller) { completion($0.map(\.bytes)) }
                }
            case .setPriority:
                let request = try SetPriorityRequest(decoding: call.request, maxBytes: maxFrameBytes)
                try write(call, method, startedAtNs) { completion throws(JobWireError) in
                    try service.setPriority(request, caller: caller) { completion($0.map(\.bytes)) }
                }
            case .deleteJob:
                let request = try DeleteJobRequest(decoding: call.request, maxBytes: maxFrameBytes)
                try write(call, method, startedAtNs) { completion throws(JobWireError) in
                    try service.deleteJob(request, caller: caller) { completion($0.map(\.bytes)) }
                }
            case .watchJob:
                let request = try WatchJobRequest(decoding: call.request, maxBytes: maxFrameBytes)
                try startWatch(request, caller: caller, streamID: streamID, timeoutMs: call.timeoutMs, startedAtNs: startedAtNs)
            case .watchJobs:
                let request = try WatchJobsRequest(decoding: call.request, maxBytes: maxFrameBytes)
                try startWatchJobs(request, caller: caller, streamID: streamID, timeoutMs: call.timeoutMs,
                                   startedAtNs: startedAtNs)
            case .createWebhook, .listWebhooks, .getWebhook, .deleteWebhook, .rotateWebhookSecret, .listWebhookDeliveries,
                 .redeliverWebhook:
                try dispatchWebhook(method, call, caller: caller, startedAtNs: startedAtNs)
            }
        } catch {
            end(streamID, method, startedAtNs, error)
        }
    }

    /// A unary reply: the message, then End OK. A reply too large for the
    /// connection's frames ends the call with FRAME_TOO_LARGE instead.
    func reply(_ streamID: UInt32, _ method: Method, _ startedAtNs: UInt64, _ message: [UInt8]) {
        let frameSize = ReplyFrames.frameSize(streamID: streamID, messageBytes: message.count)
        guard frameSize <= maxFrameBytes else {
            end(streamID, method, startedAtNs, JobWireError(
                .resourceExhausted, Reason.frameTooLarge,
                "the reply (\(frameSize) bytes) exceeds the connection's frame limit of \(maxFrameBytes); ask for less"))
            return
        }
        ReplyFrames.append(streamID: streamID, message: message, to: &output)
        EndFrames.appendOK(streamID: streamID, to: &output)
        recordCall(method, code: .ok, startedAtNs: startedAtNs)
    }

    /// Opens the stream of a write call, then lets `start` hand the change to
    /// the registry; the reply arrives through the inbox once committed.
    func write(_ call: Call, _ method: Method, _ startedAtNs: UInt64,
                       _ start: (@escaping WriteCompletion) throws(JobWireError) -> Void) throws(JobWireError) {
        let token = nextStreamToken()
        let streamID = call.streamID
        openStream(streamID, .unary(method: method, startedAtNs: startedAtNs, token: token, timeoutMs: call.timeoutMs))
        do throws(JobWireError) {
            try start { [weak self] result in
                self?.enqueue(.unaryDone(streamID: streamID, token: token, result))
            }
        } catch {
            if let state = streams.removeValue(forKey: streamID) {
                endStreamAccounting(streamID, state)
            }
            throw error
        }
        if call.timeoutMs > 0 {
            deadlineCandidates.append(streamID)
        }
    }

    /// A write call's commit finished (or failed).
    func finishUnary(streamID: UInt32, token: UInt64, _ result: Result<[UInt8], JobWireError>) {
        // Cancelled, timed out, or the id was reused since: the result is dropped.
        guard case .unary(let method, let startedAtNs, let current, _)? = streams[streamID], current == token else { return }
        if let state = streams.removeValue(forKey: streamID) {
            endStreamAccounting(streamID, state)
        }
        switch result {
        case .success(let message):
            reply(streamID, method, startedAtNs, message)
        case .failure(let error):
            end(streamID, method, startedAtNs, error)
        }
    }
}
