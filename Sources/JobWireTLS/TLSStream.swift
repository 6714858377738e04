internal import COpenSSL

#if canImport(Glibc)
import Glibc
#endif

/// One connection's TLS on its non-blocking socket, through OpenSSL: what
/// the server's connections and the Swift client share. Reads and writes go
/// through a BIO that sends with MSG_NOSIGNAL (no SIGPIPE when the peer has
/// gone). Used by one thread at a time: the server's loop, the client's queue.
public final class TLSStream: @unchecked Sendable {
    public enum Outcome: Equatable, Sendable {
        case bytes(Int)
        /// The socket must be readable first.
        case wantRead
        /// The socket must be writable first.
        case wantWrite
        /// The peer closed (close_notify or EOF).
        case closed
        case failed(String)
    }

    private let ssl: OpaquePointer
    /// Whatever owns the `SSL_CTX` the session was made from: kept alive as long as the session.
    private let owner: AnyObject

    /// A session of the `SSL_CTX` at `context` on `fd`, as the server (`accepting`) or the client.
    public init?(context: OpaquePointer, owner: AnyObject, fd: Int32, accepting: Bool) {
        guard let ssl = SSL_new(context) else { return nil }
        guard jobwire_tls_set_socket(ssl, fd) == 1 else {
            SSL_free(ssl)
            return nil
        }
        if accepting { SSL_set_accept_state(ssl) } else { SSL_set_connect_state(ssl) }
        self.ssl = ssl
        self.owner = owner
    }

    deinit {
        SSL_free(ssl)
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) -> Outcome {
        ERR_clear_error()
        let count = SSL_read(ssl, buffer.baseAddress, Int32(clamping: buffer.count))
        return count > 0 ? .bytes(Int(count)) : outcome(count)
    }

    public func write(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        ERR_clear_error()
        let count = SSL_write(ssl, bytes.baseAddress, Int32(clamping: bytes.count))
        return count > 0 ? .bytes(Int(count)) : outcome(count)
    }

    /// One step of the handshake: `.bytes(0)` once it is done.
    public func handshake() -> Outcome {
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        return result == 1 ? .bytes(0) : outcome(result)
    }

    /// Client: the name or IP address the server's certificate must carry (a name is also sent as SNI).
    public func expect(host: String) -> Bool {
        jobwire_tls_set_host(ssl, host) == 1
    }

    /// Client: the certificate and key to present (PEM files); false when they cannot be used together.
    public func present(certificate: String, key: String) -> Bool {
        SSL_use_certificate_chain_file(ssl, certificate) == 1 && SSL_use_PrivateKey_file(ssl, key, SSL_FILETYPE_PEM) == 1
            && SSL_check_private_key(ssl) == 1
    }

    /// Why the peer's certificate was refused, or nil when it was not.
    public var verificationFailure: String? {
        let result = SSL_get_verify_result(ssl)
        return result == X509_V_OK ? nil : String(cString: X509_verify_cert_error_string(result))
    }

    /// Bytes OpenSSL holds (decrypted, or read ahead and not yet decrypted) that the socket will not announce again.
    public var hasPendingInput: Bool { SSL_has_pending(ssl) == 1 }

    /// Whether the handshake is over.
    public var isEstablished: Bool { SSL_is_init_finished(ssl) == 1 }

    /// The SHA-256 fingerprint of the certificate the peer presented (and the context verified), if any.
    public var peerCertificateFingerprint: [UInt8]? {
        var fingerprint = [UInt8](repeating: 0, count: 32)
        return jobwire_tls_peer_fingerprint(ssl, &fingerprint) == 1 ? fingerprint : nil
    }

    /// Sends close_notify, without waiting for the peer's (the socket closes next).
    public func shutdown() {
        ERR_clear_error()
        if isEstablished { _ = SSL_shutdown(ssl) }
    }

    private func outcome(_ result: Int32) -> Outcome {
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN: return .closed
        case SSL_ERROR_SYSCALL:
            let number = errno
            if number == EAGAIN || number == EWOULDBLOCK { return .wantRead }
            let queued = Self.lastError()
            return result == 0 && queued == Self.unknownError ? .closed : .failed("\(queued) (errno \(number))")
        default:
            return .failed(Self.lastError())
        }
    }

    static let unknownError = "unknown OpenSSL error"

    /// OpenSSL's last error in words, emptying its queue (of this thread).
    public static func lastError() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        buffer.withUnsafeMutableBufferPointer { jobwire_tls_error($0.baseAddress, $0.count) }
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text.isEmpty ? unknownError : text
    }
}
