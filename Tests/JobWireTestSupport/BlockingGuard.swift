import Testing

/// Records a test failure when a blocking test helper runs on one of Swift's
/// cooperative threads instead of a test's own thread. A suite that lost its
/// `.ownThread` trait then fails at once, by name, instead of starving the
/// async tests beside it into timeouts that point elsewhere.
public func expectOwnThread(_ helper: String = #function, sourceLocation: SourceLocation = #_sourceLocation) {
    guard Test.current != nil, !TestThreadExecutor.isCurrentThreadATestThread else { return }
    Issue.record("\(helper) blocks, but runs on Swift's cooperative pool: give the suite the .ownThread trait",
                 sourceLocation: sourceLocation)
}
