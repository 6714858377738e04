import Foundation
import JobWireTestSupport
import JobWireSync
@testable import JobWireServer
import Testing

/// The event loop on its own: tasks, timers, stopping without leaks.
@Suite("Event loop")
struct EventLoopTests {
    @Test("tasks run in order on the loop thread; timers run by due time; sync waits", .ownThread)
    func tasksAndTimers() throws {
        let loop = EventLoop(name: "test")
        try loop.start()
        defer { loop.stop() }
        let seen = Locked<[String]>([])
        let done = DispatchSemaphore(value: 0)
        loop.execute {
            #expect(loop.isInLoop)
            seen.withLock { $0.append("task 1") }
            loop.schedule(afterMs: 60) {
                seen.withLock { $0.append("timer 60") }
                done.signal()
            }
            loop.schedule(afterMs: 20) { seen.withLock { $0.append("timer 20") } }
            loop.execute { seen.withLock { $0.append("task 2") } }
        }
        #expect(!loop.isInLoop)
        #expect(done.wait(timeout: .now() + 5) == .success)
        #expect(seen.withLock { $0 } == ["task 1", "task 2", "timer 20", "timer 60"])
        #expect(loop.sync { loop.isInLoop })
    }

    @Test("a stopped loop refuses tasks, runs sync bodies on the caller, and leaves no descriptor behind", .aloneInProcess)
    func stopLeavesNothing() throws {
        let before = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
        for _ in 0..<50 {
            let loop = EventLoop(name: "test")
            try loop.start()
            loop.schedule(afterMs: 60_000) {}
            #expect(loop.sync { 42 } == 42)
            loop.stop()
            loop.stop()
            #expect(!loop.execute {})
            #expect(loop.sync { 7 } == 7)
        }
        // Alone in the process: nothing else opens or closes descriptors meanwhile.
        let after = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
        #expect(after == before)
    }

    @Test("servers started and stopped one after another leave no loop thread or descriptor behind", .aloneInProcess)
    func serversLeaveNothing() throws {
        let fdsBefore = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
        #expect(try Self.loopThreadsSettle(at: 0))
        for _ in 0..<30 {
            let server = try TestServer { $0.eventLoopCount = 2 }
            let client = try server.client()
            #expect(try Self.loopThreadsSettle(at: 2))
            withExtendedLifetime(client) { server.stop() }
        }
        // Alone in the process: every descriptor these servers made is closed. Threads
        // are counted by the loops' names, since Dispatch grows and shrinks its own pool.
        #expect(try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count == fdsBefore)
        #expect(try Self.loopThreadsSettle(at: 0))
    }

    /// Whether the number of loop threads reaches `expected`. `stop()` joins
    /// each loop's thread, but `pthread_join` returns when the kernel clears
    /// the thread's id, a moment before it takes the thread out of
    /// `/proc/self/task`: a joined thread may still be listed just after. A
    /// thread left running never leaves the list, and fails this.
    static func loopThreadsSettle(at expected: Int) throws -> Bool {
        try eventually(timeout: 2) { try loopThreads() == expected }
    }

    /// The process's threads named as server event loops (`jobwire.loop.N`).
    static func loopThreads() throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").filter { task in
            let name = try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8)
            return name?.hasPrefix("jobwire.loop.") == true
        }.count
    }
}
