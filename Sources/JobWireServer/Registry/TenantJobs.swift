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
/// Owned by the registry's state, under its lock.
struct TenantJobs {
    /// Ascending creation sequence.
    private(set) var slots: [JobSlot] = []
    private(set) var removedEntries = 0

    var isEmpty: Bool { slots.count == removedEntries }

    mutating func reserveCapacity(_ capacity: Int) {
        slots.reserveCapacity(capacity)
    }

    /// A new job (its sequence is higher than every other's), or a restored
    /// one in the order the store returned it (then ``sortIfNeeded()``).
    mutating func append(_ slot: JobSlot) {
        slots.append(slot)
    }

    /// Stores return jobs in creation order; sort only when one did not.
    mutating func sortIfNeeded() {
        if !zip(slots, slots.dropFirst()).allSatisfy({ $0.record.sequence < $1.record.sequence }) {
            slots.sort { $0.record.sequence < $1.record.sequence }
        }
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
        removedEntries = 0
    }

    /// The index of the first entry whose sequence is at least `sequence`.
    func firstIndex(atLeast sequence: UInt64) -> Int {
        var low = 0
        var high = slots.count
        while low < high {
            let middle = (low + high) / 2
            if slots[middle].record.sequence < sequence {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low
    }
}
