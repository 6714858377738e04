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
        subcommands: [Configure.self, Get.self, Watch.self, Cancel.self, Retry.self, List.self, Update.self, Delete.self,
                      Health.self, Stats.self, Usage.self, Simulate.self, Keys.self, Webhooks.self])
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
    if job.attempt > 1 { lines.append("attempt    \(job.attempt)") }
    for attempt in job.previousAttempts {
        let why = attempt.error.map { $0.message + ($0.reason.isEmpty ? "" : " [\($0.reason)]") } ?? attempt.cancelReason
        lines.append("attempt \(attempt.attempt)  \(attempt.status.name)\(why.isEmpty ? "" : ": \(why)")")
    }
    lines.append("priority   \(job.priority)")
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

struct Retry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start a new attempt of a FAILED or CANCELLED job under the same id, and print it.",
        discussion: "Example: jobwire retry 3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The job id.") var jobID: String
    @Option(help: "Only if the job is still at this revision.") var expectedRevision: UInt64 = 0
    @Flag(help: "Print the job as JSON.") var json = false

    func run() async throws {
        try await runReportingErrors {
            show(try await global.client().retry(jobID, expectedRevision: expectedRevision), json: json)
        }
    }
}

struct Update: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Change a job's priority, or report on it as its worker (for scripts).",
        discussion: """
            --priority alone needs a client key (SetPriority); the other options are the worker's report (UpdateJob).

            Examples:
              jobwire update 3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b --priority 10
              jobwire update 3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b --status running --progress 40 --task encoding --log "pass 1 done"
            """)

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
    @Option(help: "New priority (higher is more urgent).") var priority: Int32?
    @Flag(help: "Print the job as JSON.") var json = false

    /// Whether anything besides the priority is asked for.
    private var reports: Bool {
        status != nil || progress != nil || task != nil || eta != nil || !log.isEmpty || resultFile != nil || error != nil
            || failedTask != nil
    }

    func validate() throws {
        guard priority != nil || reports else { throw ValidationError("nothing to update: give --priority or a report option") }
    }

    func run() async throws {
        try await runReportingErrors {
            let client = global.client()
            var job: Job?
            if let priority {
                job = try await client.setPriority(jobID, to: priority)
            }
            guard reports else {
                if let job { show(job, json: json) }
                return
            }
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
            show(try await client.update(request), json: json)
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
