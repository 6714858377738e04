import JobWireProtocol
import JobWireSync
import NIOSSL

/// The files the HTTP port serves TLS with (docs/SECURITY.md, "TLS"): a PEM
/// certificate chain (leaf first), its PEM private key, and for mutual TLS
/// the PEM certificates of the CAs whose client certificates are accepted.
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
}

/// The TLS context each new HTTP connection gets. A reload (SIGHUP) reads
/// the files again and swaps the context whole: connections already open
/// keep the one they started with, new ones get the new certificate; files
/// that cannot be used leave the old context in place.
final class HTTPTLSContext: Sendable {
    private let files: TLSFiles
    private let context: Locked<NIOSSLContext>

    init(_ files: TLSFiles) throws(JobWireError) {
        self.files = files
        context = Locked(try Self.make(files))
    }

    var current: NIOSSLContext { context.withLock { $0 } }

    func reload() throws(JobWireError) {
        let fresh = try Self.make(files)
        context.withLock { $0 = fresh }
    }

    /// TLS 1.2 and 1.3 with BoringSSL's default ciphers; no renegotiation.
    static func make(_ files: TLSFiles) throws(JobWireError) -> NIOSSLContext {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(files.certificatePath)
            guard !chain.isEmpty else {
                throw JobWireError(.invalidArgument, "TLS_FILES_INVALID", "\(files.certificatePath) holds no PEM certificate")
            }
            let key = try NIOSSLPrivateKey(file: files.keyPath, format: .pem)
            var configuration: TLSConfiguration
            if let clientCAPath = files.clientCAPath {
                let roots = try NIOSSLCertificate.fromPEMFile(clientCAPath)
                guard !roots.isEmpty else {
                    throw JobWireError(.invalidArgument, "TLS_FILES_INVALID", "\(clientCAPath) holds no PEM certificate")
                }
                configuration = .makeServerConfigurationWithMTLS(certificateChain: chain.map { .certificate($0) },
                                                                 privateKey: .privateKey(key), trustRoots: .certificates(roots))
            } else {
                configuration = .makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
            }
            configuration.minimumTLSVersion = .tlsv12
            configuration.renegotiationSupport = .none
            return try NIOSSLContext(configuration: configuration)
        } catch let error as JobWireError {
            throw error
        } catch {
            throw JobWireError(.invalidArgument, "TLS_FILES_INVALID",
                               "cannot serve TLS with \(files.certificatePath) and \(files.keyPath)"
                                   + (files.clientCAPath.map { " (client CAs \($0))" } ?? "") + ": \(error)")
        }
    }
}
