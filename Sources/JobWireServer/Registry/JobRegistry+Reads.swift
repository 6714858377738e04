import JobWireProtocol

extension JobRegistry {
    /// GetMetadata: the encoded `Job`, with its last `logTail` log lines.
    public func metadata(jobID: String, tenant: String, logTail: UInt32) throws(JobWireError) -> [UInt8] {
        try checkStore()
        return try state.withLock { (state) throws(JobWireError) -> [UInt8] in
            if logTail == 0, let bytes = state.jobs.servedBytes(jobID, tenant: tenant) {
                return bytes
            }
            // Anything else (an error to answer, a log tail, a restored job
            // not yet verified, a change waiting for the store) takes the general path.
            let record = logTail == 0
                ? try state.servable(jobID, tenant: tenant)
                : try state.loadedRecord(jobID, tenant: tenant, store: store)
            return try Self.readable(record, logTail: logTail)
        }
    }

    /// BatchGetMetadata: one result per id, in request order, each the job or
    /// the status GetMetadata would answer. Encoded by splicing cached jobs.
    public func batchMetadata(_ request: BatchGetMetadataRequest, tenant: String) throws(JobWireError) -> [UInt8] {
        try checkStore()
        return state.withLock { state in
            var response: [UInt8] = []
            for rawID in request.jobIDs {
                var result: [UInt8] = []
                ProtobufWriter.appendString(WireFields.BatchGetResult.jobID, rawID, to: &result)
                do throws(JobWireError) {
                    guard let jobID = JobID.canonical(rawID) else {
                        throw JobWireError(.invalidArgument, Reason.invalidJobID, "\"\(rawID.prefix(64))\" is not a UUID")
                    }
                    let record = request.logTail == 0
                        ? try state.servable(jobID, tenant: tenant)
                        : try state.loadedRecord(jobID, tenant: tenant, store: store)
                    ProtobufWriter.appendLengthDelimited(WireFields.BatchGetResult.job,
                                                         try Self.readable(record, logTail: request.logTail), to: &result)
                } catch {
                    ProtobufWriter.appendLengthDelimited(WireFields.BatchGetResult.error, error.status.encode(), to: &result)
                }
                ProtobufWriter.appendLengthDelimited(WireFields.BatchGetMetadataResponse.results, result, to: &response)
            }
            return response
        }
    }

    /// ListJobs: newest first, paged by creation sequence (see ``PageToken``).
    public func list(_ request: ListJobsRequest, tenant: String) throws(JobWireError) -> [UInt8] {
        let fingerprint = PageToken.fingerprint(of: request, tenant: tenant)
        let before: UInt64 = request.pageToken.isEmpty
            ? .max
            : try PageToken(parsing: request.pageToken, expectedFingerprint: fingerprint).beforeSequence
        let pageSize = request.pageSize == 0 ? Limits.defaultPageSize : Int(request.pageSize)
        let filter = JobFilter(request)
        try checkStore()
        return try state.withLock { (state) throws(JobWireError) -> [UInt8] in
            var response: [UInt8] = []
            var shown = 0
            var total: UInt64 = 0
            var lastSequence: UInt64?
            var more = false
            let now = WallClock.nowMs()
            for entry in state.order.reversed() {
                // Expired jobs the reaper has not reached yet are left out, as
                // they will be once it has.
                // Readers see what the store accepted: a job whose creation waits is left out.
                guard let record = state.jobs[entry.jobID], record.sequence == entry.sequence,
                      let visible = record.visible, visible.summary.tenant == tenant, filter.matches(visible.summary),
                      !JobRecord.isPastRetention(status: visible.summary.status, expiresAtMs: visible.summary.expiresAtMs,
                                                 nowMs: now) else {
                    continue
                }
                total += 1
                guard entry.sequence < before else { continue }
                if shown < pageSize {
                    // A damaged job fails the page, naming itself, rather than
                    // making the whole reply undecodable. Only a restored job not
                    // yet served needs the check.
                    let served = try state.verified(record)
                    ProtobufWriter.appendLengthDelimited(WireFields.ListJobsResponse.jobs, try Self.readable(served, logTail: 0),
                                                         to: &response)
                    shown += 1
                    lastSequence = entry.sequence
                } else {
                    more = true
                }
            }
            if more, let lastSequence {
                ProtobufWriter.appendString(WireFields.ListJobsResponse.nextPageToken, PageToken(beforeSequence: lastSequence, filterFingerprint: fingerprint).encoded,
                                            to: &response)
            }
            ProtobufWriter.appendVarintField(WireFields.ListJobsResponse.totalCount, total, to: &response)
            return response
        }
    }

    /// The bytes a reader is sent for `record` (its last accepted revision).
    /// Lookups for readers only return records with one.
    private static func readable(_ record: JobRecord, logTail: UInt32) throws(JobWireError) -> [UInt8] {
        guard let bytes = record.visibleEncoded(logTail: logTail) else {
            throw JobWireError(.notFound, Reason.jobNotFound, "job \(record.summary.jobID) not found")
        }
        return bytes
    }
}
