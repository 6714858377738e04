/// A ring that keeps the last `capacity` elements appended, oldest first.
/// Used for a job's log lines and its retained watch history.
struct BoundedRing<Element> {
    let capacity: Int
    private var storage: [Element] = []
    private var start = 0

    init(capacity: Int) {
        precondition(capacity > 0, "a ring needs room for at least one element")
        self.capacity = capacity
    }

    var count: Int { storage.count }
    var isEmpty: Bool { storage.isEmpty }

    mutating func append(_ element: Element) {
        if storage.count < capacity {
            storage.append(element)
        } else {
            storage[start] = element
            start = (start + 1) % capacity
        }
    }

    /// The element `index` places after the oldest one.
    subscript(index: Int) -> Element {
        storage[(start + index) % storage.count]
    }

    var first: Element? { isEmpty ? nil : self[0] }
    var last: Element? { isEmpty ? nil : self[count - 1] }

    /// The newest `count` elements, oldest first.
    func suffix(_ count: Int) -> [Element] {
        let take = min(count, storage.count)
        return (storage.count - take..<storage.count).map { self[$0] }
    }
}

extension BoundedRing: Sendable where Element: Sendable {}
