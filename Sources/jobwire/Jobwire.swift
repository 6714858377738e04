import ArgumentParser
import Foundation
import JobWireClient
import JobWireJSON
import JobWireProtocol

@main
struct Jobwire: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobwire",
        abstract: "Create, inspect, watch and cancel JobWire jobs.",
        discussion: """
            Examples:
              jobwire simulate --jobs 3
              jobwire list
              jobwire watch 3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b
              jobwire get 3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b --json

            \(CLIExit.help)
            """,
        version: JobWireClient.version,
        subcommands: [Configure.self, Get.self, Watch.self, Cancel.self, List.self, Update.self, Delete.self, Health.self,
                      Stats.self, Simulate.self, Keys.self])
}

/// Parses a `JobStatus` from its lowercase name.
extension JobStatus: ExpressibleByArgument {
    public init?(argument: String) {
        guard let status = JobStatus.allCases.first(where: { $0.name == argument.lowercased() && $0 != .unspecified }) else {
            return nil
        }
        self = status
    }

    public static var allValueStrings: [String] { allCases.filter { $0 != .unspecified }.map(\.name) }
}

/// `K=V` label flags.
func parseLabels(_ pairs: [String]) throws -> [String: String] {
    var labels: [String: String] = [:]
    for pair in pairs {
        guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
            throw ValidationError("--label takes KEY=VALUE, got \"\(pair)\"")
        }
        labels[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
    }
    return labels
}

