import ArgumentParser
import Foundation
import JobWireClient
import JobWireJSON
import JobWireProtocol

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List jobs, newest first, as a table, JSON or CSV.",
        discussion: "Example: jobwire list --status running --label site=haifa --all --format csv > jobs.csv")

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json, csv
    }

    @OptionGroup var global: GlobalOptions
    @Option(help: "Only jobs in this status; repeat for more.") var status: [JobStatus] = []
    @Option(help: "Only jobs of this type.") var type: String?
    @Option(help: "KEY=VALUE the jobs must carry; repeat for more.") var label: [String] = []
    @Option(help: "Only jobs created at or after this ISO 8601 time.") var createdAfter: String?
    @Option(help: "Only jobs created before this ISO 8601 time.") var createdBefore: String?
    @Option(help: "Jobs per page (at most 500).") var pageSize: UInt32 = 100
    @Flag(help: "Every page, not just the first.") var all = false
    @Option(help: "table, json or csv.") var format: Format = .table

    /// A time that does not parse is a usage error (64), like any bad flag value.
    func validate() throws {
        for (flag, value) in [("--created-after", createdAfter), ("--created-before", createdBefore)] {
            if let value, JobJSON.parseTime(value) == nil {
                throw ValidationError("\(flag): '\(value)' is not an ISO 8601 time such as 2026-12-02T08:00:00Z")
            }
        }
    }

    func run() async throws {
        try await runReportingErrors {
            var request = ListJobsRequest(statuses: status, type: type ?? "", labels: try parseLabels(label), pageSize: pageSize)
            if let time = createdAfter.flatMap(JobJSON.parseTime) { request.createdAfterMs = time }
            if let time = createdBefore.flatMap(JobJSON.parseTime) { request.createdBeforeMs = time }
            let client = global.client()
            var jobs: [Job] = []
            var total: UInt64 = 0
            if all {
                for try await job in client.list(request) { jobs.append(job) }
                total = UInt64(jobs.count)
            } else {
                let page = try await client.listPage(request)
                jobs = page.jobs
                total = page.totalCount
            }
            switch format {
            case .json: print(JSONValue.array(jobs.map(JobJSON.value)).text(pretty: true))
            case .csv: print(csv(jobs), terminator: "")
            case .table: print(table(jobs, total: total))
            }
        }
    }

    static let csvColumns = ["job_id", "status", "type", "priority", "progress", "current_task", "stream_url", "stream_port",
                             "created_at", "updated_at", "completed_at", "revision"]

    private func csv(_ jobs: [Job]) -> String {
        var text = Self.csvColumns.joined(separator: ",") + "\r\n"
        for job in jobs {
            let fields = [job.jobID, job.status.name, job.type, "\(job.priority)", "\(job.progress)", job.currentTask,
                          job.streamURL, "\(job.streamPort)", ISO8601.string(milliseconds: job.createdAtMs), ISO8601.string(milliseconds: job.updatedAtMs),
                          job.completedAtMs == 0 ? "" : ISO8601.string(milliseconds: job.completedAtMs), "\(job.revision)"]
            text += fields.map(quote).joined(separator: ",") + "\r\n"
        }
        return text
    }

    /// RFC 4180: quote fields holding commas, quotes or line breaks; double the quotes.
    private func quote(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private func table(_ jobs: [Job], total: UInt64) -> String {
        var rows = [["JOB ID", "STATUS", "TYPE", "PROGRESS", "TASK", "STREAM", "CREATED"]]
        for job in jobs {
            rows.append([job.jobID, job.status.name, job.type, String(format: "%.1f%%", job.progress), job.currentTask,
                         job.streamPort == 0 ? "" : "\(job.streamURL):\(job.streamPort)", ISO8601.string(milliseconds: job.createdAtMs)])
        }
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        var lines = rows.map { row in
            zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
        lines.append("\(jobs.count) of \(total) jobs")
        return lines.joined(separator: "\n")
    }
}
