internal import COpenSSL
import JobWireProtocol
import JobWireTLS

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

/// The client's side of a TLS connection: an OpenSSL client context with the CAs and the certificate asked for, and
/// the handshake, run blocking with poll on the connect queue. Afterwards ``stream`` is read and written on the
/// connection's queue.
final class ClientTLSSession: @unchecked Sendable {
    private let context: OpaquePointer
    private(set) var stream: TLSStream

    /// Connects TLS on `fd` (connected, non-blocking) within `timeoutMs`, checking the server's certificate.
    init(fd: Int32, host: String, settings: ClientTLS, timeoutMs: Int32) throws(JobWireError) {
        guard let context = jobwire_tls_client_context() else { throw Self.failure("no TLS context") }
        self.context = context
        let loaded = settings.caFile.map { SSL_CTX_load_verify_locations(context, $0, nil) } ?? SSL_CTX_set_default_verify_paths(context)
        guard loaded == 1 else {
            SSL_CTX_free(context)
            throw Self.failure("cannot read the CA file \(settings.caFile ?? ""): \(TLSStream.lastError())")
        }
        guard let stream = TLSStream(context: context, owner: Owner(context), fd: fd, accepting: false) else {
            SSL_CTX_free(context)
            throw Self.failure("no TLS session")
        }
        self.stream = stream
        if let certificate = settings.certificateFile, !stream.present(certificate: certificate, key: settings.keyFile ?? certificate) {
            throw Self.failure("cannot use the client certificate \(certificate): \(TLSStream.lastError())")
        }
        guard stream.expect(host: settings.serverName ?? host) else {
            throw Self.failure("cannot check the server's certificate against \(settings.serverName ?? host)")
        }
        try handshake(fd: fd, timeoutMs: timeoutMs)
    }

    /// Frees the client context once the stream (which holds it) is gone.
    private final class Owner {
        let context: OpaquePointer
        init(_ context: OpaquePointer) { self.context = context }
        deinit { SSL_CTX_free(context) }
    }

    private func handshake(fd: Int32, timeoutMs: Int32) throws(JobWireError) {
        let deadline = ContinuousClock.now + .milliseconds(timeoutMs)
        while true {
            let events: Int16
            switch stream.handshake() {
            case .bytes: return
            case .wantRead: events = Int16(POLLIN)
            case .wantWrite: events = Int16(POLLOUT)
            case .closed: throw Self.failure("the TLS handshake failed: the server closed the connection")
            case .failed(let why): throw Self.failure("the TLS handshake failed: \(stream.verificationFailure ?? why)")
            }
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { throw Self.failure("the TLS handshake did not finish in time") }
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            _ = poll(&descriptor, 1, Int32(clamping: remaining.wireMilliseconds))
        }
    }

    private static func failure(_ message: String) -> JobWireError {
        JobWireError(.unavailable, Reason.connectFailed, message)
    }
}
