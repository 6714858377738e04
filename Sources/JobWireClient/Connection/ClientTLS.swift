internal import COpenSSL
import JobWireProtocol

#if canImport(Glibc)
import Glibc
#endif

/// How the client speaks TLS to the server (docs/SECURITY.md, "TLS"): the
/// CAs to trust, a client certificate for mutual TLS, the name to check the
/// server's certificate against.
public struct ClientTLS: Sendable, Equatable {
    /// PEM CA certificates to trust; nil: the system's (`/etc/ssl/certs`).
    public var caFile: String?
    /// PEM client certificate and key, for a server that requires one.
    public var certificateFile: String?
    public var keyFile: String?
    /// What the server's certificate must name; nil: the host connected to (an IP address is checked against the
    /// certificate's IP addresses).
    public var serverName: String?

    public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil, serverName: String? = nil) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.serverName = serverName
    }
}

/// One connection's TLS on its non-blocking socket (OpenSSL's socket BIO). The handshake runs blocking, with poll,
/// on the connect queue; afterwards every read and write happens on the connection's queue.
final class ClientTLSSession: @unchecked Sendable {
    enum Outcome: Equatable {
        case bytes(Int)
        case wantRead
        case wantWrite
        case closed
        case failed(String)
    }

    private let context: OpaquePointer
    private let ssl: OpaquePointer

    /// Connects TLS on `fd` (connected, non-blocking) within `timeoutMs`, checking the server's certificate.
    init(fd: Int32, host: String, settings: ClientTLS, timeoutMs: Int32) throws(JobWireError) {
        guard let context = jobwire_tls_client_context() else { throw Self.failure("no TLS context") }
        self.context = context
        guard let ssl = SSL_new(context) else {
            SSL_CTX_free(context)
            throw Self.failure("no TLS session")
        }
        self.ssl = ssl
        let loaded = settings.caFile.map { SSL_CTX_load_verify_locations(context, $0, nil) } ?? SSL_CTX_set_default_verify_paths(context)
        guard loaded == 1 else { throw Self.failure("cannot read the CA file \(settings.caFile ?? ""): \(Self.lastError())") }
        if let certificate = settings.certificateFile {
            guard SSL_use_certificate_chain_file(ssl, certificate) == 1,
                  SSL_use_PrivateKey_file(ssl, settings.keyFile ?? certificate, SSL_FILETYPE_PEM) == 1,
                  SSL_check_private_key(ssl) == 1 else {
                throw Self.failure("cannot use the client certificate \(certificate): \(Self.lastError())")
            }
        }
        guard jobwire_tls_set_host(ssl, settings.serverName ?? host) == 1, jobwire_tls_set_socket(ssl, fd) == 1 else {
            throw Self.failure("cannot set up TLS for \(host): \(Self.lastError())")
        }
        SSL_set_connect_state(ssl)
        try handshake(fd: fd, timeoutMs: timeoutMs)
    }

    deinit {
        SSL_free(ssl)
        SSL_CTX_free(context)
    }

    private func handshake(fd: Int32, timeoutMs: Int32) throws(JobWireError) {
        let deadline = ContinuousClock.now + .milliseconds(timeoutMs)
        while true {
            ERR_clear_error()
            let result = SSL_do_handshake(ssl)
            if result == 1 { return }
            let events: Int16
            switch SSL_get_error(ssl, result) {
            case SSL_ERROR_WANT_READ: events = Int16(POLLIN)
            case SSL_ERROR_WANT_WRITE: events = Int16(POLLOUT)
            default:
                let verify = SSL_get_verify_result(ssl)
                let why = verify == X509_V_OK ? Self.lastError() : String(cString: X509_verify_cert_error_string(verify))
                throw Self.failure("the TLS handshake failed: \(why)")
            }
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { throw Self.failure("the TLS handshake did not finish in time") }
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            _ = poll(&descriptor, 1, Int32(clamping: remaining.wireMilliseconds))
        }
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

    private func outcome(_ result: Int32) -> Outcome {
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN: return .closed
        case SSL_ERROR_SYSCALL:
            let number = errno
            if number == EAGAIN || number == EWOULDBLOCK { return .wantRead }
            return result == 0 ? .closed : .failed("\(Self.lastError()) (errno \(number))")
        default:
            return .failed(Self.lastError())
        }
    }

    private static func failure(_ message: String) -> JobWireError {
        JobWireError(.unavailable, Reason.connectFailed, message)
    }

    private static func lastError() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        buffer.withUnsafeMutableBufferPointer { jobwire_tls_error($0.baseAddress, $0.count) }
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text.isEmpty ? "unknown OpenSSL error" : text
    }
}
