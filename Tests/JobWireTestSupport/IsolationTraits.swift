import Testing

/// Runs each test of a suite on a thread of its own (``TestThreadExecutor``),
/// admitted by the process's ``TestGate``. Every suite whose tests do I/O
/// carries it: blocking calls then hold the test's own thread, never one of
/// Swift's cooperative threads, and a test that must run alone can count on
/// no other I/O test running beside it.
public struct OwnThreadTrait: SuiteTrait, TestTrait, TestScoping {
    /// Whether the test must have the process to itself.
    public let alone: Bool

    public var isRecursive: Bool { true }

    public func provideScope(for test: Test, testCase: Test.Case?,
                             performing function: @Sendable () async throws -> Void) async throws {
        guard testCase != nil else {
            try await function()
            return
        }
        try await TestGate.shared.run(alone: alone) {
            let executor = TestThreadExecutor()
            let outcome = await Result(catching: { try await withTaskExecutorPreference(executor) { try await function() } })
            await executor.finish()
            try outcome.get()
        }
    }
}

extension Trait where Self == OwnThreadTrait {
    /// Each test runs on a thread of its own, beside at most a few other I/O tests.
    public static var ownThread: Self { OwnThreadTrait(alone: false) }

    /// The test runs on a thread of its own with no other I/O test in the
    /// process: for tests that count the process's descriptors or threads.
    public static var aloneInProcess: Self { OwnThreadTrait(alone: true) }
}

extension Result where Failure == any Error {
    /// The outcome of `body`, thrown or returned.
    init(catching body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
