/// The stream ports Configure hands out when a request gives none. A port is
/// in use from allocation until its job ends or is deleted.
///
/// Owned by the registry, under its lock.
struct StreamPortPool {
    let range: ClosedRange<UInt16>
    private var inUse: Set<UInt16> = []
    /// Where the next search starts, so ports are reused as late as possible.
    private var cursor: UInt16

    init(range: ClosedRange<UInt16>) {
        self.range = range
        cursor = range.lowerBound
    }

    var available: Int { range.count - inUse.count }

    func contains(_ port: UInt16) -> Bool { range.contains(port) }

    func isInUse(_ port: UInt16) -> Bool { inUse.contains(port) }

    mutating func allocate() -> UInt16? {
        guard inUse.count < range.count else { return nil }
        var candidate = cursor
        while inUse.contains(candidate) {
            candidate = candidate == range.upperBound ? range.lowerBound : candidate + 1
        }
        inUse.insert(candidate)
        cursor = candidate == range.upperBound ? range.lowerBound : candidate + 1
        return candidate
    }

    /// Marks a port that a request named explicitly; false when it is taken.
    mutating func claim(_ port: UInt16) -> Bool {
        guard contains(port) else { return true }
        return inUse.insert(port).inserted
    }

    mutating func release(_ port: UInt16) {
        inUse.remove(port)
    }
}
