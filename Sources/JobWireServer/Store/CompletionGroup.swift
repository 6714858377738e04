#if canImport(Glibc)
import Glibc
#endif

/// Lets a store that completes many changes at once (a group commit) have the
/// registry take its lock once for all of them, instead of once per change:
/// the store calls the completions of one commit inside
/// ``completeTogether(_:)``. Each completion then only records the store's
/// answer; when the block ends, the registry makes every accepted change
/// visible in one critical section and runs the replies after it. Completions
/// called elsewhere take the lock one by one, so using it is an optimisation,
/// never a requirement.
///
/// Under 64 clients creating jobs, a lock and a few allocations per completion
/// on the store's thread contended with the event loops and grew the CPU per
/// durable create (docs/BENCHMARKS.md).
public enum CompletionGroup {
    /// Runs `body`, in which the calling thread completes one commit's changes.
    public static func completeTogether(_ body: () -> Void) {
        let group = Group.forThisThread()
        group.depth += 1
        body()
        group.depth -= 1
        if group.depth == 0 { group.flush() }
    }

    /// The group the calling thread is completing, if any.
    static var current: Group? {
        guard let group = Group.existing(), group.depth > 0 else { return nil }
        return group
    }

    /// One thread's answers of the commit it is completing. Kept for the
    /// thread's life, so its buffer's capacity is reused from commit to commit.
    final class Group {
        fileprivate var depth = 0
        private var answers: [(registry: JobRegistry, answer: StoreAnswer)] = []

        func add(_ registry: JobRegistry, _ answer: StoreAnswer) {
            answers.append((registry, answer))
        }

        /// Settles the answers, one critical section per run of the same registry.
        fileprivate func flush() {
            var start = 0
            while start < answers.count {
                let registry = answers[start].registry
                var end = start + 1
                while end < answers.count && answers[end].registry === registry { end += 1 }
                registry.settle(answers[start..<end].lazy.map(\.answer))
                start = end
            }
            answers.removeAll(keepingCapacity: true)
        }

        private static let key: pthread_key_t = {
            var key = pthread_key_t()
            pthread_key_create(&key, { pointer in pointer.map { Unmanaged<Group>.fromOpaque($0).release() } })
            return key
        }()

        static func existing() -> Group? {
            pthread_getspecific(key).map { Unmanaged<Group>.fromOpaque($0).takeUnretainedValue() }
        }

        static func forThisThread() -> Group {
            if let group = existing() { return group }
            let group = Group()
            pthread_setspecific(key, Unmanaged.passRetained(group).toOpaque())
            return group
        }
    }
}
