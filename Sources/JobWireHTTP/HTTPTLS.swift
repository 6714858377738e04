import JobWireProtocol
import JobWireServer
import JobWireSync
import NIOSSL

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
            guard !chain.isEmpty else { throw files.invalid("the certificate file holds no PEM certificate") }
            let key = try NIOSSLPrivateKey(file: files.keyPath, format: .pem)
            var configuration: TLSConfiguration
            if let clientCAPath = files.clientCAPath {
                let roots = try NIOSSLCertificate.fromPEMFile(clientCAPath)
                guard !roots.isEmpty else { throw files.invalid("the client CA file holds no PEM certificate") }
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
            throw files.invalid("\(error)")
        }
    }
}
