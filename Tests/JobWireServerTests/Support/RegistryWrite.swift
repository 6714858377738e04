import JobWireProtocol
@testable import JobWireServer
import JobWireSync

/// A registry write's reply, captured when its completion runs (at once with
/// the in-memory store; when the test commits with a hand-driven one).
final class RegistryWrite: Sendable {
    private let result = Locked<Result<[UInt8], JobWireError>?>(nil)

    /// Starts the write; `start` hands the completion to a registry call.
    init(_ start: (@escaping WriteCompletion) throws(JobWireError) -> Void) throws {
        try start { reply in self.result.withLock { $0 = reply } }
    }

    /// The reply, or nil while the write waits for its commit.
    var value: Result<[UInt8], JobWireError>? { result.withLock { $0 } }

    /// The reply of a write that must have completed already.
    func reply() throws -> [UInt8] {
        guard let value else {
            throw JobWireError(.internal, "NO_REPLY", "the write has not completed")
        }
        return try value.get()
    }
}
