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
