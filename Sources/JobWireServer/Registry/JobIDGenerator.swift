import CEpoll
import JobWireSync

#if canImport(Glibc)
import Glibc
#endif

/// Random (version 4) UUIDs in lower-case text form.
///
/// The random bits come from the kernel's generator (`getrandom`), 4 KiB at
/// a time: drawing them per job took two system calls per Configure, made
/// under the registry's lock (with the arrays built around them, 3 % of a
/// durable create's CPU in `perf`).
enum JobIDGenerator {
    private struct Pool: ~Copyable {
        var words = [UInt64](repeating: 0, count: 512)
        /// Words already handed out; refilled when fewer than two are left.
        var used = 512
    }

    private static let pool = Locked(Pool())
    private static let digits: StaticString = "0123456789abcdef"

    static func make() -> String {
        var (high, low) = pool.withLock { pool in
            if pool.used + 2 > pool.words.count {
                refill(&pool.words)
                pool.used = 0
            }
            defer { pool.used += 2 }
            return (pool.words[pool.used], pool.words[pool.used + 1])
        }
        return withUnsafeBytes(of: &high) { highBytes in
            withUnsafeBytes(of: &low) { lowBytes in
                format { $0 < 8 ? highBytes[$0] : lowBytes[$0 - 8] }
            }
        }
    }

    /// The 36-character text of the UUID whose 16 bytes `byte(i)` gives,
    /// with the version and variant bits set.
    private static func format(_ byte: (Int) -> UInt8) -> String {
        String(unsafeUninitializedCapacity: 36) { text in
            digits.withUTF8Buffer { hex in
                var position = 0
                for index in 0..<16 {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        text[position] = UInt8(ascii: "-")
                        position += 1
                    }
                    var value = byte(index)
                    if index == 6 { value = (value & 0x0F) | 0x40 }  // version 4
                    if index == 8 { value = (value & 0x3F) | 0x80 }  // RFC 4122 variant
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
