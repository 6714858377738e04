#if canImport(Glibc)
import Glibc
#endif

/// Closes a connection's socket once every Dispatch source on it has been
/// cancelled.
///
/// Cancelling a source only asks Dispatch's manager thread to unregister it
/// from epoll; that happens later, and the source's cancel handler runs
/// after it. Closing the descriptor earlier frees its number while a source
/// still holds a registration for it: `accept` hands the number to a new
/// connection, and Dispatch then loses that connection's events or aborts
/// (SIGILL in `_dispatch_source_refs_finalize_unregistration`), which a
/// churn of handshakes and resets reproduced. So each source's cancel
/// handler checks out here, and the last one closes the descriptor.
///
/// Owned by the connection's queue: sources are added there and their
/// cancel handlers run there.
final class SocketCloser: @unchecked Sendable {
    private let fd: Int32
    private var sources = 0

    init(fd: Int32) {
        self.fd = fd
    }

    /// A source on the descriptor was created; its cancel handler must call
    /// ``sourceCancelled()``.
    func sourceAdded() {
        sources += 1
    }

    func sourceCancelled() {
        sources -= 1
        if sources == 0 {
            Glibc.close(fd)
        }
    }
}
