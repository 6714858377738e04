import JobWireProtocol

/// A WatchJobs cursor: the history it belongs to (the store's epoch) and a
/// position in it, a *change number*.
///
/// The registry numbers every change it makes — a job's creation, each later
/// revision, its removal — from one counter, under its lock, in the order the
/// store then accepts them; a job's creation number is its creation sequence.
/// A cursor at N means "every change numbered N or less has been seen".
/// Numbers are per server history, so a cursor from another history (another
/// data directory, a memory store that restarted) is refused by its epoch and
/// answered with a resync, never misread.
package struct ChangeCursor: Equatable {
    package var epoch: String
    package var position: UInt64

    package var encoded: String { epoch + "." + String(position, radix: 36) }

    package init(epoch: String, position: UInt64) {
        self.epoch = epoch
        self.position = position
    }

    /// INVALID_ARGUMENT / INVALID_CURSOR for text that is no cursor at all;
    /// a well-formed cursor of another history parses (and resyncs).
    init(parsing text: String) throws(JobWireError) {
        let invalid = JobWireError(.invalidArgument, Reason.invalidCursor,
                                   "\"\(text.prefix(64))\" is not a WatchJobs cursor (send back one the server sent)")
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...64).contains(parts[0].utf8.count),
              parts[0].utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }),
              let position = UInt64(parts[1], radix: 36) else { throw invalid }
        epoch = String(parts[0])
        self.position = position
    }
}

/// One entry of a tenant's change log: the change numbered `sequence` to the
/// job in `slot`. A later change to the same job makes the entry stale (the
/// job's record holds its latest number); a removal entry stays until the
/// retained removals are pruned.
struct ChangeEntry {
    /// Whether a removal is accepted by the store (a delete waits for it); shared with the closure that accepts it.
    final class RemovalMark: @unchecked Sendable {
        /// Only under the registry's lock.
        var accepted = false
    }

    enum Kind {
        /// The change that made `revision` of the job in the slot.
        case change(JobSlot, revision: UInt64)
        /// The job left the registry (deleted or expired).
        case removal(jobID: String, RemovalMark)
    }

    let sequence: UInt64
    let kind: Kind

    init(sequence: UInt64, slot: JobSlot, revision: UInt64) {
        self.sequence = sequence
        kind = .change(slot, revision: revision)
    }

    init(sequence: UInt64, removedJobID: String, mark: RemovalMark) {
        self.sequence = sequence
        kind = .removal(jobID: removedJobID, mark)
    }

    var isRemoval: Bool {
        if case .removal = kind { return true }
        return false
    }

    /// The entry still says something: it is the job's latest change, or a removal.
    var isCurrent: Bool {
        switch kind {
        case .change(let slot, _): !slot.isRemoved && slot.record.changeSequence == sequence
        case .removal: true
        }
    }

    /// Readers may see it: the store accepted it (under the lock).
    var isAccepted: Bool {
        switch kind {
        case .change(let slot, let revision):
            slot.catchUp()
            return (slot.record.visible?.summary.revision ?? 0) >= revision
        case .removal(_, let mark):
            return mark.accepted
        }
    }
}

/// One tenant's changes in change order: what a WatchJobs snapshot, a
/// resume and a lagging watcher's catch-up read, from any position, with no
/// history kept beyond each job's latest change and the retained removals.
///
/// Owned by the registry's state, under its lock.
struct TenantChanges {
    private(set) var entries: [ChangeEntry] = []
    /// Job entries no longer current; dropped when they are half of the job
    /// entries. Counted against those alone: a stale entry holds its job's
    /// slot — a deleted job's whole record — until then, while removal entries
    /// (an id each) may number the retained removals.
    private var staleEntries = 0
    private var removalEntries = 0

    mutating func append(_ entry: ChangeEntry) {
        entries.append(entry)
        if entry.isRemoval { removalEntries += 1 }
    }

    /// Restored jobs and removals arrive in any order: sort once.
    mutating func sortAfterRestore() {
        if !zip(entries, entries.dropFirst()).allSatisfy({ $0.sequence < $1.sequence }) {
            entries.sort { $0.sequence < $1.sequence }
        }
    }

    /// A job entry became stale (its job changed again or left).
    mutating func noteStale(retainedRemovalsFrom horizon: UInt64) {
        staleEntries += 1
        guard staleEntries > 1024, staleEntries * 2 > entries.count - removalEntries else { return }
        entries.removeAll { entry in entry.isRemoval ? entry.sequence <= horizon : !entry.isCurrent }
        removalEntries = entries.reduce(0) { $0 + ($1.isRemoval ? 1 : 0) }
        staleEntries = 0
    }

    /// The index of the first entry numbered above `position`.
    func firstIndex(after position: UInt64) -> Int {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].sequence <= position {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low
    }

    var isEmpty: Bool { entries.isEmpty }
}
