import Dispatch
import JobWireProtocol
import JobWireSync
import Synchronization
import CEpoll

#if canImport(Glibc)
import Glibc
#endif

/// One thread running `epoll_wait`: the descriptors registered with it, the
/// tasks other threads hand it, and its timers all run on that thread.
///
/// Why not Dispatch sources: libdispatch's epoll backend on Linux aborts
/// ("Source finalized twice") under a churn of connections that are reset
/// while others arrive, and it delivers each event through its manager
/// thread to a worker (two thread hand-offs per request). Here the thread
/// that `epoll_wait` wakes reads, handles and writes.
///
/// Threading: `handlers`, `timers` and `readBuffer` belong to the loop
/// thread. Other threads only touch `shared` (the task list, under a lock)
/// and write the eventfd, which they do only while holding that lock, so
/// they never write a descriptor `stop` has closed.
final class EventLoop: @unchecked Sendable {
    typealias Handler = (_ events: UInt32) -> Void

    private enum RunState {
        case idle, running, stopping, stopped
    }

    private struct Shared: ~Copyable {
        var state = RunState.idle
        var tasks: [@Sendable () -> Void] = []
        /// True once someone wrote the eventfd and the loop has not taken
        /// the tasks since: more writes would only cost system calls.
        var wakePending = false
    }

    let name: String
    /// Shared by every connection on this loop: only touched during a read
    /// turn on the loop thread, and the decoder copies what it must keep.
    let readBuffer: UnsafeMutableRawBufferPointer

    private let shared = Locked(Shared())
    private let threadID = Atomic<UInt>(0)
    /// Left by the loop thread after it closed its descriptors.
    private let exited = DispatchGroup()
    private var thread = pthread_t()
    // Set in `start`, before the thread exists; read-only afterwards.
    private var epollFD: Int32 = -1
    private var wakeFD: Int32 = -1

    // Owned by the loop thread.
    private var handlers: [Int32: Handler] = [:]
    private var timers = TimerHeap()

    init(name: String, bufferBytes: Int = 64 * 1024) {
        self.name = name
        readBuffer = .allocate(byteCount: bufferBytes, alignment: 16)
    }

    deinit {
        readBuffer.deallocate()
    }

    // MARK: Start and stop

    /// Creates the epoll descriptor and the eventfd and starts the thread.
    /// A loop starts once; a stopped loop stays stopped.
    func start() throws(JobWireError) {
        guard shared.withLock({ $0.state == .idle }) else {
            throw JobWireError(.failedPrecondition, "LOOP_NOT_IDLE", "\(name) was already started")
        }
        let epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else {
            throw JobWireError(.internal, "EPOLL_FAILED", "epoll_create1: \(Socket.errorText(errno))")
        }
        let wake = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard wake >= 0 else {
            let code = errno
            Glibc.close(epoll)
            throw JobWireError(.internal, "EPOLL_FAILED", "eventfd: \(Socket.errorText(code))")
        }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = wake
        guard epoll_ctl(epoll, EPOLL_CTL_ADD, wake, &event) == 0 else {
            let code = errno
            Glibc.close(wake)
            Glibc.close(epoll)
            throw JobWireError(.internal, "EPOLL_FAILED", "epoll_ctl: \(Socket.errorText(code))")
        }
        epollFD = epoll
        wakeFD = wake
        // Running before the thread exists, so its first turn does not read
        // `idle` as a request to stop; tasks posted earlier run in that turn.
        shared.withLock { $0.state = .running }
        exited.enter()
        let box = Unmanaged.passRetained(self)
        let status = pthread_create(&thread, nil, { argument in
            guard let argument else { return nil }
            let loop = Unmanaged<EventLoop>.fromOpaque(argument).takeRetainedValue()
            loop.run()
            return nil
        }, box.toOpaque())
        guard status == 0 else {
            box.release()
            shared.withLock { $0.state = .stopped }
            exited.leave()
            Glibc.close(wake)
            Glibc.close(epoll)
            throw JobWireError(.internal, "THREAD_FAILED", "pthread_create: \(Socket.errorText(status))")
        }
    }

