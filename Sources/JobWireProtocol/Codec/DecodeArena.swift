internal import CJobWireProto

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The allocator protobuf-c unpacks into: a bump arena with a byte budget.
///
/// Why an arena: one decode makes many small allocations (every map entry,
/// nested message and string); taking them from a few blocks and releasing
/// the blocks together is faster than malloc/free per object, and releasing
/// the arena frees every C struct of the message on every path, failed
/// unpacks included. Why a budget: protobuf-c has no limit of its own, and a
/// few bytes of input can ask for a large struct (an empty sub-message is two
/// bytes on the wire and hundreds in memory). Past the budget, allocation
/// fails, protobuf-c's unpack returns NULL, and ``exhausted`` tells that apart
/// from malformed input.
///
/// Owned by the one decode call that creates it; never shared across threads.
struct DecodeArena: ~Copyable {
    /// Bytes of decoded C structs allowed per byte of input, plus a floor.
    /// Legitimate messages stay well below 8x (a map entry of two uint32s is
    /// 6 bytes on the wire and 32 in memory).
    static let bytesPerInputByte = 16
    static let budgetFloor = 1024 * 1024

    private let state: UnsafeMutablePointer<ArenaState>

    init(inputBytes: Int) {
        state = .allocate(capacity: 1)
        state.initialize(to: ArenaState(
            budget: Self.budgetFloor + inputBytes.multipliedReportingOverflow(by: Self.bytesPerInputByte).partialValue,
            // Typical messages unpack to about twice their wire size: one
            // block usually holds everything.
            firstBlockBytes: min(max(ArenaState.minimumBlockBytes, inputBytes * 2), ArenaState.largestBlockBytes)
        ))
    }

    deinit {
        state.pointee.blocks.releaseAll()
        state.deinitialize(count: 1)
        state.deallocate()
    }

    /// True once an allocation was refused because the budget ran out.
    var exhausted: Bool { state.pointee.exhausted }

    /// Runs `body` with a protobuf-c allocator that draws from this arena.
    func withAllocator<R>(_ body: (UnsafeMutablePointer<ProtobufCAllocator>) throws(JobWireError) -> R) throws(JobWireError) -> R {
        var allocator = ProtobufCAllocator(alloc: arenaAlloc, free: arenaFree, allocator_data: UnsafeMutableRawPointer(state))
        return try body(&allocator)
    }
}

/// The arena's mutable state, reached from the C callbacks through
/// `allocator_data`.
private struct ArenaState {
    static let minimumBlockBytes = 4 * 1024
    static let largestBlockBytes = 1024 * 1024

    var budget: Int
    var used = 0
    var exhausted = false
    var blocks: ArenaBlocks

    init(budget: Int, firstBlockBytes: Int) {
        self.budget = budget
        blocks = ArenaBlocks(firstBlockBytes: firstBlockBytes, largestBlockBytes: Self.largestBlockBytes)
    }

    mutating func allocate(_ size: Int) -> UnsafeMutableRawPointer? {
        let rounded = ArenaBlocks.rounded(size)
        guard rounded <= budget - used, let memory = blocks.allocate(rounded) else {
            exhausted = true
            return nil
        }
        used += rounded
        return memory
    }
}

private func arenaAlloc(_ data: UnsafeMutableRawPointer?, _ size: Int) -> UnsafeMutableRawPointer? {
    guard let data else { return nil }
    return data.assumingMemoryBound(to: ArenaState.self).pointee.allocate(size)
}

/// Everything is released with the arena; protobuf-c's own frees (on a failed
/// unpack) have nothing to do.
private func arenaFree(_ data: UnsafeMutableRawPointer?, _ pointer: UnsafeMutableRawPointer?) {}
