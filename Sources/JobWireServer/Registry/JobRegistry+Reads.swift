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

    /// The bytes a reader is sent for `record` (its last accepted revision).
    /// Lookups for readers only return records with one.
    static func readable(_ record: JobRecord, logTail: UInt32) throws(JobWireError) -> [UInt8] {
        guard let bytes = record.visibleEncoded(logTail: logTail) else {
            throw JobWireError(.notFound, Reason.jobNotFound, "job \(record.summary.jobID) not found")
        }
        return bytes
    }
}
