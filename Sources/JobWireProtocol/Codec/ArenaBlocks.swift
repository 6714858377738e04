#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The memory behind ``PackArena`` and ``DecodeArena``: bump allocation from
/// malloc'd blocks, released together.
///
/// The first block is the calling thread's scratch block when it is large
/// enough, and goes back to the thread afterwards instead of to malloc: glibc
/// serves blocks of these sizes (16 KiB to pack a job, 4 KiB to unpack a
/// request) from its large bins and consolidates its fast bins first, so a
/// fresh block per encode and decode was a large share of the event loops'
/// CPU (docs/BENCHMARKS.md, "Where a durable create's CPU goes").
///
/// Owned by one arena on one thread; ``releaseAll()`` must run exactly once.
struct ArenaBlocks {
    static let alignment = 16
    /// Each block starts with a pointer to the block made before it.
    private static let headerBytes = 16

    private var blocks: UnsafeMutableRawPointer?
    /// The thread's scratch block while this arena uses it.
    private var scratch: UnsafeMutableRawPointer?
    private var cursor: UnsafeMutableRawPointer?
    private var remaining = 0
    private var nextBlockBytes: Int
    private let largestBlockBytes: Int

    init(firstBlockBytes: Int, largestBlockBytes: Int) {
        nextBlockBytes = firstBlockBytes
        self.largestBlockBytes = largestBlockBytes
    }

    /// `bytes` (rounded up to the alignment); nil when malloc fails.
    mutating func allocate(_ bytes: Int) -> UnsafeMutableRawPointer? {
        let rounded = Self.rounded(bytes)
        if rounded > remaining {
            var payload = max(rounded, nextBlockBytes)
            let block: UnsafeMutableRawPointer
            if blocks == nil, scratch == nil, payload <= ScratchBlock.payloadBytes, let reused = ScratchBlock.take() {
                block = reused
                scratch = reused
                payload = ScratchBlock.payloadBytes
            } else {
                guard let fresh = malloc(payload + Self.headerBytes) else { return nil }
                block = fresh
            }
            block.storeBytes(of: blocks, as: UnsafeMutableRawPointer?.self)
            blocks = block
            cursor = block + Self.headerBytes
            remaining = payload
            nextBlockBytes = min(nextBlockBytes * 2, largestBlockBytes)
        }
        guard let result = cursor else { return nil }
        cursor = result + rounded
        remaining -= rounded
        return result
    }

    static func rounded(_ bytes: Int) -> Int {
        (max(bytes, 1) + alignment - 1) & ~(alignment - 1)
    }

    /// Frees every block but the scratch block, which goes back to the thread.
    mutating func releaseAll() {
        var block = blocks
        while let current = block {
            block = current.load(as: UnsafeMutableRawPointer?.self)
            if current != scratch { free(current) }
        }
        if let scratch { ScratchBlock.give(scratch) }
        blocks = nil
        scratch = nil
        cursor = nil
        remaining = 0
    }
}

/// One reusable block per thread (a pthread key; freed when the thread ends).
/// An arena takes it while it runs, so a second arena on the same thread (a
/// nested encode) simply mallocs its own.
private enum ScratchBlock {
    /// Fits a typical job's C structs when packing, and most requests' when
    /// unpacking, in one block.
    static let payloadBytes = 16 * 1024
    private static let blockBytes = payloadBytes + 16

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        // Without a key every arena simply mallocs, as before.
        _ = pthread_key_create(&key) { block in free(block) }
        return key
    }()

    static func take() -> UnsafeMutableRawPointer? {
        if let block = pthread_getspecific(key) {
            pthread_setspecific(key, nil)
            return block
        }
        return malloc(blockBytes)
    }

    static func give(_ block: UnsafeMutableRawPointer) {
        if pthread_getspecific(key) == nil, pthread_setspecific(key, block) == 0 {
            return
        }
        free(block)
    }
}