/// Prints a job as JSON, or as a short human summary.
func show(_ job: Job, json: Bool) {
    if json {
        print(JobJSON.value(job).text(pretty: true))
        return
    }
    var lines = ["job        \(job.jobID)",
                 "status     \(job.status.name)\(job.currentTask.isEmpty ? "" : " (\(job.currentTask))")",
                 "type       \(job.type)",
                 "progress   \(String(format: "%.1f", job.progress)) %"]
    if !job.streamURL.isEmpty || job.streamPort != 0 { lines.append("stream     \(job.streamURL):\(job.streamPort)") }
    if let eta = job.etaSeconds { lines.append("eta        \(formatDuration(eta))") }
    if !job.labels.isEmpty {
        lines.append("labels     " + job.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
    }
    lines.append("created    \(ISO8601.string(milliseconds: job.createdAtMs))")
    lines.append("updated    \(ISO8601.string(milliseconds: job.updatedAtMs))")
    if job.completedAtMs != 0 { lines.append("completed  \(ISO8601.string(milliseconds: job.completedAtMs))") }
    if let error = job.error { lines.append("error      \(error.message)\(error.reason.isEmpty ? "" : " [\(error.reason)]")") }
    if let result = job.result { lines.append("result     \(result.data.count) bytes of \(result.contentType)") }
    if !job.cancelReason.isEmpty { lines.append("cancelled  \(job.cancelReason)") }
    lines.append("revision   \(job.revision)")
    for line in job.logTail { lines.append("log        \(line)") }
    print(lines.joined(separator: "\n"))
}

func formatDuration(_ seconds: Double) -> String {
    let total = Int(seconds.rounded())
    if total >= 3600 { return "\(total / 3600)h\(total % 3600 / 60)m" }
    if total >= 60 { return "\(total / 60)m\(total % 60)s" }
    return "\(total)s"
}

struct Configure: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a job and print it.",
        discussion: """
            SPEC.json uses the field names of `jobwire get --json` (type, labels, priority, stream_url, stream_port,
            view_type, frequencies_list, lines_dt, channel_to_stream_index, stream_amount, frequencies_amount,
            channel_amount, metadata); flags override the file.

            Example: jobwire configure --file spec.json --label site=haifa --request-id run-42 --json
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "A JSON job spec.") var file: String?
    @Option(help: "Job type, e.g. das_stream.") var type: String?
    @Option(help: "KEY=VALUE; repeat for more.") var label: [String] = []
    @Option(help: "Priority.") var priority: Int32?
    @Option(help: "Idempotency key: the same id returns the same job.") var requestID: String?
    @Flag(help: "Print the job as JSON.") var json = false

    func run() async throws {
        try await runReportingErrors {
            var job = Job()
            if let file {
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw CLIError(message: "cannot read \(file)")
                }
                job = try JobJSON.spec(from: [UInt8](data))
            }
            if let type { job.type = type }
            for (key, value) in try parseLabels(label) { job.labels[key] = value }
            if let priority { job.priority = priority }
            let response = try await global.client().configure(job, requestID: requestID ?? "")
            show(response.job, json: json)
        }
    }
}

struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print one job's metadata.",
        discussion: "Example: jobwire get 3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b --tail 20 --json")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The job id.") var jobID: String
    @Option(help: "Include the last N log lines.") var tail: Int = 0
    @Flag(help: "Print the job as JSON (the REST services' shape).") var json = false

    func run() async throws {
        try await runReportingErrors {
            show(try await global.client().metadata(for: jobID, logTail: tail), json: json)
        }
    }
}

struct Cancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ask a job to stop (idempotent) and print it.",
        discussion: "Example: jobwire cancel 3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b --reason \"user closed the tab\"")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The job id.") var jobID: String
    @Option(help: "Why, for people.") var reason: String = ""
    @Flag(help: "Print the job as JSON.") var json = false

    func run() async throws {
        try await runReportingErrors {
            show(try await global.client().cancel(jobID, reason: reason), json: json)
        }
    }
}

struct Update: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Report on a job as its worker (for scripts).",
        discussion: "Example: jobwire update 3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b --status running --progress 40 --task encoding --log \"pass 1 done\"")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The job id.") var jobID: String
    @Option(help: "New status.") var status: JobStatus?
    @Option(help: "Progress in percent.") var progress: Double?
    @Option(help: "Current task.") var task: String?
    @Option(help: "Seconds left (negative clears it).") var eta: Double?
    @Option(help: "A log line; repeat for more.") var log: [String] = []
    @Option(help: "A file whose bytes are the result (with --status completed).") var resultFile: String?
    @Option(help: "The result's media type.") var resultType: String = "application/octet-stream"
    @Option(help: "Error message (with --status failed).") var error: String?
    @Option(help: "The task that failed.") var failedTask: String?
    @Flag(help: "Print the job as JSON.") var json = false

    func run() async throws {
        try await runReportingErrors {
            var request = UpdateJobRequest(jobID: jobID, status: status ?? .unspecified, progress: progress, currentTask: task,
                                           etaSeconds: eta, logLines: log)
            if let resultFile {
                guard let data = FileManager.default.contents(atPath: resultFile) else {
                    throw CLIError(message: "cannot read \(resultFile)")
                }
                request.result = JobResult(contentType: resultType, data: [UInt8](data))
            }
            if error != nil || failedTask != nil {
                request.error = JobError(message: error ?? "", failedTask: failedTask ?? "")
            }
            show(try await global.client().update(request), json: json)
        }
    }
}

struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Forget a job.", discussion: "Example: jobwire delete 3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The job id.") var jobID: String

    func run() async throws {
        try await runReportingErrors {
            let response = try await global.client().delete(jobID)
            print("deleted \(jobID) at revision \(response.revision)")
        }
    }
}

struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the server's serving status.",
                                                    discussion: "Example: jobwire health --port 7420")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await runReportingErrors {
            let health = try await global.client().health()
            let status = switch health.status {
            case .serving: "serving"
            case .notServing: "not serving"
            case .draining: "draining"
            case .unspecified: "unknown"
            }
            print("\(status); store \(health.store) (\(health.storeState)); version \(health.serverVersion); up \(formatDuration(Double(health.uptimeMs) / 1000))")
        }
    }
}

struct Stats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print job counts, connections and per-method latencies.",
                                                    discussion: "Example: jobwire stats --json")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print as JSON.") var json = false

    func run() async throws {
        try await runReportingErrors {
            let stats = try await global.client().stats()
            if json {
                print(JSONValue.object([
                    "jobs": .object(stats.jobs.map { .init($0.status.name, .int(Int64(clamping: $0.count))) }),
                    "connections": .int(Int64(stats.connections)), "streams": .int(Int64(stats.streams)),
                    "uptime_ms": .int(Int64(clamping: stats.uptimeMs)),
                    "methods": .array(stats.methods.map {
                        .object(["method": .string($0.method), "calls": .int(Int64(clamping: $0.calls)),
                                 "errors": .int(Int64(clamping: $0.errors)), "p50_us": .int(Int64(clamping: $0.p50Us)),
                                 "p99_us": .int(Int64(clamping: $0.p99Us)), "p999_us": .int(Int64(clamping: $0.p999Us))])
                    }),
                ]).text(pretty: true))
                return
            }
            print("jobs: " + (stats.jobs.isEmpty ? "none" : stats.jobs.map { "\($0.status.name) \($0.count)" }.joined(separator: ", ")))
            print("connections \(stats.connections), streams \(stats.streams), up \(formatDuration(Double(stats.uptimeMs) / 1000))")
            for method in stats.methods {
                let name = method.method.split(separator: "/").last.map(String.init) ?? method.method
                print("\(name.padding(toLength: 18, withPad: " ", startingAt: 0)) calls \(method.calls)  errors \(method.errors)  p50 \(method.p50Us) µs  p99 \(method.p99Us) µs  p99.9 \(method.p999Us) µs")
            }
        }
    }
}
