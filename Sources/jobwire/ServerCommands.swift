import ArgumentParser
import Foundation
import JobWireClient
import JobWireJSON
import JobWireProtocol

struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the server's serving status (and with --detailed, each component).",
        discussion: """
            Exits 0 when the server is serving, 24 (UNAVAILABLE) when it is not serving or draining.

            Examples:
              jobwire health
              jobwire health --detailed --json
            """)

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Also each component: store, disk, event loops.") var detailed = false
    @Flag(help: "Print as JSON.") var json = false

    func run() async throws {
        try await runReportingErrors {
            let health = try await global.client().health(detailed: detailed)
            let status = MessageJSON.name(health.status)
            if json {
                print(MessageJSON.health(health).text(pretty: true))
            } else {
                print("\(status.replacingOccurrences(of: "_", with: " ")); store \(health.store) (\(health.storeState)); version \(health.serverVersion); up \(formatDuration(Double(health.uptimeMs) / 1000))")
                for component in health.components {
                    let measures = component.measures.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.number($0.value))" }
                    print("\(component.name.padding(toLength: 12, withPad: " ", startingAt: 0)) \(component.state.name.padding(toLength: 8, withPad: " ", startingAt: 0)) \(measures.joined(separator: " "))\(component.message.isEmpty ? "" : "  \(component.message)")")
                }
            }
            if health.status != .serving {
                throw ExitCode(CLIExit.forCode(.unavailable))
            }
        }
    }

    /// Whole numbers without a fraction, ratios with three digits.
    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.3f", value)
    }
}

struct Stats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the tenant's jobs in numbers (and for admin keys, connections and per-method latencies).",
        discussion: """
            --from and --to bound the jobs counted by creation time (ISO 8601, --to exclusive).

            Examples:
              jobwire stats
              jobwire stats --from 2026-12-01T00:00:00Z --to 2026-12-02T00:00:00Z --json
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "Admin keys only: the tenant to count.") var tenant: String = ""
    @Option(help: "Only jobs created at or after this ISO 8601 time.") var from: String?
    @Option(help: "Only jobs created before this ISO 8601 time.") var to: String?
    @Flag(help: "Print as JSON.") var json = false

    func validate() throws {
        for (flag, value) in [("--from", from), ("--to", to)] {
            if let value, JobJSON.parseTime(value) == nil {
                throw ValidationError("\(flag): '\(value)' is not an ISO 8601 time such as 2026-12-02T08:00:00Z")
            }
        }
    }

    func run() async throws {
        try await runReportingErrors {
            let stats = try await global.client().stats(tenant: tenant, createdAfterMs: from.flatMap(JobJSON.parseTime) ?? 0,
                                                        createdBeforeMs: to.flatMap(JobJSON.parseTime) ?? 0)
            if json {
                print(MessageJSON.stats(stats, from: from, to: to).text(pretty: true))
                return
            }
            print("jobs: \(stats.totalJobs)" + (stats.jobs.isEmpty ? "" : " (" + stats.jobs.map { "\($0.status.name) \($0.count)" }.joined(separator: ", ") + ")"))
            print(String(format: "success rate %.1f %%, average run time %@", stats.successRate * 100,
                         formatDuration(stats.averageRunTimeMs / 1000)))
            guard !stats.methods.isEmpty || stats.connections > 0 else { return }
            print("connections \(stats.connections), streams \(stats.streams), up \(formatDuration(Double(stats.uptimeMs) / 1000))")
            for method in stats.methods {
                let name = method.method.split(separator: "/").last.map(String.init) ?? method.method
                print("\(name.padding(toLength: 18, withPad: " ", startingAt: 0)) calls \(method.calls)  errors \(method.errors)  p50 \(method.p50Us) µs  p99 \(method.p99Us) µs  p99.9 \(method.p999Us) µs")
            }
        }
    }
}

struct Usage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print what each API key of the tenant did since the server started.",
        discussion: "Examples:\n  jobwire usage\n  jobwire usage --tenant globex --json   (admin keys)")

    @OptionGroup var global: GlobalOptions
    @Option(help: "Admin keys only: the tenant to report.") var tenant: String = ""
    @Flag(help: "Print as JSON.") var json = false

    func run() async throws {
        try await runReportingErrors {
            let usage = try await global.client().usage(tenant: tenant)
            if json {
                print(MessageJSON.usage(usage).text(pretty: true))
                return
            }
            print("tenant \(usage.tenant): \(usage.keys.count) key\(usage.keys.count == 1 ? "" : "s") used since the server started")
            for key in usage.keys {
                let calls = key.methods.reduce(0) { $0 + $1.calls }
                let errors = key.methods.reduce(0) { $0 + $1.errors.reduce(0) { $0 + $1.count } }
                let last = key.lastUsedAtMs == 0 ? "never" : ISO8601.string(milliseconds: key.lastUsedAtMs)
                print("\(key.keyID) (\(key.role)): \(calls) calls, \(errors) errors, \(key.rateLimited) rate-limited, \(key.bytesIn) bytes in, \(key.bytesOut) bytes out, last \(last)")
                for method in key.methods {
                    let name = method.method.split(separator: "/").last.map(String.init) ?? method.method
                    let byCode = method.errors.map { "\($0.code.name) \($0.count)" }.joined(separator: ", ")
                    print("  \(name.padding(toLength: 18, withPad: " ", startingAt: 0)) \(method.calls)\(byCode.isEmpty ? "" : "  errors: \(byCode)")")
                }
            }
        }
    }
}
