/// A job id as ``JobTable``'s key: the UUID's 16 bytes in two words.
///
/// Keyed by the 36-character text, every probe of the table hashed 37 bytes
/// and compared 36-byte strings that live on the heap: a cache miss to reach
/// the characters, then `memcmp`, for each occupied bucket probed (`memcmp`
/// and the hasher were ~5 % of a create's CPU in `perf`). Two words hash and
/// compare in the bucket itself.
///
/// Every id the registry holds is a canonical, lower-case UUID: made by
/// ``JobIDGenerator`` or decoded through `JobID.canonical`, and the registry
/// refuses a stored job whose id is not one.
struct JobKey: Hashable {
    let high: UInt64
    let low: UInt64

    init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Nil when `jobID` is not a canonical (lower-case, 8-4-4-4-12) UUID.
    init?(_ jobID: String) {
        let utf8 = jobID.utf8
        guard utf8.count == 36,
              let words = utf8.withContiguousStorageIfAvailable({ Self.parse($0) }) ?? Self.parse(Array(utf8)),
              let (high, low) = words else { return nil }
        self.init(high: high, low: low)
    }

    func hash(into hasher: inout Hasher) {
        // Version 4 ids are random in both words; one word is plenty to spread them.
        hasher.combine(high ^ low)
    }

    private static func parse(_ text: [UInt8]) -> (UInt64, UInt64)?? {
        text.withUnsafeBufferPointer { parse($0) }
    }

    /// Branch-light: every character is decoded and the checks are or-ed
    /// into one flag (start-up parses a million ids).
    private static func parse(_ text: UnsafeBufferPointer<UInt8>) -> (UInt64, UInt64)? {
        guard text.count == 36, let base = text.baseAddress else { return nil }
        guard base[8] == UInt8(ascii: "-"), base[13] == UInt8(ascii: "-"), base[18] == UInt8(ascii: "-"),
              base[23] == UInt8(ascii: "-") else { return nil }
        var words: (UInt64, UInt64) = (0, 0)
        var invalid = false
        var digits = 0
        for index in 0..<36 where index != 8 && index != 13 && index != 18 && index != 23 {
            let character = base[index]
            let decimal = character &- UInt8(ascii: "0")
            let letter = character &- UInt8(ascii: "a")
            invalid = invalid || (decimal > 9 && letter > 5)
            let value = UInt64(decimal <= 9 ? decimal : letter &+ 10)
            if digits < 16 {
                words.0 = words.0 << 4 | value
            } else {
                words.1 = words.1 << 4 | value
            }
            digits += 1
        }
        return invalid ? nil : words
    }
}
