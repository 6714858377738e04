import ArgumentParser
import JobWireHTTP

/// TLS options (docs/SECURITY.md, "TLS"). Today they apply to the HTTP port; the binary port still serves
/// plaintext, and jobwired says so when it starts.
struct TLSOptions: ParsableArguments {
    @Option(help: "PEM certificate chain (leaf first) for TLS on the HTTP port. SIGHUP reloads it.")
    var tlsCert: String?

    @Option(help: "PEM private key of --tls-cert. SIGHUP reloads it.")
    var tlsKey: String?

    @Option(help: "PEM CA certificates: with it, every HTTP client must present a certificate one of them issued (mutual TLS).")
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
