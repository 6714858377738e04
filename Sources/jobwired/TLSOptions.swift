import ArgumentParser
import JobWireServer

/// TLS options (docs/SECURITY.md, "TLS"): both ports serve TLS with the same files.
struct TLSOptions: ParsableArguments {
    @Option(help: "PEM certificate chain (leaf first): both ports serve TLS 1.2/1.3. SIGHUP reloads it.")
    var tlsCert: String?

    @Option(help: "PEM private key of --tls-cert. SIGHUP reloads it.")
    var tlsKey: String?

    @Option(help: "PEM CA certificates: with it, every client must present a certificate one of them issued (mutual TLS).")
    var tlsClientCA: String?

    func validate() throws {
        guard (tlsCert == nil) == (tlsKey == nil) else {
            throw ValidationError("--tls-cert and --tls-key go together")
        }
        if tlsClientCA != nil && tlsCert == nil {
            throw ValidationError("--tls-client-ca needs --tls-cert and --tls-key")
        }
    }

    var files: TLSFiles? {
        guard let tlsCert, let tlsKey else { return nil }
        return TLSFiles(certificatePath: tlsCert, keyPath: tlsKey, clientCAPath: tlsClientCA)
    }
}
