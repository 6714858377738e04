import ArgumentParser
import Foundation
import JobWireClient
import JobWireCommandLine

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(help: "Server host.")
    var host = "127.0.0.1"

    @Option(help: "Server port.")
    var port = 7420

    @Option(help: ArgumentHelp(
        "Several nodes serving the same jobs, as HOST:PORT,HOST:PORT (default: $JOBWIRE_SERVER); replaces --host and --port. The CLI moves to the next when one cannot be reached.",
        valueName: "servers"))
    var server: String?

    @Option(help: "API key (default: $JOBWIRE_API_KEY).")
    var apiKey: String?

    @Option(name: .customLong("as-tenant"), help: "Admin keys only: act for this tenant.")
    var tenant: String?

    @Option(help: "Deadline of each call: 500ms, 2s, 1m, or plain seconds.")
    var timeout = DurationArgument(milliseconds: 10_000)

    @Flag(help: "Speak TLS to the server (default: $JOBWIRE_TLS=1; implied by --tls-ca and --tls-cert).")
    var tls = false

    @Option(help: "PEM CA certificates to trust (default: $JOBWIRE_TLS_CA, else the system's).")
    var tlsCA: String?

    @Option(help: "PEM client certificate, for a server that requires one (default: $JOBWIRE_TLS_CERT).")
    var tlsCert: String?

    @Option(help: "PEM key of --tls-cert (default: $JOBWIRE_TLS_KEY, else the certificate file).")
    var tlsKey: String?

    @Option(help: "The name the server's certificate must carry (default: $JOBWIRE_TLS_SERVER_NAME, else --host).")
    var tlsServerName: String?

    func validate() throws {
        guard timeout.milliseconds > 0 else { throw ValidationError("--timeout must be positive") }
        guard (1...65_535).contains(port) else { throw ValidationError("--port must be 1 to 65535") }
        if let list = serverList, ServerAddress.list(parsing: list) == nil {
            throw ValidationError("--server must be HOST:PORT[,HOST:PORT…], got \(list)")
        }
        if tlsKey != nil && tlsCert == nil && ProcessInfo.processInfo.environment["JOBWIRE_TLS_CERT"] == nil {
            throw ValidationError("--tls-key needs --tls-cert")
        }
    }

    /// --server, else $JOBWIRE_SERVER.
    var serverList: String? {
        server ?? ProcessInfo.processInfo.environment["JOBWIRE_SERVER"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The nodes to use: --server's (or $JOBWIRE_SERVER's), else --host and --port.
    var servers: [ServerAddress] {
        serverList.flatMap { ServerAddress.list(parsing: $0) } ?? [ServerAddress(host: host, port: port)]
    }

    func client() -> JobWireClient {
        let key = apiKey ?? ProcessInfo.processInfo.environment["JOBWIRE_API_KEY"]
        let servers = self.servers
        let first = servers.first ?? ServerAddress(host: host, port: port)
        return JobWireClient(configuration: .init(host: first.host, port: first.port, apiKey: key?.isEmpty == true ? nil : key,
                                                  tenant: tenant, clientName: "jobwire-cli/\(JobWireClient.version)",
                                                  defaultTimeout: timeout.duration, tls: tlsSettings,
                                                  fallbacks: Array(servers.dropFirst())))
    }

    /// TLS from the flags, then the environment; nil for plaintext.
    var tlsSettings: ClientTLS? {
        let environment = ProcessInfo.processInfo.environment
        func setting(_ flag: String?, _ variable: String) -> String? {
            flag ?? environment[variable].flatMap { $0.isEmpty ? nil : $0 }
        }
        let ca = setting(tlsCA, "JOBWIRE_TLS_CA")
        let certificate = setting(tlsCert, "JOBWIRE_TLS_CERT")
        let wanted = tls || ["1", "true", "yes"].contains(environment["JOBWIRE_TLS"]?.lowercased() ?? "") || ca != nil || certificate != nil
        guard wanted else { return nil }
        return ClientTLS(caFile: ca, certificateFile: certificate, keyFile: setting(tlsKey, "JOBWIRE_TLS_KEY"),
                         serverName: setting(tlsServerName, "JOBWIRE_TLS_SERVER_NAME"))
    }
}
