import JobWireProtocol

/// The files a port serves TLS with (docs/SECURITY.md, "TLS"): a PEM
/// certificate chain (leaf first), its PEM private key, and for mutual TLS
/// the PEM certificates of the CAs whose client certificates are accepted.
/// The binary port (OpenSSL) and the HTTP port (swift-nio-ssl) read the same.
public struct TLSFiles: Sendable, Equatable {
    public var certificatePath: String
    public var keyPath: String
    /// With it, every client must present a certificate one of these CAs issued (and that has not expired).
    public var clientCAPath: String?

    public init(certificatePath: String, keyPath: String, clientCAPath: String? = nil) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.clientCAPath = clientCAPath
    }

    /// Why files cannot be used, as every front end reports it.
    package func invalid(_ detail: String) -> JobWireError {
        JobWireError(.invalidArgument, "TLS_FILES_INVALID",
                     "cannot serve TLS with \(certificatePath) and \(keyPath)"
                         + (clientCAPath.map { " (client CAs \($0))" } ?? "") + ": \(detail)")
    }
}
