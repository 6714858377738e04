import JobWireSync
import JobWireTestSupport
import Testing

/// The traits every I/O suite relies on: a thread of the test's own, and a gate
/// that lets a test run alone.
@Suite("Test isolation")
struct TestIsolationTests {
    @Test("an .ownThread test runs on a thread of its own, before and after it suspends", .ownThread)
    func runsOnItsOwnThread() async throws {
        #expect(TestThreadExecutor.isCurrentThreadATestThread)
        try await Task.sleep(for: .milliseconds(1))
        #expect(TestThreadExecutor.isCurrentThreadATestThread)
        async let child = TestThreadExecutor.isCurrentThreadATestThread
        #expect(await child)
    }

    @Test("a test without the trait runs on the cooperative pool")
    func plainTestsStayOnThePool() {
        #expect(!TestThreadExecutor.isCurrentThreadATestThread)
    }

    @Test("a blocking helper off a test thread fails the test, naming the trait it needs")
    func blockingHelpersCheckTheirThread() {
        withKnownIssue {
            expectOwnThread("eventually(timeout:_:)")
        } matching: { issue in
            issue.comments.contains { $0.rawValue.contains("eventually(timeout:_:) blocks") && $0.rawValue.contains(".ownThread") }
        }
    }

    @Test("a blocking helper on a test's own thread is fine", .ownThread)
    func blockingHelpersOnTheirThread() {
        expectOwnThread("eventually(timeout:_:)")
    }

    @Test("the gate admits up to its width, and a test that must run alone waits for the others and holds back later ones")
    func gateOrder() async throws {
        let gate = TestGate(width: 2)
        let log = EventLog()
        let (release, releaser) = AsyncStream<Void>.makeStream()
        let first = Task {
            try await gate.run(alone: false) {
                log.append("shared 1 in")
                for await _ in release { break }
                log.append("shared 1 out")
            }
        }
        while log.entries.isEmpty { await Task.yield() }
        let alone = Task { try await gate.run(alone: true) { log.append("alone") } }
        // Queued behind the test that must run alone, although the gate has room for it.
        while await gate.waitingCount < 1 { await Task.yield() }
        let later = Task { try await gate.run(alone: false) { log.append("shared 2") } }
        while await gate.waitingCount < 2 { await Task.yield() }
        #expect(log.entries == ["shared 1 in"])
        releaser.yield()
        try await first.value
        try await alone.value
        try await later.value
        #expect(log.entries == ["shared 1 in", "shared 1 out", "alone", "shared 2"])
    }
}

/// What happened, in order, from several tasks.
final class EventLog: Sendable {
    private let storage = Locked<[String]>([])

    var entries: [String] { storage.withLock { $0 } }

    func append(_ entry: String) {
        storage.withLock { $0.append(entry) }
    }
}
