import CEpoll
import JobWireSync

#if canImport(Glibc)
import Glibc
#endif

/// Random (version 4) UUIDs in lower-case text form.
///
/// The random bits come from the kernel's generator (`getrandom`), 4 KiB at
/// a time, so a Configure makes no system call for its id (docs/BENCHMARKS.md
/// has what drawing them per job cost).
enum JobIDGenerator {
    private struct Pool: ~Copyable {
        var words = [UInt64](repeating: 0, count: 512)
        /// Words already handed out; refilled when fewer than two are left.
        var used = 512
    }

    private static let pool = Locked(Pool())
    private static let digits: StaticString = "0123456789abcdef"

    /// A new id, with its ``JobKey`` (the same 16 bytes, so the registry
    /// need not parse the text it just made).
    static func make() -> (id: String, key: JobKey) {
        let (high, low) = pool.withLock { pool in
            if pool.used + 2 > pool.words.count {
                refill(&pool.words)
                pool.used = 0
            }
            defer { pool.used += 2 }
            return (pool.words[pool.used], pool.words[pool.used + 1])
        }
        // Byte 6's high nibble is the version (4), byte 8's top two bits the
        // RFC 4122 variant; the bytes read from the most significant down.
        let key = JobKey(high: (high & ~0x0000_0000_0000_F000) | 0x0000_0000_0000_4000,
                         low: (low & ~0xC000_0000_0000_0000) | 0x8000_0000_0000_0000)
        return (format(key), key)
    }

    /// The 36-character text of `key`'s 16 bytes, most significant first.
    private static func format(_ key: JobKey) -> String {
        String(unsafeUninitializedCapacity: 36) { text in
            digits.withUTF8Buffer { hex in
                var position = 0
                for index in 0..<16 {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        text[position] = UInt8(ascii: "-")
                        position += 1
                    }
                    let word = index < 8 ? key.high : key.low
                    let value = UInt8(truncatingIfNeeded: word >> (56 - 8 * UInt64(index % 8)))
                    text[position] = hex[Int(value >> 4)]
                    text[position + 1] = hex[Int(value & 0x0F)]
                    position += 2
                }
                return position
            }
        }
    }

    /// Fills `words` from `getrandom`; the system generator (one call per
    /// word) covers whatever that did not (it cannot fail on Linux ≥ 3.17
    /// once the pool is initialised, but a short read must not leave zeros).
    private static func refill(_ words: inout [UInt64]) {
        var filled = 0
        words.withUnsafeMutableBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            while filled < bytes.count {
                let count = getrandom(base + filled, bytes.count - filled, 0)
                if count > 0 {
                    filled += count
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    break
                }
            }
        }
        var generator = SystemRandomNumberGenerator()
        for index in (filled / 8)..<words.count {
            words[index] = generator.next()
        }
    }
}
