import Foundation

/// Admits the process's I/O tests: up to `width` at once, or one test that
/// must run alone (it measures the whole process: descriptors, threads).
///
/// First come, first served: a waiting test that must run alone holds back
/// every test queued after it, so it is never starved by a stream of others.
/// Every target's tests share one gate, since `swift test` runs them all in one
/// process.
public actor TestGate {
    /// The process's gate. Its width is `JOBWIRE_TEST_PARALLELISM`, or twice the
    /// cores: I/O tests mostly wait, but each starts servers with threads of
    /// their own, and a 2-core machine shared by dozens of them at once makes
    /// every timing in them (leases, heartbeats, deadlines) meaningless.
    public static let shared = TestGate(width: defaultWidth)

    static var defaultWidth: Int {
        if let text = ProcessInfo.processInfo.environment["JOBWIRE_TEST_PARALLELISM"], let width = Int(text), width > 0 {
            return width
        }
        return max(2, 2 * ProcessInfo.processInfo.activeProcessorCount)
    }

    private struct Waiter {
        let alone: Bool
        let continuation: CheckedContinuation<Void, Never>
    }

    private let width: Int
    private var running = 0
    private var aloneRunning = false
    private var waiting: [Waiter] = []

    public init(width: Int) {
        self.width = width
    }

    /// Runs `body` once admitted.
    public func run<T: Sendable>(alone: Bool, _ body: @Sendable () async throws -> T) async throws -> T {
        await enter(alone: alone)
        do {
            let result = try await body()
            leave(alone: alone)
            return result
        } catch {
            leave(alone: alone)
            throw error
        }
    }

    private func enter(alone: Bool) async {
        if waiting.isEmpty && admits(alone: alone) {
            take(alone: alone)
            return
        }
        await withCheckedContinuation { waiting.append(Waiter(alone: alone, continuation: $0)) }
    }

    private func leave(alone: Bool) {
        running -= 1
        if alone { aloneRunning = false }
        while let next = waiting.first, admits(alone: next.alone) {
            waiting.removeFirst()
            take(alone: next.alone)
            next.continuation.resume()
        }
    }

    private func admits(alone: Bool) -> Bool {
        alone ? running == 0 : !aloneRunning && running < width
    }

    private func take(alone: Bool) {
        running += 1
        if alone { aloneRunning = true }
    }
}

extension TestGate {
    /// How many tests wait to be admitted (for the gate's own tests).
    public var waitingCount: Int { waiting.count }
}
