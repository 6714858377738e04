/// Job ids are UUIDs in their 36-character text form (8-4-4-4-12 hex digits).
public enum JobID {
    /// The canonical (lower-case) form of `text`, or nil when it is not a UUID.
    public static func canonical(_ text: String) -> String? {
        if let fast = text.utf8.withContiguousStorageIfAvailable(canonicalBytes) {
            return fast
        }
        // Bridged or non-contiguous strings: copy once, then take the same path.
        return Array(text.utf8).withUnsafeBufferPointer(canonicalBytes)
    }

    public static func isValid(_ text: String) -> Bool {
        canonical(text) != nil
    }

    private static func canonicalBytes(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        guard bytes.count == 36 else { return nil }
        var needsLowering = false
        for (index, byte) in bytes.enumerated() {
            switch index {
            case 8, 13, 18, 23:
                guard byte == UInt8(ascii: "-") else { return nil }
            default:
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"):
                    break
                case UInt8(ascii: "A")...UInt8(ascii: "F"):
                    needsLowering = true
                default:
                    return nil
                }
            }
        }
        if !needsLowering {
            return String(decoding: bytes, as: UTF8.self)
        }
        return String(unsafeUninitializedCapacity: 36) { out in
            for (index, byte) in bytes.enumerated() {
                out[index] = (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte) ? byte + 32 : byte
            }
            return 36
        }
    }
}