    /// Ends the loop thread after its current turn, then returns once it has
    /// closed its descriptors. Tasks already queued still run (a `sync`
    /// caller waits for its task); later ones are refused. Idempotent;
    /// from the loop thread itself it only asks the loop to end.
    func stop() {
        let (wasRunning, joiner) = shared.withLock { shared -> (Bool, Bool) in
            switch shared.state {
            case .idle:
                shared.state = .stopped
                return (false, false)
            case .running:
                shared.state = .stopping
                wakeLocked(&shared)
                return (true, true)
            case .stopping, .stopped:
                return (true, false)
            }
        }
        guard wasRunning else { return }
        if isInLoop {
            // The thread cannot join itself; nobody else will join it.
            if joiner { pthread_detach(thread) }
            return
        }
        if joiner {
            pthread_join(thread, nil)
        } else {
            exited.wait()
        }
    }

    var isInLoop: Bool {
        threadID.load(ordering: .relaxed) == pthread_self()
    }

    // MARK: Tasks and timers

    /// Runs `task` on the loop thread soon. False (and `task` dropped) when
    /// the loop has stopped.
    @discardableResult
    func execute(_ task: @escaping @Sendable () -> Void) -> Bool {
        let inLoop = isInLoop
        return shared.withLock { shared in
            switch shared.state {
            case .stopping, .stopped:
                return false
            case .idle, .running:
                shared.tasks.append(task)
                // The loop looks at its tasks before it sleeps again.
                if !inLoop && shared.state == .running { wakeLocked(&shared) }
                return true
            }
        }
    }

    /// Runs `task` on the loop thread after `afterMs` milliseconds.
    func schedule(afterMs: Int, _ task: @escaping @Sendable () -> Void) {
        let due = MonotonicClock.nowMs() + Int64(max(0, afterMs))
        if isInLoop {
            timers.insert(due: due, task)
        } else {
            execute { self.timers.insert(due: due, task) }
        }
    }

    // MARK: Descriptors (loop thread only)

    /// Watches `fd` for `events`; `handler` gets the events that fired.
    func register(_ fd: Int32, events: UInt32, _ handler: @escaping Handler) -> Int32 {
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        guard epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) == 0 else { return errno }
        handlers[fd] = handler
        return 0
    }

    func modify(_ fd: Int32, events: UInt32) -> Int32 {
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        return epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, &event) == 0 ? 0 : errno
    }

    /// Stops watching `fd`; call before closing it, so a later descriptor
    /// with the same number never meets this one's handler.
    func deregister(_ fd: Int32) {
        guard handlers.removeValue(forKey: fd) != nil else { return }
        var event = epoll_event()
        _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, &event)
    }

    // MARK: The loop

    private func run() {
        threadID.store(pthread_self(), ordering: .relaxed)
        _ = jobwire_name_thread(name)
        let capacity = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        defer { events.deallocate() }
        while true {
            let (tasks, stopping) = shared.withLock { shared -> ([@Sendable () -> Void], Bool) in
                if shared.state != .running { return ([], true) }
                shared.wakePending = false
                defer { shared.tasks.removeAll(keepingCapacity: true) }
                return (shared.tasks, false)
            }
            if stopping { break }
            for task in tasks { task() }
            runDueTimers()
            let timeout = shared.withLock { $0.tasks.isEmpty } ? timers.timeoutMs(now: MonotonicClock.nowMs()) : 0
            let count = epoll_wait(epollFD, events, Int32(capacity), timeout)
            guard count > 0 else { continue }
            for index in 0..<Int(count) {
                let fd = events[index].data.fd
                if fd == wakeFD {
                    var value: UInt64 = 0
                    _ = read(wakeFD, &value, 8)
                    continue
                }
                // Gone when an earlier handler of this batch deregistered it.
                handlers[fd]?(events[index].events)
            }
        }
        handlers.removeAll()
        timers.removeAll()
        // Queued before `stop`: run them (nothing is added after it).
        while true {
            let tasks = shared.withLock { shared in
                defer { shared.tasks.removeAll() }
                if shared.tasks.isEmpty { shared.state = .stopped }
                return shared.tasks
            }
            if tasks.isEmpty { break }
            for task in tasks { task() }
        }
        Glibc.close(wakeFD)
        Glibc.close(epollFD)
        exited.leave()
    }

    private func runDueTimers() {
        let now = MonotonicClock.nowMs()
        while let task = timers.popDue(now: now) {
            task()
        }
    }

    /// Called with the lock held.
    private func wakeLocked(_ shared: inout Shared) {
        guard !shared.wakePending else { return }
        shared.wakePending = true
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }
}
