/// An event loop's timers: a binary min-heap by due time (then by order of
/// scheduling, so timers due at the same millisecond run in that order).
/// Owned by the loop thread. Timers are not cancelled: their tasks check
/// whether they still apply, as the connection's deadlines always did.
struct TimerHeap {
    private struct Entry {
        let due: Int64
        let sequence: UInt64
        let task: () -> Void

        func precedes(_ other: Entry) -> Bool {
            due != other.due ? due < other.due : sequence < other.sequence
        }
    }

    private var entries: [Entry] = []
    private var nextSequence: UInt64 = 0

    var isEmpty: Bool { entries.isEmpty }

    mutating func insert(due: Int64, _ task: @escaping () -> Void) {
        entries.append(Entry(due: due, sequence: nextSequence, task: task))
        nextSequence += 1
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].precedes(entries[parent]) else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    /// The earliest timer's task when it is due at `now`, removed.
    mutating func popDue(now: Int64) -> (() -> Void)? {
        guard let first = entries.first, first.due <= now else { return nil }
        let last = entries.removeLast()
        if !entries.isEmpty {
            entries[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < entries.count && entries[left].precedes(entries[smallest]) { smallest = left }
                if right < entries.count && entries[right].precedes(entries[smallest]) { smallest = right }
                if smallest == parent { break }
                entries.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first.task
    }

    /// How long `epoll_wait` may sleep: until the earliest timer, or for
    /// ever (-1) without timers.
    func timeoutMs(now: Int64) -> Int32 {
        guard let first = entries.first else { return -1 }
        return Int32(clamping: max(0, first.due - now))
    }

    mutating func removeAll() {
        entries.removeAll()
    }
}
