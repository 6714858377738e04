import ArgumentParser
import Foundation
import JobWireClient
import JobWireJSON
import JobWireProtocol

/// `--sort created|updated|priority`.
extension JobOrder: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument.lowercased()) }
    public static var allValueStrings: [String] { allCases.map(\.name) }
}

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List jobs (newest first by default) as a table, JSON or CSV.",
        discussion: """
            --search matches, ignoring case, text in the type, the current task or a label value, or the start of a job id.
            With --all every page is fetched and printed as it arrives, so an export of any size stays small in memory.

            Examples:
              jobwire list --status running --search haifa --sort priority
              jobwire list --status running --label site=haifa --all --format csv > jobs.csv
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json, csv
    }

    @OptionGroup var global: GlobalOptions
    @Option(help: "Only jobs in this status; repeat for more.") var status: [JobStatus] = []
    @Option(help: "Only jobs of this type.") var type: String?
    @Option(help: "KEY=VALUE the jobs must carry; repeat for more.") var label: [String] = []
    @Option(help: "Only jobs created at or after this ISO 8601 time.") var createdAfter: String?
    @Option(help: "Only jobs created before this ISO 8601 time.") var createdBefore: String?
    @Option(help: "Text in the type, task or a label value, or a job id prefix.") var search: String?
    @Option(help: "created, updated or priority.") var sort: JobOrder = .created
    @Flag(help: "Smallest first (oldest, lowest); the default is largest first.") var asc = false
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
            var request = ListJobsRequest(statuses: status, type: type ?? "", labels: try parseLabels(label), pageSize: pageSize,
                                          query: search ?? "", orderBy: sort, ascending: asc)
            if let time = createdAfter.flatMap(JobJSON.parseTime) { request.createdAfterMs = time }
            if let time = createdBefore.flatMap(JobJSON.parseTime) { request.createdBeforeMs = time }
            let client = global.client()
            var output = Output(format: format)
            var shown = 0
            var total: UInt64 = 0
            // Page by page, each printed before the next is asked for: memory stays one page whatever the total.
            repeat {
                let page = try await client.listPage(request)
                if shown == 0 { total = page.totalCount }
                output.write(page.jobs)
                shown += page.jobs.count
                request.pageToken = page.nextPageToken
            } while all && !request.pageToken.isEmpty
            output.finish(shown: shown, total: total)
        }
    }

    /// Prints pages as they arrive: one CSV header, one JSON array written
    /// element by element, table columns sized by the first page.
    struct Output {
        let format: Format
        private var started = false
        private var widths: [Int] = []

        init(format: Format) {
            self.format = format
        }

        mutating func write(_ jobs: [Job]) {
            switch format {
            case .csv:
                if !started { print(JobCSV.header, terminator: "") }
                for job in jobs { print(JobCSV.row(job), terminator: "") }
            case .json:
                for job in jobs {
                    print(started ? "," : "[", terminator: "\n")
                    print(JobJSON.value(job).text(pretty: false), terminator: "")
                    started = true
                }
            case .table:
                let rows = jobs.map(List.tableRow)
                if !started {
                    widths = (0..<List.tableHeader.count).map { column in
                        ([List.tableHeader] + rows).map { $0[column].count }.max() ?? 0
                    }
                    print(line(List.tableHeader))
                }
                for row in rows { print(line(row)) }
            }
            if !jobs.isEmpty || format != .json { started = true }
        }

        mutating func finish(shown: Int, total: UInt64) {
            switch format {
            case .csv: break
            case .json: print(started ? "\n]" : "[]")
            case .table:
                if !started { print(line(List.tableHeader)) }
                print("\(shown) of \(total) jobs")
            }
        }

        private func line(_ row: [String]) -> String {
            let padded = zip(row, widths + Array(repeating: 0, count: max(0, row.count - widths.count)))
                .map { $0.padding(toLength: max($1, $0.count), withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
            // No trailing blanks after the last column.
            return String(padded.reversed().drop { $0 == " " }.reversed())
        }
    }

    static let tableHeader = ["JOB ID", "STATUS", "TYPE", "PRIORITY", "PROGRESS", "TASK", "STREAM", "CREATED"]

    static func tableRow(_ job: Job) -> [String] {
        [job.jobID, job.status.name, job.type, "\(job.priority)", String(format: "%.1f%%", job.progress), job.currentTask,
         job.streamPort == 0 ? "" : "\(job.streamURL):\(job.streamPort)", ISO8601.string(milliseconds: job.createdAtMs)]
    }
}
