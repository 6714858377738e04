/// A job's retained watch events, oldest first, bounded both in count and in
/// bytes: an event carries the whole encoded job, so a count alone would let
/// a large, busy job hold megabytes. The newest event is always kept.
///
/// Owned by the job's ``JobRecord``.
struct EventHistory: Sendable {
    let maxCount: Int
    let maxBytes: Int
    private(set) var events: [StoredEvent] = []
    private(set) var bytes = 0

    init(maxCount: Int, maxBytes: Int) {
        self.maxCount = max(1, maxCount)
        self.maxBytes = maxBytes
    }

    var count: Int { events.count }
    var first: StoredEvent? { events.first }
    var isEmpty: Bool { events.isEmpty }

    mutating func append(_ event: StoredEvent) {
        events.append(event)
        bytes += event.encodedEvent.count
        var drop = 0
        while events.count - drop > 1 && (events.count - drop > maxCount || bytes > maxBytes) {
            bytes -= events[drop].encodedEvent.count
            drop += 1
        }
        if drop > 0 { events.removeFirst(drop) }
    }

    /// Events after `revision`, oldest first.
    func events(after revision: UInt64) -> ArraySlice<StoredEvent> {
        let start = events.firstIndex { $0.revision > revision } ?? events.endIndex
        return events[start...]
    }
}
