/// Hand-built protobuf bytes, for input no well-behaved encoder would write.
enum RawProtobuf {
    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var out: [UInt8] = []
        while value >= 0x80 {
            out.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        out.append(UInt8(value))
        return out
    }

    static func tag(_ field: UInt64, wireType: UInt64) -> [UInt8] { varint(field << 3 | wireType) }

    static func varintField(_ field: UInt64, _ value: UInt64) -> [UInt8] { tag(field, wireType: 0) + varint(value) }

    static func lengthDelimited(_ field: UInt64, _ bytes: [UInt8]) -> [UInt8] {
        tag(field, wireType: 2) + varint(UInt64(bytes.count)) + bytes
    }

    static func string(_ field: UInt64, _ text: String) -> [UInt8] { lengthDelimited(field, Array(text.utf8)) }

    static func double(_ field: UInt64, _ value: Double) -> [UInt8] {
        tag(field, wireType: 1) + withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) }
    }
}
