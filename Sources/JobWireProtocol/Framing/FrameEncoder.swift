/// Appends length-prefixed frames to an output buffer. The frame is packed
/// straight into the buffer behind a 4-byte placeholder that is patched with
/// the length afterwards, so nothing is encoded twice or copied.
public enum FrameEncoder {
    /// Appends `frame` and returns the bytes added (header included). A frame
    /// whose body would exceed `maxFrameBytes` is not appended:
    /// RESOURCE_EXHAUSTED, reason FRAME_TOO_LARGE.
    @discardableResult
    public static func append(_ frame: Frame, to buffer: inout [UInt8],
                              maxFrameBytes: Int = Limits.defaultMaxFrameBytes) throws(JobWireError) -> Int {
        let start = buffer.count
        buffer.append(contentsOf: [0, 0, 0, 0])
        let length = frame.encode(appendingTo: &buffer)
        guard length <= maxFrameBytes, length > 0 else {
            buffer.removeSubrange(start...)
            if length == 0 {
                throw JobWireError(.internal, Reason.emptyFrame, "a frame must encode to at least one byte")
            }
            throw JobWireError(.resourceExhausted, Reason.frameTooLarge,
                               "frame of \(length) bytes exceeds the limit of \(maxFrameBytes)")
        }
        writeLength(UInt32(length), into: &buffer, at: start)
        return FrameDecoder.headerBytes + length
    }

    /// One frame as its own byte array.
    public static func encode(_ frame: Frame, maxFrameBytes: Int = Limits.defaultMaxFrameBytes) throws(JobWireError) -> [UInt8] {
        var buffer: [UInt8] = []
        try append(frame, to: &buffer, maxFrameBytes: maxFrameBytes)
        return buffer
    }

    static func writeLength(_ length: UInt32, into buffer: inout [UInt8], at offset: Int) {
        buffer[offset] = UInt8(truncatingIfNeeded: length >> 24)
        buffer[offset + 1] = UInt8(truncatingIfNeeded: length >> 16)
        buffer[offset + 2] = UInt8(truncatingIfNeeded: length >> 8)
        buffer[offset + 3] = UInt8(truncatingIfNeeded: length)
    }
}
