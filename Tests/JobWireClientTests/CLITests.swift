import Dispatch
import Foundation
import JobWireClient
import JobWireKeys
import JobWireProtocol
import JobWireServer
import JobWireTestSupport
import Testing

/// The `jobwire` binary, run as a person or a script would run it. Serialized:
/// starting many debug binaries at once saturates a 2-core machine for
/// seconds, which is not what these tests are about (and starves timing-based
/// tests running beside them, such as lease heartbeats).
@Suite("jobwire CLI", .serialized, .ownThread)
struct CLITests {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("jobwire")
    }

    /// Runs the binary and waits for it, blocking the test's own thread (the suite runs `.ownThread`).
    func jobwire(_ arguments: [String], port: Int) async throws -> Run {
        try runBlocking(arguments, port: port)
    }

    private func runBlocking(_ arguments: [String], port: Int) throws -> Run {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = arguments + ["--port", "\(port)"]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
                   stderr: String(decoding: err, as: UTF8.self))
    }

    @Test("get --json prints the REST services' shape, with every key")
    func getJSONShape() async throws {
        let harness = ServerHarness { $0.registry.streamPorts = 52_000...52_010 }
        try harness.start()
        let client = harness.client()
        let job = try await client.configure(streamJob()).job
        _ = try await client.update(UpdateJobRequest(jobID: job.jobID, status: .running, progress: 42.5, currentTask: "encoding",
                                                     etaSeconds: 30, logLines: ["one", "two"]))
        let run = try await jobwire(["get", job.jobID, "--tail", "5", "--json"], port: harness.port)
        #expect(run.status == 0, "\(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let keys = ["status", "job_id", "stream_port", "stream_url", "view_type", "frequencies_list", "lines_dt",
                    "channel_to_stream_index", "stream_amount", "frequencies_amount", "channel_amount", "metadata", "type",
                    "labels", "priority", "progress", "current_task", "eta_seconds", "created_at", "updated_at",
                    "completed_at", "revision", "result", "error", "log_tail"]
        for key in keys { #expect(object[key] != nil, "missing \(key)") }
        #expect(object["status"] as? String == "running")
        #expect(object["job_id"] as? String == job.jobID)
        #expect((52_000...52_010).contains(object["stream_port"] as? Int ?? 0))
        #expect(object["channel_to_stream_index"] as? [String: Int] == ["1": 0, "2": 1])
        #expect(object["frequencies_list"] as? [Double] == [0, 1.5, 3])
        let metadata = try #require(object["metadata"] as? [String: Any])
        #expect(Set(metadata.keys) == ["dx", "prr", "fiber_start_meters", "fiber_length_meters", "sw_version"])
        #expect(metadata["dx"] as? Double == 1.02 && metadata["sw_version"] as? String == "1.0.0")
        #expect(object["progress"] as? Double == 42.5 && object["eta_seconds"] as? Double == 30)
        #expect(object["completed_at"] is NSNull && object["result"] is NSNull && object["error"] is NSNull)
        let created = try #require(object["created_at"] as? String)
        #expect(created.hasSuffix("Z") && JobJSONCheck.isISO8601(created))
        #expect(object["log_tail"] as? [String] == ["one", "two"])
        #expect(object["revision"] as? Int == 2)
    }

    @Test("watch --json: one JSON object per event, exit 0 / 2 / 3 for COMPLETED / FAILED / CANCELLED",
          arguments: [JobStatus.completed, .failed, .cancelled])
    func watchExitCodes(ending: JobStatus) async throws {
        let harness = ServerHarness()
        try harness.start()
        let client = harness.client()
        let job = try await client.configure(streamJob()).job
        _ = try await client.update(UpdateJobRequest(jobID: job.jobID, status: .running, progress: 50))
        let finish = Task {
            try await Task.sleep(for: .milliseconds(300))
            var request = UpdateJobRequest(jobID: job.jobID, status: ending)
            if ending == .failed { request.error = JobError(message: "boom") }
            _ = try await client.update(request)
        }
        let run = try await jobwire(["watch", job.jobID, "--json"], port: harness.port)
        try await finish.value
        let expected: Int32 = switch ending {
        case .failed: 2
        case .cancelled: 3
        default: 0
        }
        #expect(run.status == expected, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        let events = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(events.map { $0["type"] as? String } == ["snapshot", "change"])
        #expect(events.map { $0["revision"] as? Int } == [2, 3])
        #expect((events.last?["job"] as? [String: Any])?["status"] as? String == ending.name)
    }

    @Test("list --format csv parses as CSV with a header; json and table work too")
    func listFormats() async throws {
        let harness = ServerHarness()
        try harness.start()
        let client = harness.client()
        var ids: [String] = []
        for index in 0..<3 {
            ids.append(try await client.configure(Job(type: index == 1 ? "with,comma" : "plain")).job.jobID)
        }
        let csv = try await jobwire(["list", "--format", "csv"], port: harness.port)
        #expect(csv.status == 0)
        let rows = CSVCheck.parse(csv.stdout)
        #expect(rows.first == ["job_id", "status", "type", "priority", "progress", "current_task", "stream_url", "stream_port",
                               "created_at", "updated_at", "completed_at", "revision"])
        #expect(rows.dropFirst().map { $0[0] } == ids.reversed())
        #expect(rows.dropFirst().map { $0[2] } == ["plain", "with,comma", "plain"])
        #expect(rows.dropFirst().allSatisfy { $0.count == 12 && $0[1] == "pending" })

        let json = try await jobwire(["list", "--format", "json", "--all", "--page-size", "2"], port: harness.port)
        let array = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(array.compactMap { $0["job_id"] as? String } == ids.reversed())
        let table = try await jobwire(["list", "--type", "plain"], port: harness.port)
        #expect(table.stdout.contains("JOB ID") && table.stdout.contains("2 of 2 jobs"))
    }

    @Test("errors go to stderr as `error: CODE (REASON): message` with 10 + the code as exit status")
    func errors() async throws {
        let harness = ServerHarness()
        try harness.start()
        let missing = "00000000-0000-4000-8000-000000000000"
        let notFound = try await jobwire(["get", missing], port: harness.port)
        #expect(notFound.status == 15)
        #expect(notFound.stderr == "error: NOT_FOUND (JOB_NOT_FOUND): job \(missing) not found\n")
        #expect(notFound.stdout.isEmpty)
        let invalid = try await jobwire(["cancel", "not-a-uuid"], port: harness.port)
        #expect(invalid.status == 13 && invalid.stderr.hasPrefix("error: INVALID_ARGUMENT (INVALID_JOB_ID): "))
        let port = harness.port
        harness.stop()
        let down = try await jobwire(["health", "--timeout", "500ms"], port: port)
        #expect(down.status == 14 && down.stderr.hasPrefix("error: DEADLINE_EXCEEDED (CONNECT_FAILED): "))
        let usage = try await jobwire(["list", "--status", "sleeping"], port: port)
        #expect(usage.status == 64)
    }

    @Test("a key-less call against a keyed server exits at once with UNAUTHENTICATED (26), not at its deadline")
    func missingKey() async throws {
        var file = KeysFile()
        let key = try file.createKey(tenant: "acme", role: .reader).key
        let ring = KeyRing(file)
        let harness = ServerHarness { $0.security.keys = ring }
        try harness.start()
        let started = ContinuousClock.now
        let refused = try await jobwire(["health", "--timeout", "30s"], port: harness.port)
        #expect(refused.status == 26)
        #expect(refused.stderr == "error: UNAUTHENTICATED (INVALID_API_KEY): this server requires an API key\n")
        #expect(ContinuousClock.now - started < .seconds(15), "the CLI waited for its deadline")
        let wrong = try await jobwire(["health", "--api-key", "jw_0123456789abcdef_0123456789abcdef0123456789abcdef"],
                                      port: harness.port)
        #expect(wrong.status == 26 && wrong.stderr.hasPrefix("error: UNAUTHENTICATED (INVALID_API_KEY): "))
        let allowed = try await jobwire(["health", "--api-key", key], port: harness.port)
        #expect(allowed.status == 0, "\(allowed.stderr)")
    }

    @Test("--timeout takes jobwired's duration syntax: 500ms, 2s, 1m, 1h, or plain seconds",
          arguments: ["500ms", "2s", "1m", "1h", "2", "0.5", "1.5s"])
    func timeoutSyntax(timeout: String) async throws {
        let harness = ServerHarness()
        try harness.start()
        let run = try await jobwire(["health", "--timeout", timeout], port: harness.port)
        #expect(run.status == 0, "\(run.stderr)")
    }

    @Test("a malformed duration is a usage error (64) naming the option", arguments: ["2x", "-1s", "s", "1e3", "0", "0ms"])
    func malformedTimeout(timeout: String) async throws {
        let run = try await jobwire(["health", "--timeout", timeout], port: 1)
        #expect(run.status == 64)
        #expect(run.stderr.contains("--timeout"), "\(run.stderr)")
    }

    @Test("a time filter that is not ISO 8601 is a usage error (64) naming the option",
          arguments: ["--created-after", "--created-before"])
    func malformedTimeFilter(flag: String) async throws {
        let run = try await jobwire(["list", flag, "yesterday"], port: 1)
        #expect(run.status == 64)
        #expect(run.stderr.contains("\(flag): 'yesterday' is not an ISO 8601 time"), "\(run.stderr)")
    }

    @Test("configure from a spec file, flags overriding it; update as a worker")
    func configureAndUpdate() async throws {
        let harness = ServerHarness()
        try harness.start()
        let spec = """
            {"type": "das_stream", "stream_url": "10.10.100.100", "stream_port": 50051, "view_type": 0,
             "frequencies_list": [0.0, 1.0], "lines_dt": 123.0, "channel_to_stream_index": {"1": 0, "2": 1},
             "stream_amount": 2, "frequencies_amount": 2, "channel_amount": 50, "labels": {"site": "a"},
             "metadata": {"dx": 1.02, "prr": 2000, "fiber_start_meters": 0, "fiber_length_meters": 5000, "sw_version": "1.0.0"},
             "status": "running", "job_id": "ignored"}
            """
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("jobwire-spec-\(UUID().uuidString).json")
        try Data(spec.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let created = try await jobwire(["configure", "--file", file.path, "--label", "site=b", "--label", "team=x", "--priority", "7",
                                   "--json"], port: harness.port)
        #expect(created.status == 0, "\(created.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(created.stdout.utf8)) as? [String: Any])
        #expect(object["status"] as? String == "pending" && object["stream_port"] as? Int == 50051)
        #expect(object["labels"] as? [String: String] == ["site": "b", "team": "x"] && object["priority"] as? Int == 7)
        #expect(object["channel_to_stream_index"] as? [String: Int] == ["1": 0, "2": 1])
        let id = try #require(object["job_id"] as? String)
        #expect(id != "ignored")

        let updated = try await jobwire(["update", id, "--status", "running", "--progress", "25", "--task", "encoding",
                                   "--log", "first", "--log", "second", "--json"], port: harness.port)
        let job = try #require(try JSONSerialization.jsonObject(with: Data(updated.stdout.utf8)) as? [String: Any])
        #expect(job["status"] as? String == "running" && job["progress"] as? Double == 25)
        let bad = try await jobwire(["update", id, "--status", "pending"], port: harness.port)
        #expect(bad.status == 19 && bad.stderr.contains("ILLEGAL_TRANSITION"))
        try Data(#"{"typ": "x"}"#.utf8).write(to: file)
        let unknownField = try await jobwire(["configure", "--file", file.path], port: harness.port)
        #expect(unknownField.status == 13 && unknownField.stderr.contains("INVALID_ARGUMENT (FIELD_NOT_ALLOWED)")
                && unknownField.stderr.contains("unknown field \"typ\""))
    }

    @Test("--help on every command shows an example",
          arguments: ["configure", "get", "watch", "cancel", "list", "update", "delete", "health", "stats", "simulate"])
    func helpExamples(command: String) async throws {
        let run = try await jobwire([command, "--help"], port: 7420)
        #expect(run.status == 0)
        #expect(run.stdout.contains("Example"), "\(command) --help has no example")
    }
}

enum JobJSONCheck {
    static func isISO8601(_ text: String) -> Bool {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text) != nil
    }
}

/// A small RFC 4180 reader, to check the CLI's CSV independently of how it was written.
enum CSVCheck {
    static func parse(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var characters = Array(text).makeIterator()
        while let character = characters.next() {
            if quoted {
                if character == "\"" {
                    if let next = characters.next() {
                        if next == "\"" { field.append("\"") } else {
                            quoted = false
                            handle(next, &row, &field, &rows)
                        }
                    } else { quoted = false }
                } else { field.append(character) }
            } else if character == "\"" {
                quoted = true
            } else {
                handle(character, &row, &field, &rows)
            }
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }

    private static func handle(_ character: Character, _ row: inout [String], _ field: inout String, _ rows: inout [[String]]) {
        switch character {
        case ",": row.append(field); field = ""
        case "\r\n", "\n": row.append(field); field = ""; rows.append(row); row = []
        case "\r": break
        default: field.append(character)
        }
    }
}
