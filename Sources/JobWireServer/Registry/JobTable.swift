import JobWireProtocol

/// The registry's jobs by id: each ``JobRecord`` in a heap slot of its own.
///
/// A dictionary of records held them inline, which cost twice:
/// - reading a record copied it out — about eight references, each retained
///   and released on a cache line of its own — so GetMetadata paid for the
///   whole record to send its cached bytes (the optimizer keeps the copy even
///   when only one field is read; docs/BENCHMARKS.md has the cost);
/// - every bucket of the hash table, occupied or not, took a whole record
///   (~220 bytes), and a table is up to half empty after it grows.
/// With slots, a bucket is one pointer and ``servedBytes(_:tenant:)`` reads
/// the record where it lies. Keys are the ids' 16 bytes (``JobKey``); an id
/// that is not a UUID is in no table.
///
/// Copies of a table share its slots, so it has exactly one owner: the
/// registry's state, under the registry's lock.
struct JobTable {
    private typealias Slot = JobSlot

    private var slots: [JobKey: Slot] = [:]

    var count: Int { slots.count }

    mutating func reserveCapacity(_ capacity: Int) {
        slots.reserveCapacity(capacity)
    }

    /// A copy of the record (nil: no such job); setting stores a changed
    /// record, setting nil removes it. An id that is not a UUID has no
    /// record and stores none: the registry only holds ids checked to be
    /// UUIDs (see ``JobKey``).
    subscript(jobID: String) -> JobRecord? {
        get { JobKey(jobID).flatMap { slots[$0]?.caughtUp } }
        set {
            guard let key = JobKey(jobID) else { return }
            if let newValue {
                if let slot = slots[key] {
                    slot.record = newValue
                } else {
                    slots[key] = Slot(newValue)
                }
            } else {
                slots.removeValue(forKey: key)
            }
        }
    }

    /// Adds a job that is not in the table yet under `key`, its id's key:
    /// one hash probe, and the record moved into its slot, not copied (a
    /// copy retains and releases every reference in it; at start-up, with a
    /// million records, the setter's two probes and copies took 0.9 s).
    @discardableResult
    mutating func insertNew(_ record: consuming JobRecord, key: JobKey) -> JobSlot {
        let slot = Slot(record)
        slots[key] = slot
        return slot
    }

    /// The slot holding `jobID`'s record, for a store's completion to mark
    /// revisions accepted without the registry's lock.
    func slot(_ jobID: String) -> JobSlot? {
        JobKey(jobID).flatMap { slots[$0] }
    }

    /// Changes the record of `jobID` where it lies, without copying it out
    /// and back; false when there is none.
    @discardableResult
    func modify(_ jobID: String, _ body: (inout JobRecord) -> Void) -> Bool {
        guard let key = JobKey(jobID), let slot = slots[key] else { return false }
        slot.catchUp()
        body(&slot.record)
        return true
    }

    mutating func removeValue(forKey jobID: String) -> JobRecord? {
        guard let key = JobKey(jobID) else { return nil }
        return slots.removeValue(forKey: key)?.record
    }

    /// GetMetadata's hot path: the cached bytes of `jobID` if they may be
    /// sent to `tenant` as they are, without copying the record. Nil means
    /// "ask ``RegistryState/servable(_:tenant:)``", which answers the error or
    /// verifies a restored job first.
    func servedBytes(_ jobID: String, tenant: String) -> [UInt8]? {
        guard let key = JobKey(jobID) else { return nil }
        return slots[key]?.servedBytes(tenant: tenant)
    }

    /// Calls `body` with every record, in no particular order.
    func forEach(_ body: (borrowing JobRecord) throws -> Void) rethrows {
        for slot in slots.values {
            try body(slot.record)
        }
    }

    /// Lets `body` change every record in place.
    mutating func updateEach(_ body: (inout JobRecord) -> Void) {
        for slot in slots.values {
            body(&slot.record)
        }
    }
}
