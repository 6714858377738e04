import ArgumentParser
import Foundation
import JobWireClient
import JobWireJSON
import JobWireProtocol

#if canImport(Glibc)
import Glibc
#endif

struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Follow a job live until it ends, or with --all every matching job; survives disconnects and restarts.",
        discussion: """
            One job: on a terminal, a progress bar with status, task and ETA. Otherwise one line per event; with --json,
            one JSON object per event per line: {"revision", "type" (snapshot, change or resync), "job"}.
            Exit status: 0 when the job ends COMPLETED, 2 FAILED, 3 CANCELLED, 10 + the gRPC code on an error.

            --all: every job of the tenant matching the filters, live (WatchJobs). On a terminal, a table that redraws
            in place with the counts by status on top; otherwise one line per event; with --json, one JSON object per
            event per line: {"type" (snapshot, synced, entered, changed, left, resync), "cursor", "job_id", "jobs"}.
            It runs until interrupted (or --max-events); --cursor resumes from an event's cursor.

            Examples:
              jobwire watch 3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b --json
              jobwire watch --all --status running --status pending
              jobwire watch --all --search haifa --json
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The job id (or --all).") var jobID: String?
    @Option(help: "Resume after this revision instead of starting with the current state.") var afterRevision: UInt64 = 0
    @Flag(help: "One JSON object per event per line.") var json = false
    @Flag(help: "Every matching job of the tenant instead of one.") var all = false
    @Option(help: "--all: only jobs in this status; repeat for more.") var status: [JobStatus] = []
    @Option(help: "--all: only jobs of this type.") var type: String?
    @Option(help: "--all: KEY=VALUE the jobs must carry; repeat for more.") var label: [String] = []
    @Option(help: "--all: text in the type, task or a label value, or a job id prefix.") var search: String?
    @Option(help: "--all: resume after this event's cursor.") var cursor: String?
    @Option(help: "--all: stop after this many events.") var maxEvents: Int?

    func validate() throws {
        guard (jobID == nil) == all else { throw ValidationError("give a job id, or --all, not both") }
        if !all && (!status.isEmpty || type != nil || !label.isEmpty || search != nil || cursor != nil || maxEvents != nil) {
            throw ValidationError("--status, --type, --label, --search, --cursor and --max-events go with --all")
        }
    }

    func run() async throws {
        guard let jobID else {
            try await runReportingErrors {
                let filter = ListJobsRequest(statuses: status, type: type ?? "", labels: try parseLabels(label),
                                             query: search ?? "")
                try await WatchAll(json: json, terminal: !json && isatty(STDOUT_FILENO) == 1, maxEvents: maxEvents)
                    .run(global.client().watchJobs(filter, cursor: cursor ?? ""))
            }
            return
        }
        var final: Job?
        try await runReportingErrors {
            let terminal = !json && isatty(STDOUT_FILENO) == 1
            for try await event in global.client().watch(jobID, after: afterRevision) {
                final = event.job
                if json {
                    print(JSONValue.object(["revision": .int(Int64(clamping: event.revision)),
                                            "type": .string(kindName(event.kind)), "job": JobJSON.value(event.job)]).text())
                } else if terminal {
                    print("\r\u{1B}[2K" + bar(event.job), terminator: event.job.status.isTerminal ? "\n" : "")
                } else {
                    print(line(event))
                }
                fflush(nil)  // all streams: `stdout` itself is not concurrency-safe to name
            }
        }
        switch final?.status {
        case .failed: throw ExitCode(CLIExit.jobFailed)
        case .cancelled: throw ExitCode(CLIExit.jobCancelled)
        default: return
        }
    }

    private func kindName(_ kind: JobEvent.Kind) -> String {
        switch kind {
        case .snapshot: "snapshot"
        case .change: "change"
        case .resync: "resync"
        }
    }

    private func line(_ event: JobEvent) -> String {
        var text = "revision \(event.revision) \(event.job.status.name) \(String(format: "%.1f", event.job.progress))%"
        if !event.job.currentTask.isEmpty { text += " \(event.job.currentTask)" }
        if let eta = event.job.etaSeconds { text += " eta \(formatDuration(eta))" }
        if event.kind == .resync { text += " (resync: changes in between were missed)" }
        for log in event.newLogLines { text += "\n  \(log)" }
        return text
    }

    private func bar(_ job: Job) -> String {
        let width = 30
        let filled = max(0, min(width, Int((job.progress / 100 * Double(width)).rounded())))
        var text = "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
        text += String(format: "%5.1f%% ", job.progress) + job.status.name
        if !job.currentTask.isEmpty { text += "  \(job.currentTask)" }
        if let eta = job.etaSeconds { text += "  eta \(formatDuration(eta))" }
        return text
    }
}
