import COpenSSL
import JobWireProtocol
import JobWireSync
import JobWireTLS

/// An OpenSSL server context for the binary port, made from ``TLSFiles``:
/// TLS 1.2 and 1.3, no renegotiation; with a client CA, a client without a
/// certificate from it (or with an expired one) fails the handshake. Read-only
/// once made, so connections on every loop make their sessions from it.
final class TLSServerContext: @unchecked Sendable {
    let pointer: OpaquePointer

    init(_ files: TLSFiles) throws(JobWireError) {
        guard let context = jobwire_tls_server_context() else { throw files.invalid(Self.lastError()) }
        pointer = context
        guard SSL_CTX_use_certificate_chain_file(context, files.certificatePath) == 1 else {
            throw files.invalid("the certificate: \(Self.lastError())")
        }
        guard SSL_CTX_use_PrivateKey_file(context, files.keyPath, SSL_FILETYPE_PEM) == 1 else {
            throw files.invalid("the key: \(Self.lastError())")
        }
        guard SSL_CTX_check_private_key(context) == 1 else {
            throw files.invalid("the key does not match the certificate: \(Self.lastError())")
        }
        if let clientCAPath = files.clientCAPath, jobwire_tls_require_client_certificates(context, clientCAPath) != 1 {
            throw files.invalid("the client CAs: \(Self.lastError())")
        }
    }

    deinit {
        SSL_CTX_free(pointer)
    }

    /// A session of this context for an accepted socket.
    func session(fd: Int32) -> TLSStream? {
        TLSStream(context: pointer, owner: self, fd: fd, accepting: true)
    }

    static func lastError() -> String { TLSStream.lastError() }
}

/// The context new connections get; a reload (SIGHUP) swaps it whole, open
/// connections keep theirs, and files that cannot be used leave it as it was.
final class TLSServerContexts: Sendable {
    private let files: TLSFiles
    private let context: Locked<TLSServerContext>

    init(_ files: TLSFiles) throws(JobWireError) {
        self.files = files
        context = Locked(try TLSServerContext(files))
    }

    var current: TLSServerContext { context.withLock { $0 } }

    func reload() throws(JobWireError) {
        let fresh = try TLSServerContext(files)
        context.withLock { $0 = fresh }
    }
}
