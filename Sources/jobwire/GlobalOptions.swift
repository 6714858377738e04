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

    @Option(help: "API key (default: $JOBWIRE_API_KEY).")
    var apiKey: String?

    @Option(name: .customLong("as-tenant"), help: "Admin keys only: act for this tenant.")
    var tenant: String?

    @Option(help: "Deadline of each call: 500ms, 2s, 1m, or plain seconds.")
    var timeout = DurationArgument(milliseconds: 10_000)

    func validate() throws {
        guard timeout.milliseconds > 0 else { throw ValidationError("--timeout must be positive") }
        guard (1...65_535).contains(port) else { throw ValidationError("--port must be 1 to 65535") }
    }

    func client() -> JobWireClient {
        let key = apiKey ?? ProcessInfo.processInfo.environment["JOBWIRE_API_KEY"]
        return JobWireClient(configuration: .init(host: host, port: port, apiKey: key?.isEmpty == true ? nil : key, tenant: tenant,
                                                  clientName: "jobwire-cli/\(JobWireClient.version)",
                                                  defaultTimeout: timeout.duration))
    }
}
