/// Job ids are UUIDs in their 36-character text form (8-4-4-4-12 hex digits).
public enum JobID {
    /// The canonical (lower-case) form of `text`, or nil when it is not a UUID.
    public static func canonical(_ text: String) -> String? {
        guard let scan = scan(text) else { return nil }
        guard scan.hasUpperCase else { return text }
        return String(unsafeUninitializedCapacity: 36) { out in
            for (index, byte) in text.utf8.enumerated() {
                out[index] = (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte) ? byte + 32 : byte
            }
            return 36
        }
    }

    public static func isValid(_ text: String) -> Bool {
        scan(text) != nil
    }

    /// The 16 bytes of a canonical (lower-case) UUID as two words, most
    /// significant first; nil for anything else, upper case included. The
    /// server keys its job table by them.
    @inlinable
    public static func words(_ text: String) -> (high: UInt64, low: UInt64)? {
        guard let scan = scan(text), !scan.hasUpperCase else { return nil }
        return (scan.high, scan.low)
    }

    // Inlinable: the server looks a job up by its key on every call.
    @usableFromInline
    struct Scan {
        @usableFromInline var high: UInt64 = 0
        @usableFromInline var low: UInt64 = 0
        @usableFromInline var hasUpperCase = false

        @inlinable init() {}
    }

    @inlinable
    static func scan(_ text: String) -> Scan? {
        let utf8 = text.utf8
        guard utf8.count == 36 else { return nil }
        if let fast = utf8.withContiguousStorageIfAvailable(scanBytes) {
            return fast
        }
        // Bridged or non-contiguous strings: copy once, then take the same path.
        return Array(utf8).withUnsafeBufferPointer(scanBytes)
    }

    /// Branch-light: every character is decoded and the checks are or-ed
    /// into flags (the server's start-up scans a million ids).
    @inlinable
    static func scanBytes(_ text: UnsafeBufferPointer<UInt8>) -> Scan? {
        guard text.count == 36, let base = text.baseAddress else { return nil }
        guard base[8] == UInt8(ascii: "-"), base[13] == UInt8(ascii: "-"), base[18] == UInt8(ascii: "-"),
              base[23] == UInt8(ascii: "-") else { return nil }
        var scan = Scan()
        var invalid = false
        var digits = 0
        for index in 0..<36 where index != 8 && index != 13 && index != 18 && index != 23 {
            let character = base[index]
            let decimal = character &- UInt8(ascii: "0")
            // Setting bit 5 folds 'A'...'F' onto 'a'...'f' and leaves digits out of that range.
            let letter = (character | 0x20) &- UInt8(ascii: "a")
            invalid = invalid || (decimal > 9 && letter > 5)
            scan.hasUpperCase = scan.hasUpperCase || (character < UInt8(ascii: "a") && decimal > 9 && letter <= 5)
            let value = UInt64(decimal <= 9 ? decimal : letter &+ 10)
            if digits < 16 {
                scan.high = scan.high << 4 | value
            } else {
                scan.low = scan.low << 4 | value
            }
            digits += 1
        }
        return invalid ? nil : scan
    }
}
