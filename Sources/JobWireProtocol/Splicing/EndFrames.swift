/// `End` frames. The OK case, sent after every successful call, is written by
/// hand (it is a handful of constant bytes); errors go through the codec.
public enum EndFrames {
    @inlinable
    public static func appendOK(streamID: UInt32, to buffer: inout [UInt8]) {
        // End{stream_id, status: Status{}}: a varint, then an empty message.
        let streamIDSize = 1 + ProtobufWriter.varintSize(UInt64(streamID))
        let endSize = streamIDSize + 2
        let frameSize = 1 + ProtobufWriter.varintSize(UInt64(endSize)) + endSize
        let length = UInt32(frameSize)
        buffer.append(contentsOf: [UInt8(truncatingIfNeeded: length >> 24), UInt8(truncatingIfNeeded: length >> 16),
                                   UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length)])
        ProtobufWriter.appendVarint(WireFields.Frame.end << 3 | 2, to: &buffer)
        ProtobufWriter.appendVarint(UInt64(endSize), to: &buffer)
        ProtobufWriter.appendVarint(WireFields.End.streamID << 3, to: &buffer)
        ProtobufWriter.appendVarint(UInt64(streamID), to: &buffer)
        buffer.append(contentsOf: [UInt8(WireFields.End.status << 3 | 2), 0])
    }

    public static func append(streamID: UInt32, status: Status, to buffer: inout [UInt8]) {
        if status.isOK {
            appendOK(streamID: streamID, to: &buffer)
            return
        }
        // A status is small (its message is capped), far below any frame limit.
        // No size limit is passed, and that is the only error append has.
        _ = try? FrameEncoder.append(.end(End(streamID: streamID, status: status)), to: &buffer, maxFrameBytes: .max)
    }
}
