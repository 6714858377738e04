import Foundation
import JobWireSync
@testable import JobWireServer
import Testing

/// The event loop on its own: tasks, timers, stopping without leaks.
@Suite("Event loop")
struct EventLoopTests {
    @Test("tasks run in order on the loop thread; timers run by due time; sync waits")
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

    @Test("a stopped loop refuses tasks, runs sync bodies on the caller, and leaves no descriptor behind")
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
        // Other tests may open descriptors meanwhile; 50 loops leaking two each would show.
        let after = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
        #expect(after < before + 50)
    }

    @Test("servers started and stopped one after another leave no loop thread or descriptor behind")
    func serversLeaveNothing() throws {
        func count(_ directory: String) throws -> Int {
            try FileManager.default.contentsOfDirectory(atPath: directory).count
        }
        let fdsBefore = try count("/proc/self/fd")
        let threadsBefore = try count("/proc/self/task")
        for _ in 0..<30 {
            let server = try TestServer { $0.ioQueueCount = 2 }
            let client = try server.client()
            withExtendedLifetime(client) { server.stop() }
        }
        // 30 servers leaking their two loops would add 60 threads and 120 descriptors.
        #expect(try count("/proc/self/fd") < fdsBefore + 30)
        #expect(try count("/proc/self/task") < threadsBefore + 30)
    }
}
