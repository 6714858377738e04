import COpenSSL
import JobWireProtocol

#if canImport(Glibc)
import Glibc
#endif

/// One connection's TLS, reading and writing the non-blocking socket itself
/// (through a BIO that sends with MSG_NOSIGNAL). Owned by the connection's loop thread. The
/// handshake happens inside the first reads and writes; either may then need
/// the socket readable or writable first (``Outcome/wantRead``,
/// ``Outcome/wantWrite``), which the connection waits for with epoll.
final class TLSSession {
    enum Outcome: Equatable {
        case bytes(Int)
        case wantRead
        case wantWrite
        /// The peer closed (close_notify or EOF).
        case closed
        case failed(String)
    }

    private let ssl: OpaquePointer
    /// Kept alive as long as the session: a reload must not free the context under it.
    private let context: TLSServerContext

    init?(fd: Int32, context: TLSServerContext) {
        guard let ssl = SSL_new(context.pointer) else { return nil }
        guard jobwire_tls_set_socket(ssl, fd) == 1 else {
            SSL_free(ssl)
            return nil
        }
        SSL_set_accept_state(ssl)
        self.ssl = ssl
        self.context = context
    }

    deinit {
        SSL_free(ssl)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> Outcome {
        ERR_clear_error()
        let count = SSL_read(ssl, buffer.baseAddress, Int32(clamping: buffer.count))
        return count > 0 ? .bytes(Int(count)) : outcome(count)
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        ERR_clear_error()
        let count = SSL_write(ssl, bytes.baseAddress, Int32(clamping: bytes.count))
        return count > 0 ? .bytes(Int(count)) : outcome(count)
    }

    /// Bytes OpenSSL holds (decrypted, or read ahead and not yet decrypted) that the socket will not announce again.
    var hasPendingInput: Bool { SSL_has_pending(ssl) == 1 }

    /// The SHA-256 fingerprint of the certificate the client presented (verified against `--tls-client-ca`), if any.
    var peerCertificateFingerprint: [UInt8]? {
        var fingerprint = [UInt8](repeating: 0, count: 32)
        return jobwire_tls_peer_fingerprint(ssl, &fingerprint) == 1 ? fingerprint : nil
    }

    /// Whether the handshake is over.
    var isEstablished: Bool { SSL_is_init_finished(ssl) == 1 }

    /// Sends close_notify, without waiting for the peer's (the socket closes next).
    func shutdown() {
        ERR_clear_error()
        if isEstablished { _ = SSL_shutdown(ssl) }
    }

    private func outcome(_ result: Int32) -> Outcome {
        let code = SSL_get_error(ssl, result)
        switch code {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN: return .closed
        case SSL_ERROR_SYSCALL:
            let number = errno
            if number == EAGAIN || number == EWOULDBLOCK { return .wantRead }
            let queued = TLSServerContext.lastError()
            return result == 0 && queued == "unknown OpenSSL error" ? .closed : .failed("\(queued) (errno \(number))")
        default:
            return .failed(TLSServerContext.lastError())
        }
    }
}
