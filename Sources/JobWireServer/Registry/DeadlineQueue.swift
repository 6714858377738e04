/// When the reaper must look at each job or tombstone next, as a binary
/// min-heap: a reaper pass costs O(due · log n) instead of a scan of every
/// job under the registry's lock (with a million jobs that scan held the lock
/// for ~0.4 s of every second).
///
/// Entries are hints, not the truth: a job's deadline lives in its record.
/// ``RegistryState/schedule(_:)`` queues a job only when its new deadline is
/// earlier than the one it already has queued (a lease renewed every second
/// adds nothing), and the reaper, popping an entry, re-reads the record and
/// re-queues it at its real deadline if that is later. Entries of deleted
/// jobs are skipped when popped; ``RegistryState/compactDeadlinesIfBloated()``
/// rebuilds the heap when they outnumber the live ones.
///
/// Owned by ``RegistryState``, under the registry's lock.
struct DeadlineQueue {
    enum Kind: UInt8 {
        /// A job's lease deadline (while it runs) or retention end (once terminal).
        case job
        /// The time an expired job's tombstone is forgotten.
        case tombstone
    }

    struct Entry {
        var atMs: Int64
        var jobID: String
        var kind: Kind
    }

    private var heap: [Entry] = []

    var count: Int { heap.count }

    mutating func reserveCapacity(_ capacity: Int) {
        heap.reserveCapacity(capacity)
    }

    mutating func push(_ entry: Entry) {
        heap.append(entry)
        siftUp(heap.count - 1)
    }

    /// Removes and returns the earliest entry if it is due at `now`.
    mutating func popDue(now: Int64) -> Entry? {
        guard let first = heap.first, first.atMs <= now else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(0)
        }
        return first
    }

    /// Replaces every entry with `entries` in O(n).
    mutating func rebuild(_ entries: [Entry]) {
        heap = entries
        var index = heap.count / 2
        while index > 0 {
            index -= 1
            siftDown(index)
        }
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].atMs < heap[parent].atMs else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { return }
            let right = left + 1
            let child = right < heap.count && heap[right].atMs < heap[left].atMs ? right : left
            guard heap[child].atMs < heap[parent].atMs else { return }
            heap.swapAt(child, parent)
            parent = child
        }
    }
}
