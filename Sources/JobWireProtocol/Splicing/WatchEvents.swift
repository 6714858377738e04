/// Encoded `JobsEvent`s (WatchJobs), built around jobs' cached encodings.
public enum JobsEvents {
    @inlinable
    public static func encode(type: JobsEventType, cursor: String, encodedJobs: [[UInt8]] = [], jobID: String = "") -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(encodedJobs.reduce(0) { $0 + $1.count + 4 } + cursor.utf8.count + jobID.utf8.count + 8)
        ProtobufWriter.appendVarintField(WireFields.JobsEvent.type, UInt64(type.rawValue), to: &bytes)
        ProtobufWriter.appendString(WireFields.JobsEvent.cursor, cursor, to: &bytes)
        for job in encodedJobs {
            ProtobufWriter.appendLengthDelimited(WireFields.JobsEvent.jobs, job, to: &bytes)
        }
        if !jobID.isEmpty {
            ProtobufWriter.appendString(WireFields.JobsEvent.jobID, jobID, to: &bytes)
        }
        return bytes
    }
}

/// Encoded `WatchEvent`s, built around a job's cached encoding.
public enum WatchEvents {
    /// A `WatchEvent` around `encodedJob` (a `Job`'s encoding, log tail included
    /// if wanted), without packing the job again.
    @inlinable
    public static func encode(type: WatchEventType, revision: UInt64, encodedJob: [UInt8]?, logLines: [String]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity((encodedJob?.count ?? 0) + 16)
        ProtobufWriter.appendVarintField(WireFields.WatchEvent.type, UInt64(type.rawValue), to: &bytes)
        ProtobufWriter.appendVarintField(WireFields.WatchEvent.revision, revision, to: &bytes)
        if let encodedJob {
            ProtobufWriter.appendLengthDelimited(WireFields.WatchEvent.job, encodedJob, to: &bytes)
        }
        for line in logLines {
            ProtobufWriter.appendString(WireFields.WatchEvent.newLogLines, line, to: &bytes)
        }
        return bytes
    }
}
