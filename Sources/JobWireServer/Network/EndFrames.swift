import JobWireProtocol

/// `End` frames. The OK case, sent after every successful call, is written by
/// hand (it is a handful of constant bytes); errors go through the codec.
enum EndFrames {
    private static let frameEndField: UInt64 = 5

    static func appendOK(streamID: UInt32, to buffer: inout [UInt8]) {
        // End{stream_id, status: Status{}}: field 1 varint, field 2 empty message.
        let streamIDSize = 1 + ProtobufWriter.varintSize(UInt64(streamID))
        let endSize = streamIDSize + 2
        let frameSize = 1 + ProtobufWriter.varintSize(UInt64(endSize)) + endSize
        let length = UInt32(frameSize)
        buffer.append(contentsOf: [UInt8(truncatingIfNeeded: length >> 24), UInt8(truncatingIfNeeded: length >> 16),
                                   UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length)])
        ProtobufWriter.appendVarint(frameEndField << 3 | 2, to: &buffer)
        ProtobufWriter.appendVarint(UInt64(endSize), to: &buffer)
        ProtobufWriter.appendVarint(1 << 3, to: &buffer)
        ProtobufWriter.appendVarint(UInt64(streamID), to: &buffer)
        buffer.append(contentsOf: [2 << 3 | 2, 0])
    }

    static func append(streamID: UInt32, status: Status, to buffer: inout [UInt8]) {
        if status.isOK {
            appendOK(streamID: streamID, to: &buffer)
            return
        }
        // A status is small (its message is capped), far below any frame limit.
        // No size limit is passed, and that is the only error append has.
        _ = try? FrameEncoder.append(.end(End(streamID: streamID, status: status)), to: &buffer, maxFrameBytes: .max)
    }
}
