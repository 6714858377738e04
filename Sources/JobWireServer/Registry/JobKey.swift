import JobWireProtocol

/// A job id as ``JobTable``'s key: the UUID's 16 bytes in two words.
///
/// Keyed by the 36-character text, every probe of the table hashed 37 bytes
/// and compared 36-byte strings that live on the heap: a cache miss to reach
/// the characters, then `memcmp`, for each occupied bucket probed. Two words
/// hash and compare in the bucket itself.
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
        guard let words = JobID.words(jobID) else { return nil }
        self.init(high: words.high, low: words.low)
    }

    func hash(into hasher: inout Hasher) {
        // Version 4 ids are random in both words; one word is plenty to spread them.
        hasher.combine(high ^ low)
    }
}
