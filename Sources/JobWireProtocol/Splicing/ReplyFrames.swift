/// Builds `Frame{reply{stream_id, message}}` frames around message bytes that
/// are already encoded, writing only the outer tags and lengths. The same
/// encoded watch event goes to every watcher this way, each with its own
/// stream id.
public enum ReplyFrames {
    /// Appends a length-prefixed reply frame carrying `message`.
    @inlinable
    public static func append(streamID: UInt32, message: some Collection<UInt8>, to buffer: inout [UInt8]) {
        let streamIDSize = streamID == 0 ? 0 : 1 + ProtobufWriter.varintSize(UInt64(streamID))
        let replySize = streamIDSize + ProtobufWriter.lengthDelimitedSize(WireFields.Reply.message, length: message.count)
        let frameSize = ProtobufWriter.lengthDelimitedSize(WireFields.Frame.reply, length: replySize)
        let length = UInt32(frameSize)
        buffer.append(contentsOf: [UInt8(truncatingIfNeeded: length >> 24), UInt8(truncatingIfNeeded: length >> 16),
                                   UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length)])
        ProtobufWriter.appendVarint(WireFields.Frame.reply << 3 | 2, to: &buffer)
        ProtobufWriter.appendVarint(UInt64(replySize), to: &buffer)
        ProtobufWriter.appendVarintField(WireFields.Reply.streamID, UInt64(streamID), to: &buffer)
        ProtobufWriter.appendLengthDelimited(WireFields.Reply.message, message, to: &buffer)
    }

    /// The frame size (without the 4-byte prefix) of a reply carrying `messageBytes`.
    @inlinable
    public static func frameSize(streamID: UInt32, messageBytes: Int) -> Int {
        let streamIDSize = streamID == 0 ? 0 : 1 + ProtobufWriter.varintSize(UInt64(streamID))
        let replySize = streamIDSize + ProtobufWriter.lengthDelimitedSize(WireFields.Reply.message, length: messageBytes)
        return ProtobufWriter.lengthDelimitedSize(WireFields.Frame.reply, length: replySize)
    }
}
