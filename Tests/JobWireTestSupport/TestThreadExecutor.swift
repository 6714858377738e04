import Foundation

/// A task executor with one thread of its own. A test whose body blocks
/// (socket reads with `poll`, `DispatchSemaphore.wait`, `Process.waitUntilExit`)
/// runs here, so it holds this thread instead of one of Swift's cooperative
/// threads, which number as many as the cores: on a 2-core machine two blocked
/// tests would starve every async test beside them.
///
/// Jobs run one at a time in the order they were enqueued. Only structured work
/// (the test body, `async let`, task group children) inherits the preference;
/// unstructured `Task {}` runs on the cooperative pool as usual.
public final class TestThreadExecutor: TaskExecutor, @unchecked Sendable {
    /// The key that marks these threads in their `threadDictionary` (Foundation's
    /// thread names are not reliable on Linux: they may keep the creator's).
    static let markerKey = "jobwire.test-thread"

    // Guards `jobs`, `finishing` and `onExit`.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var finishing = false
    private var onExit: CheckedContinuation<Void, Never>?

    public init() {
        let thread = Thread { [self] in
            Thread.current.threadDictionary[Self.markerKey] = true
            run()
        }
        thread.name = "jobwire-test"
        thread.stackSize = 8 << 20
        thread.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        precondition(!finishing, "a job was enqueued on a test thread after its test ended")
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Lets the thread run what is queued, then end; returns once it has ended,
    /// so a test leaves no thread behind. Waits without blocking its caller.
    public func finish() async {
        await withCheckedContinuation { continuation in
            condition.lock()
            finishing = true
            onExit = continuation
            condition.signal()
            condition.unlock()
        }
    }

    private func run() {
        while true {
            condition.lock()
            while jobs.isEmpty && !finishing {
                condition.wait()
            }
            if jobs.isEmpty {
                let waiter = onExit
                onExit = nil
                condition.unlock()
                waiter?.resume()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }

    /// Whether the calling thread is one of these executors' threads.
    public static var isCurrentThreadATestThread: Bool {
        Thread.current.threadDictionary[markerKey] as? Bool == true
    }
}
