import JobWireProtocol

/// One tenant's jobs in creation order: what ListJobs pages through and
/// Stats counts, so neither looks at another tenant's jobs nor hashes an id
/// per job.
///
/// Entries are the jobs' slots, not their ids: a reader goes from an entry
/// to the record with one pointer. Removing a job from the middle of a
/// million entries costs a large move, so a removed job's entry stays behind
/// (its slot says ``JobSlot/isRemoved``) until removed entries are half of
/// them (``compactIfBloated()``).
///
/// Beside each entry, a byte of status bits: the statuses its job may show a
/// reader. A scan with a status filter skips the entries whose bits miss it
/// without touching their slots — a million slots are a million cache misses,
/// and most of a filtered page's time. A status change adds the new status's
/// bit at once (under the lock, before the store accepts it, so both the old
/// and the new status are possible); a scan that finds a settled job narrows
/// its bits back to its one status. The bits may say too much, never too
/// little: every job they let through is checked exactly.
///
/// Owned by the registry's state, under its lock.
struct TenantJobs {
    /// Ascending creation sequence.
    private(set) var slots: [JobSlot] = []
    /// The same slots, unretained, for scans: reading a class reference out
    /// of an array retains and releases it, and for a million jobs that was
    /// a third of a ListJobs page. `slots` keeps them alive.
    private var unretained: [Unmanaged<JobSlot>] = []
    /// Bit `status.rawValue` for each status the job may show a reader.
    private var statusBits: [UInt8] = []
    private(set) var removedEntries = 0

    var isEmpty: Bool { slots.count == removedEntries }

    static func bit(_ status: JobStatus) -> UInt8 { 1 << UInt8(status.rawValue) }

    mutating func reserveCapacity(_ capacity: Int) {
        slots.reserveCapacity(capacity)
        unretained.reserveCapacity(capacity)
        statusBits.reserveCapacity(capacity)
    }

    /// A new job (its sequence is higher than every other's), or a restored
    /// one in the order the store returned it (then ``sortIfNeeded()``).
    mutating func append(_ slot: JobSlot) {
        slot.tenantPosition = slots.count
        slots.append(slot)
        unretained.append(Unmanaged.passUnretained(slot))
        statusBits.append(Self.bit(slot.record.summary.status))
    }

    /// Stores return jobs in creation order; sort only when one did not.
    mutating func sortIfNeeded() {
        if !zip(slots, slots.dropFirst()).allSatisfy({ $0.record.sequence < $1.record.sequence }) {
            slots.sort { $0.record.sequence < $1.record.sequence }
            rebuild()
        }
    }

    /// The job in `slot` may now show `status` (a change to it waits for the store).
    mutating func noteStatus(_ status: JobStatus, of slot: JobSlot) {
        let position = slot.tenantPosition
        guard position < slots.count, slots[position] === slot else { return }
        statusBits[position] |= Self.bit(status)
    }

    /// A job of this tenant was removed (its slot is marked).
    mutating func noteRemoved() {
        removedEntries += 1
        compactIfBloated()
    }

    /// Drops the entries of removed jobs once they are half of all.
    mutating func compactIfBloated() {
        guard removedEntries > 1024, removedEntries * 2 > slots.count else { return }
        slots.removeAll { $0.isRemoved }
        rebuild()
        removedEntries = 0
    }

    /// The arrays beside `slots`, and each slot's position, from `slots`.
    private mutating func rebuild() {
        unretained = slots.map { Unmanaged.passUnretained($0) }
        statusBits = slots.map { slot in
            var bits = Self.bit(slot.record.summary.status)
            if let visible = slot.record.visible?.summary.status { bits |= Self.bit(visible) }
            return bits
        }
        for (position, slot) in slots.enumerated() { slot.tenantPosition = position }
    }

    /// Calls `body` with each live job whose status bits meet `statusMask`
    /// (0: every job), newest first when `backwards`; narrows the bits of
    /// settled jobs on the way. Under the lock.
    mutating func scan(statusMask: UInt32, backwards: Bool, _ body: (JobSlot) -> Void) {
        let count = slots.count
        let mask = UInt8(truncatingIfNeeded: statusMask)
        unretained.withUnsafeBufferPointer { unretained in
            statusBits.withUnsafeMutableBufferPointer { bits in
                for offset in 0..<count {
                    let position = backwards ? count - 1 - offset : offset
                    if mask != 0 && bits[position] & mask == 0 { continue }
                    unretained[position]._withUnsafeGuaranteedRef { slot in
                        guard !slot.isRemoved else { return }
                        if bits[position].nonzeroBitCount > 1, slot.isSettledNow {
                            bits[position] = Self.bit(slot.record.summary.status)
                        }
                        body(slot)
                    }
                }
            }
        }
    }
}
