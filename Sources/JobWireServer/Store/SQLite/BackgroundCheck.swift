import Foundation
import JobWireProtocol
import JobWireSync

/// SQLite's `quick_check` on its own connection and thread, so start-up reads
/// the rows on one core while the check reads the file on the other.
final class BackgroundCheck: Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let outcome = Locked<Result<Void, JobWireError>>(.success(()))

    init(path: String) {
        Thread.detachNewThread { [self] in
            let result = Result { () throws(JobWireError) in
                try SQLiteJobStore.quickCheck(try SQLiteDatabase(path: path, readOnly: true))
            }
            outcome.withLock { $0 = result }
            done.signal()
        }
    }

    /// Waits for the check; throws DATA_LOSS / STORE_DAMAGED when it failed.
    func wait() throws(JobWireError) {
        done.wait()
        try outcome.withLock { $0 }.get()
    }
}
