import JobWireProtocol
import Synchronization

/// The heap cell of one job in ``JobTable``: its record, owned by the
/// registry's lock, and the one word a store's completion may write without
/// that lock.
///
/// A store accepts a job's revisions in order from its own thread. Taking the
/// registry's lock there for every accepted change, to make it visible,
/// contended with the event loops (docs/BENCHMARKS.md); so a completion only
/// stores the revision here, and the record catches up the next time anyone
/// reads or changes it under the lock (``catchUp()``). Only when something
/// must happen under the lock at that moment — a watcher to tell, a reply
/// waiting for the revision, a delete to finish — has the registry set the
/// slot's *needs-lock* flag, and the completion takes the lock.
///
/// The revision and the flag share one atomic word, so a watch that
/// registers (setting the flag) and a completion that stores a revision see
/// each other in one order: either the completion sees the flag and tells the
/// watch, or the watch sees the revision and starts from it.
final class JobSlot: @unchecked Sendable {
    /// Only under the registry's lock.
    var record: JobRecord
    /// Set, under the lock, when the job leaves the registry: its entry in
    /// ``TenantJobs`` is then skipped until compacted away.
    var isRemoved = false
    /// Where the slot is in its tenant's ``TenantJobs`` (under the lock).
    var tenantPosition = 0

    /// The highest accepted revision, shifted left by one, with the needs-lock flag in bit 0.
    private let acceptance = Atomic<UInt64>(0)

    init(_ record: consuming JobRecord) {
        self.record = record
    }

    /// The record, caught up with what the store accepted.
    var caughtUp: JobRecord {
        catchUp()
        return record
    }

    /// Applies the revisions accepted since the record last looked (under the lock).
    func catchUp() {
        guard !record.isSettled else { return }
        let accepted = acceptance.load(ordering: .acquiring) >> 1
        if accepted > 0 { record.accept(revision: accepted) }
    }

    /// From a store's completion: `revision` is accepted. Returns whether the
    /// registry asked for its lock to be taken now.
    func markAccepted(_ revision: UInt64) -> Bool {
        var current = acceptance.load(ordering: .relaxed)
        while true {
            let next = max(current >> 1, revision) << 1 | (current & 1)
            let (exchanged, original) = acceptance.compareExchange(expected: current, desired: next,
                                                                   ordering: .acquiringAndReleasing)
            if exchanged { return original & 1 == 1 }
            current = original
        }
    }

    /// Under the lock: from now on, completions for this job take the lock.
    /// The record is caught up with every revision accepted before.
    func requireLock() {
        let original = acceptance.bitwiseOr(1, ordering: .acquiringAndReleasing).oldValue
        let accepted = original >> 1
        if accepted > 0 && !record.isSettled { record.accept(revision: accepted) }
    }

    /// Under the lock: whether every change to the job is accepted, after
    /// catching up with what the store accepted meanwhile.
    var isSettledNow: Bool {
        if record.isSettled { return true }
        catchUp()
        return record.isSettled
    }

    /// The numbers Stats counts, of the job readers see, read field by field
    /// (see ``visibleMatches(_:nowMs:)``); nil while its creation waits.
    func visibleFigures() -> (status: JobStatus, createdAtMs: Int64, completedAtMs: Int64, expiresAtMs: Int64)? {
        if !isSettledNow {
            guard let summary = record.visible?.summary else { return nil }
            return (summary.status, summary.createdAtMs, summary.completedAtMs, summary.expiresAtMs)
        }
        return (record.summary.status, record.summary.createdAtMs, record.summary.completedAtMs, record.summary.expiresAtMs)
    }

    /// ListJobs' and Stats' scan: whether the job readers see matches
    /// `filter` and is not past its retention. A settled record is read field
    /// by field, numbers first, so the jobs the numbers refuse cost no
    /// reference counting (copying the summary for each of a million jobs was
    /// two thirds of a page's time); the text filters see the summary only
    /// for the jobs that pass.
    func visibleMatches(_ filter: JobFilter, nowMs: Int64) -> Bool {
        if !isSettledNow {
            guard let visible = record.visible else { return false }
            return filter.matches(visible.summary)
                && !JobRecord.isPastRetention(status: visible.summary.status, expiresAtMs: visible.summary.expiresAtMs,
                                              nowMs: nowMs)
        }
        let status = record.summary.status
        guard filter.matchesScalars(status: status, createdAtMs: record.summary.createdAtMs,
                                    priority: record.summary.priority) else { return false }
        if status.isTerminal,
           JobRecord.isPastRetention(status: status, expiresAtMs: record.summary.expiresAtMs, nowMs: nowMs) {
            return false
        }
        return !filter.hasText || filter.matchesText(record.summary)
    }

    /// GetMetadata's hot path: the cached bytes if `tenant` may be sent them
    /// as they are: its job, checked to decode, every change accepted by the
    /// store, not past its retention. Read field by field: calling a method of
    /// `record` copies all of it first.
    func servedBytes(tenant: String) -> [UInt8]? {
        if !record.isSettled {
            catchUp()
            guard record.isSettled else { return nil }
        }
        guard record.isVerified, record.summary.tenant == tenant else { return nil }
        // The status first: only terminal jobs expire, so a live job never reads the clock.
        if record.summary.status.isTerminal,
           JobRecord.isPastRetention(status: record.summary.status, expiresAtMs: record.summary.expiresAtMs,
                                     nowMs: WallClock.nowMs()) {
            return nil
        }
        return record.encodedJob
    }
}
