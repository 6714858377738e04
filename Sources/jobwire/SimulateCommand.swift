import ArgumentParser
import Foundation
import JobWireClient
import JobWireCommandLine
import JobWireProtocol

#if canImport(Glibc)
import Glibc
#endif

struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A demo worker: creates jobs and drives them through progress to an end.",
        discussion: """
            Most jobs complete, about one in four fails, and a job cancelled from another terminal (jobwire cancel)
            stops and reports CANCELLED. Watch them from a second terminal with `jobwire watch JOB_ID`.

            Example: jobwire simulate --jobs 5 --duration 1m
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "How many jobs.") var jobs: Int = 3
    @Option(name: [.customLong("duration"), .customLong("seconds")],
            help: "How long each job runs: 30s, 2m, or plain seconds (--seconds is the older name).")
    var duration = DurationArgument(milliseconds: 30_000)

    func validate() throws {
        guard (1...1000).contains(jobs) else { throw ValidationError("--jobs must be 1 to 1000") }
        guard duration.milliseconds > 0 else { throw ValidationError("--duration must be positive") }
    }

    func run() async throws {
        try await runReportingErrors {
            let client = global.client()
            let seconds = Double(duration.milliseconds) / 1000
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<jobs {
                    let spec = Job(type: index % 2 == 0 ? "das_stream" : "transcode", labels: ["simulated": "true"],
                                   viewType: 1, frequenciesList: (0..<8).map { Double($0) * 12.5 }, linesDt: 0.01,
                                   channelToStreamIndex: [1: 0, 2: 0, 3: 1, 4: 1], streamAmount: 2, frequenciesAmount: 8,
                                   channelAmount: 4,
                                   metadata: StreamMetadata(dx: 1.02, prr: 2000, fiberStartMeters: 0, fiberLengthMeters: 5000,
                                                            swVersion: "sim-1.0"))
                    let reporter = try await JobReporter.create(client: client, job: spec, lease: .seconds(10))
                    print("created \(reporter.jobID)   (jobwire watch \(reporter.jobID))")
                    fflush(nil)  // all streams: `stdout` itself is not concurrency-safe to name
                    group.addTask {
                        try await Self.drive(reporter, index: index, seconds: seconds)
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    private static let tasks = ["queued input", "opening stream", "calibrating", "processing", "encoding", "uploading"]

    private static func drive(_ reporter: JobReporter, index: Int, seconds: Double) async throws {
        let steps = 20
        let failAt = index % 4 == 3 ? Int.random(in: 5..<steps) : nil
        try await reporter.report(status: .running, progress: 0, task: tasks[0], eta: .seconds(seconds), log: ["worker started"])
        for step in 1...steps {
            try await Task.sleep(for: .milliseconds(Int64(seconds * 1000) / Int64(steps)))
            if reporter.isCancellationRequested {
                try await reporter.cancelled(log: ["stopped at \(step * 100 / steps)% on request"])
                print("\(reporter.jobID) cancelled")
                return
            }
            if step == failAt {
                try await reporter.fail(JobError(message: "simulated failure", failedTask: tasks[step * tasks.count / (steps + 1)],
                                                 retryCount: 2, reason: "SIMULATED"),
                                        log: ["giving up after 2 retries"])
                print("\(reporter.jobID) failed")
                return
            }
            let left = seconds * Double(steps - step) / Double(steps)
            try await reporter.report(progress: Double(step * 100 / steps), task: tasks[step * tasks.count / (steps + 1)],
                                      eta: .milliseconds(Int64(left * 1000)), log: ["step \(step) of \(steps) done"])
        }
        let summary = #"{"frames": 1200, "bytes": 48000000}"#
        try await reporter.complete(result: JobResult(contentType: "application/json", data: Array(summary.utf8)))
        print("\(reporter.jobID) completed")
    }
}
