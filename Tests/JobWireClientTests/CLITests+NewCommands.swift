import Foundation
import JobWireClient
import JobWireProtocol
import JobWireServer
import Testing

/// retry, update --priority, list --search/--sort, stats --from/--to, usage,
/// health --detailed and watch --all, run as a person or script would.
extension CLITests {
    @Test("retry, update --priority, and list --search with --sort priority")
    func retryPriorityAndSearch() async throws {
        let harness = ServerHarness()
        try harness.start()
        let client = harness.client()
        let low = try await client.configure(Job(type: "transcode", labels: ["site": "Haifa"], priority: 1)).job
        let high = try await client.configure(Job(type: "transcode", labels: ["site": "haifa-north"], priority: 5)).job
        _ = try await client.configure(Job(type: "other"))
        _ = try await client.update(UpdateJobRequest(jobID: low.jobID, status: .failed, error: JobError(message: "boom")))

        let retry = try await jobwire(["retry", low.jobID, "--json"], port: harness.port)
        #expect(retry.status == 0, "\(retry.stderr)")
        let retried = try #require(try JSONSerialization.jsonObject(with: Data(retry.stdout.utf8)) as? [String: Any])
        #expect(retried["status"] as? String == "pending" && retried["attempt"] as? Int == 2)
        #expect((retried["previous_attempts"] as? [[String: Any]])?.first?["status"] as? String == "failed")
        let again = try await jobwire(["retry", low.jobID], port: harness.port)
        #expect(again.status == 19 && again.stderr.contains("FAILED_PRECONDITION (NOT_RETRYABLE)"))

        let priority = try await jobwire(["update", low.jobID, "--priority", "10"], port: harness.port)
        #expect(priority.status == 0 && priority.stdout.contains("priority   10"), "\(priority.stderr)")

        let csv = try await jobwire(["list", "--search", "HAIFA", "--sort", "priority", "--format", "csv"], port: harness.port)
        #expect(CSVCheck.parse(csv.stdout).dropFirst().map { $0[0] } == [low.jobID, high.jobID])
        let ascending = try await jobwire(["list", "--search", "haifa", "--sort", "priority", "--asc", "--format", "csv"],
                                          port: harness.port)
        #expect(CSVCheck.parse(ascending.stdout).dropFirst().map { $0[0] } == [high.jobID, low.jobID])
        let bad = try await jobwire(["list", "--sort", "size"], port: harness.port)
        #expect(bad.status == 64)
        // Closed, not released: a released client's socket closes later, when a test counting descriptors may run.
        await client.close()
    }

    @Test("stats --from/--to --json, usage --json and health --detailed --json")
    func figures() async throws {
        let harness = ServerHarness()
        try harness.start()
        let client = harness.client()
        let job = try await client.configure(Job(type: "t")).job
        _ = try await client.update(UpdateJobRequest(jobID: job.jobID, status: .running))
        _ = try await client.update(UpdateJobRequest(jobID: job.jobID, status: .completed))
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let from = formatter.string(from: Date(timeIntervalSince1970: Double(job.createdAtMs) / 1000))
        let stats = try await jobwire(["stats", "--from", from, "--json"], port: harness.port)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any])
        #expect(object["total_jobs"] as? Int == 1 && object["success_rate"] as? Double == 1)
        #expect((object["date_range"] as? [String: Any])?["from"] as? String == from)
        let none = try await jobwire(["stats", "--to", from, "--json"], port: harness.port)
        #expect((try JSONSerialization.jsonObject(with: Data(none.stdout.utf8)) as? [String: Any])?["total_jobs"] as? Int == 0)

        let usage = try await jobwire(["usage", "--json"], port: harness.port)
        let keys = try #require((try JSONSerialization.jsonObject(with: Data(usage.stdout.utf8)) as? [String: Any])?["keys"]
            as? [[String: Any]])
        #expect(keys.first?["key_id"] as? String == "development")
        #expect((keys.first?["methods"] as? [[String: Any]])?.contains { $0["method"] as? String == Method.updateJob.rawValue } == true)

        let health = try await jobwire(["health", "--detailed", "--json"], port: harness.port)
        #expect(health.status == 0)
        let components = try #require((try JSONSerialization.jsonObject(with: Data(health.stdout.utf8)) as? [String: Any])?[
            "components"] as? [[String: Any]])
        #expect(components.compactMap { $0["name"] as? String } == ["store", "disk", "event_loops"])
        #expect(components.allSatisfy { $0["state"] as? String == "ok" })
        await client.close()
    }

    @Test("watch --all --json: one object per event, the snapshot, then live changes of matching jobs only")
    func watchAll() async throws {
        let harness = ServerHarness()
        try harness.start()
        let client = harness.client()
        let running = try await client.configure(Job(type: "t")).job
        _ = try await client.update(UpdateJobRequest(jobID: running.jobID, status: .running))
        let change = Task {
            // The watch has its snapshot by then; these reach it live.
            try await Task.sleep(for: .milliseconds(400))
            _ = try await client.configure(Job(type: "t"))
            _ = try await client.update(UpdateJobRequest(jobID: running.jobID, status: .completed))
        }
        let run = try await jobwire(["watch", "--all", "--status", "running", "--json", "--max-events", "3"], port: harness.port)
        try await change.value
        #expect(run.status == 0, "\(run.stderr)")
        let events = try run.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(events.map { $0["type"] as? String } == ["snapshot", "synced", "left"])
        #expect((events[0]["jobs"] as? [[String: Any]])?.compactMap { $0["job_id"] as? String } == [running.jobID])
        #expect(events[2]["job_id"] as? String == running.jobID)
        let usage = try await jobwire(["watch", running.jobID, "--all"], port: harness.port)
        #expect(usage.status == 64)
        await client.close()
    }
}
