/// Writes protobuf wire format by hand, for splicing bytes that are already
/// encoded: protobuf lets an encoded sub-message appear as tag + length +
/// bytes, and repeated fields be appended, so a reply can reuse a job's
/// cached encoding instead of packing it again. Field numbers come from
/// ``WireFields``, which a test checks against the protobuf-c descriptors.
public enum ProtobufWriter {
    @inlinable
    public static func appendVarint(_ value: UInt64, to buffer: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            buffer.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        buffer.append(UInt8(value))
    }

    @inlinable
    public static func varintSize(_ value: UInt64) -> Int {
        var size = 1
        var value = value >> 7
        while value != 0 {
            size += 1
            value >>= 7
        }
        return size
    }

    @inlinable
    public static func appendVarintField(_ field: UInt64, _ value: UInt64, to buffer: inout [UInt8]) {
        guard value != 0 else { return }  // proto3: zero is the default and is not written
        appendVarint(field << 3, to: &buffer)
        appendVarint(value, to: &buffer)
    }

    @inlinable
    public static func appendLengthDelimited(_ field: UInt64, _ bytes: some Collection<UInt8>, to buffer: inout [UInt8]) {
        appendVarint(field << 3 | 2, to: &buffer)
        appendVarint(UInt64(bytes.count), to: &buffer)
        buffer.append(contentsOf: bytes)
    }

    @inlinable
    public static func appendString(_ field: UInt64, _ string: String, to buffer: inout [UInt8]) {
        appendLengthDelimited(field, string.utf8, to: &buffer)
    }

    /// Size of a length-delimited field of `length` payload bytes.
    @inlinable
    public static func lengthDelimitedSize(_ field: UInt64, length: Int) -> Int {
        varintSize(field << 3 | 2) + varintSize(UInt64(length)) + length
    }
}
