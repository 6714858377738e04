import Foundation
import JobWireProtocol
@testable import JobWireServer
import JobWireTestSupport
import Testing

/// The SQLite store: a restart gives back everything.
@Suite("Durable store (SQLite)", .ownThread)
struct DurableStoreTests {
    static func temporaryDirectory() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("jobwire-store-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("a restart restores every field of every kind of job, request ids, ports, revisions and watch history")
    func restartRoundTrip() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configure: (inout ServerConfiguration) -> Void = { $0.registry.streamPorts = 53_000...53_009 }

        var before: [String: Job] = [:]
        var watchedRevision: UInt64 = 0
        var runningID = ""
        var port = 0
        var pooled: UInt32 = 0
        do {
            let server = try TestServer(store: try SQLiteJobStore(directory: directory), configure)
            port = server.port
            let client = try server.client()
            var spec = streamJob(labels: ["site": "haifa", "tier": "gold"], priority: 9)
            spec.frequenciesList = (0..<500).map { Double($0) * 0.25 }
            spec.channelToStreamIndex = Dictionary(uniqueKeysWithValues: (1...50).map { (UInt32($0), UInt32($0 % 4)) })
            let pending = try client.unary(.configure, ConfigureRequest(requestID: "req-pending", job: spec), as: ConfigureResponse.self).job
            pooled = pending.streamPort

            let running = try client.unary(.configure, ConfigureRequest(job: streamJob(type: "ai_generation"), leaseTTLMs: 120_000),
                                           as: ConfigureResponse.self).job
            runningID = running.jobID
            _ = try client.unary(.updateJob, UpdateJobRequest(jobID: running.jobID, status: .running, progress: 37.5,
                                                              currentTask: "denoising", etaSeconds: 12,
                                                              logLines: (1...40).map { "step \($0)" }), as: Job.self)
            watchedRevision = try client.unary(.getMetadata, GetMetadataRequest(jobID: running.jobID), as: Job.self).revision
            for step in 1...3 {
                _ = try client.unary(.updateJob, UpdateJobRequest(jobID: running.jobID, progress: 37.5 + Double(step)), as: Job.self)
            }

            let completed = try client.unary(.configure, ConfigureRequest(job: streamJob(type: "transcode")), as: ConfigureResponse.self).job
            _ = try client.unary(.updateJob, UpdateJobRequest(jobID: completed.jobID, status: .running), as: Job.self)
            _ = try client.unary(.updateJob, UpdateJobRequest(jobID: completed.jobID, status: .completed, progress: 100,
                                                              result: JobResult(contentType: "application/json",
                                                                                data: Array(#"{"frames":7}"#.utf8))),
                                 as: Job.self)
            let failed = try client.unary(.configure, ConfigureRequest(job: Job(type: "t")), as: ConfigureResponse.self).job
            _ = try client.unary(.updateJob, UpdateJobRequest(jobID: failed.jobID, status: .failed,
                                                              error: JobError(message: "disk full", failedTask: "write",
                                                                              retryCount: 3, reason: "DISK_FULL")),
                                 as: Job.self)
            let cancelled = try client.unary(.configure, ConfigureRequest(job: Job(type: "t")), as: ConfigureResponse.self).job
            _ = try client.unary(.cancel, CancelRequest(jobID: cancelled.jobID, reason: "closed the tab"), as: Job.self)
            let cancelling = try client.unary(.configure, ConfigureRequest(job: Job(type: "t"), leaseTTLMs: 120_000),
                                              as: ConfigureResponse.self).job
            _ = try client.unary(.cancel, CancelRequest(jobID: cancelling.jobID), as: Job.self)
            let deleted = try client.unary(.configure, ConfigureRequest(job: Job(type: "gone")), as: ConfigureResponse.self).job
            _ = try client.unary(.deleteJob, DeleteJobRequest(jobID: deleted.jobID), as: DeleteJobResponse.self)

            for id in [pending.jobID, running.jobID, completed.jobID, failed.jobID, cancelled.jobID, cancelling.jobID] {
                before[id] = try client.unary(.getMetadata, GetMetadataRequest(jobID: id, logTail: 100), as: Job.self)
            }
            server.stop()
        }

        let server = try TestServer(store: try SQLiteJobStore(directory: directory), port: port, configure)
        let client = try server.client()
        for (id, job) in before {
            let after = try client.unary(.getMetadata, GetMetadataRequest(jobID: id, logTail: 100), as: Job.self)
            #expect(after == job, "job \(id) (\(job.status)) changed across the restart")
        }
        #expect(before.count == 6)
        #expect(before[runningID]?.logTail.count == 40)

        // Idempotency survives: the same request returns the same job.
        var spec = streamJob(labels: ["site": "haifa", "tier": "gold"], priority: 9)
        spec.frequenciesList = (0..<500).map { Double($0) * 0.25 }
        spec.channelToStreamIndex = Dictionary(uniqueKeysWithValues: (1...50).map { (UInt32($0), UInt32($0 % 4)) })
        let replay = try client.unary(.configure, ConfigureRequest(requestID: "req-pending", job: spec), as: ConfigureResponse.self)
        #expect(!replay.created && before[replay.job.jobID] != nil)

        // The pooled port is still taken; the cancelled job's port came back.
        var ports: Set<UInt32> = []
        for _ in 0..<2 {
            ports.insert(try client.unary(.configure, ConfigureRequest(job: Job(type: "x")), as: ConfigureResponse.self).job.streamPort)
        }
        #expect(!ports.contains(pooled))

        // A watcher that saw revision R before the restart resumes after R with no gap.
        let stream = try client.start(.watchJob, WatchJobRequest(jobID: runningID, afterRevision: watchedRevision))
        var revisions: [UInt64] = []
        for _ in 0..<3 {
            guard case .success(let event) = try client.nextEvent(stream) else { break }
            #expect(event.type == .change)
            revisions.append(event.revision)
        }
        #expect(revisions == [watchedRevision + 1, watchedRevision + 2, watchedRevision + 3])
        // Revisions keep growing.
        let next = try client.unary(.updateJob, UpdateJobRequest(jobID: runningID, progress: 99), as: Job.self)
        #expect(next.revision == (before[runningID]?.revision ?? 0) + 1)

        // Labels come back from the store's own table: ListJobs filters on them without decoding a job.
        let labelled = try client.unary(.listJobs, ListJobsRequest(labels: ["tier": "gold"]), as: ListJobsResponse.self)
        #expect(labelled.jobs.map(\.jobID) == [replay.job.jobID] && labelled.totalCount == 1)

        // A job nothing has read since the restart changes correctly: its stored
        // bytes are decoded, and its log and history read, on first use.
        let pendingID = replay.job.jobID
        let started = try client.unary(.updateJob, UpdateJobRequest(jobID: pendingID, status: .running, logLines: ["up"]),
                                       as: Job.self)
        #expect(started.revision == replay.job.revision + 1 && started.status == .running)
        #expect(started.frequenciesList == spec.frequenciesList && started.channelToStreamIndex == spec.channelToStreamIndex)
        let withLog = try client.unary(.getMetadata, GetMetadataRequest(jobID: pendingID, logTail: 5), as: Job.self)
        #expect(withLog.logTail == ["up"] && withLog.logLineCount == 1)
        // A finished job's history, never touched since the restart, is read from the store for a resume.
        let completed = try #require(before.values.first { $0.status == .completed })
        let history = try client.start(.watchJob, WatchJobRequest(jobID: completed.jobID, afterRevision: 1))
        guard case .success(let running) = try client.nextEvent(history),
              case .success(let done) = try client.nextEvent(history) else {
            Issue.record("no history after the restart")
            return
        }
        #expect(running.revision == 2 && running.job?.status == .running)
        #expect(done.revision == 3 && done.job?.status == .completed && done.job?.result == completed.result)
    }

    @Test("an expired job still answers EXPIRED after a restart")
    func tombstonesSurvive() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configure: (inout ServerConfiguration) -> Void = {
            $0.registry.retentionMs = 100
            $0.registry.expiredRetentionMs = 600_000
        }
        var jobID = ""
        var port = 0
        do {
            let server = try TestServer(store: try SQLiteJobStore(directory: directory), configure)
            port = server.port
            let client = try server.client()
            jobID = try client.unary(.configure, ConfigureRequest(job: Job(type: "t")), as: ConfigureResponse.self).job.jobID
            _ = try client.unary(.cancel, CancelRequest(jobID: jobID), as: Job.self)
            #expect(try eventually {
                try client.call(.getMetadata, GetMetadataRequest(jobID: jobID)).status.reason == Reason.expired
            })
            server.stop()
        }
        let server = try TestServer(store: try SQLiteJobStore(directory: directory), port: port, configure)
        let client = try server.client()
        #expect(try client.call(.getMetadata, GetMetadataRequest(jobID: jobID)).status.reason == Reason.expired)
    }

    @Test("a lease that ran out while the server was down gets a grace period, then LEASE_EXPIRED")
    func leaseGrace() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var jobID = ""
        var port = 0
        do {
            let server = try TestServer(store: try SQLiteJobStore(directory: directory))
            port = server.port
            let client = try server.client()
            jobID = try client.unary(.configure, ConfigureRequest(job: Job(type: "t"), leaseTTLMs: 100), as: ConfigureResponse.self).job.jobID
            server.stop()
        }
        usleep(300_000)  // the lease runs out while no server runs
        let server = try TestServer(store: try SQLiteJobStore(directory: directory), port: port) { $0.registry.leaseGraceMs = 500 }
        let client = try server.client()
        let restored = try client.unary(.getMetadata, GetMetadataRequest(jobID: jobID), as: Job.self)
        #expect(restored.status == .pending, "not failed at once")
        #expect(restored.leaseExpiresAtMs > WallClock.nowMs())
        #expect(try eventually {
            try client.unary(.getMetadata, GetMetadataRequest(jobID: jobID), as: Job.self).error?.reason == Reason.leaseExpired
        })
    }

    @Test("a stored job whose id is not a UUID refuses the start with DATA_LOSS, naming the id")
    func storedIDNotAUUID() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let server = try TestServer(store: try SQLiteJobStore(directory: directory))
            let client = try server.client()
            _ = try client.unary(.configure, ConfigureRequest(job: Job(type: "t")), as: ConfigureResponse.self)
            server.stop()
        }
        try SQLiteDatabase(path: directory + "/" + SQLiteJobStore.fileName).execute("UPDATE jobs SET job_id = 'job-7'")
        do {
            _ = try JobRegistry(configuration: RegistryConfiguration(), store: try SQLiteJobStore(directory: directory))
            Issue.record("a registry started over a job it cannot key")
        } catch {
            #expect(error.code == .dataLoss && error.reason == Reason.storeDamaged, "\(error)")
            #expect(error.message.contains("job-7"), "\(error.message)")
        }
    }

    @Test("concurrent writes share commits (group commit)")
    func groupCommit() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteJobStore(directory: directory)
        let server = try TestServer(store: store)
        let port = server.port
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            guard let client = try? TestClient(port: port), (try? client.hello()) != nil else { return }
            for _ in 0..<25 {
                // Pipelined: 4 creates in flight per connection.
                let ids = (0..<4).compactMap { _ in try? client.start(.configure, ConfigureRequest(job: Job(type: "g"))) }
                for id in ids { _ = try? client.collect(id) }
            }
        }
        #expect(server.server.registry.jobCount == 800)
        #expect(store.commits < 800, "800 acknowledged creates took \(store.commits) commits")
    }
}

/// Stores written by an older jobwired are migrated in place.
@Suite("Durable store migrations", .ownThread)
struct StoreMigrationTests {
    @Test("a version 1 store is migrated: summaries and labels filled in, jobs served, history resumable")
    func migratesVersion1() throws {
        let directory = DurableStoreTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A store exactly as jobwired with schema version 1 left it.
        var job = streamJob(labels: ["site": "haifa"], priority: 4)
        job.jobID = "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b"
        job.tenant = "default"
        job.status = .running
        job.createdAtMs = 1_700_000_000_000
        job.updatedAtMs = job.createdAtMs
        job.logLineCount = 2
        job.revision = 2
        var created = job
        created.status = .pending
        created.revision = 1
        created.logLineCount = 0
        do {
            let database = try SQLiteDatabase(path: directory + "/" + SQLiteJobStore.fileName)
            try database.execute("""
                CREATE TABLE jobs (sequence INTEGER PRIMARY KEY, job_id TEXT NOT NULL, job BLOB NOT NULL,
                    request_id TEXT NOT NULL, request_fingerprint INTEGER NOT NULL, lease_ttl_ms INTEGER NOT NULL);
                CREATE TABLE log_lines (sequence INTEGER NOT NULL, seq INTEGER NOT NULL, line TEXT NOT NULL,
                    PRIMARY KEY (sequence, seq)) WITHOUT ROWID;
                CREATE TABLE events (sequence INTEGER NOT NULL, revision INTEGER NOT NULL, event BLOB NOT NULL,
                    transition INTEGER NOT NULL, PRIMARY KEY (sequence, revision)) WITHOUT ROWID;
                CREATE TABLE tombstones (job_id TEXT PRIMARY KEY, tenant TEXT NOT NULL, forget_at_ms INTEGER NOT NULL)
                    WITHOUT ROWID;
                PRAGMA user_version = 1;
                """)
            try database.prepare("INSERT INTO jobs VALUES (7, ?1, ?2, 'req-1', 42, 0)")
                .bind(.text(job.jobID), .blob(job.encode())).run()
            for (seq, line) in ["one", "two"].enumerated() {
                try database.prepare("INSERT INTO log_lines VALUES (7, ?1, ?2)").bind(.integer(Int64(seq)), .text(line)).run()
            }
            for version in [created, job] {
                let event = WatchEvents.encode(type: .change, revision: version.revision, encodedJob: version.encode(), logLines: [])
                try database.prepare("INSERT INTO events VALUES (7, ?1, ?2, 1)")
                    .bind(.integer(Int64(version.revision)), .blob(event)).run()
            }
        }

        let server = try TestServer(store: try SQLiteJobStore(directory: directory))
        let client = try server.client()
        let version = try SQLiteDatabase(path: directory + "/" + SQLiteJobStore.fileName).integer("PRAGMA user_version")
        #expect(version == SQLiteJobStore.schemaVersion)
        let served = try client.unary(.getMetadata, GetMetadataRequest(jobID: job.jobID, logTail: 10), as: Job.self)
        var expected = job
        expected.logTail = ["one", "two"]
        #expect(served == expected)
        let listed = try client.unary(.listJobs, ListJobsRequest(statuses: [.running], labels: ["site": "haifa"]),
                                      as: ListJobsResponse.self)
        #expect(listed.jobs.map(\.jobID) == [job.jobID])
        let stream = try client.start(.watchJob, WatchJobRequest(jobID: job.jobID, afterRevision: 1))
        guard case .success(let event) = try client.nextEvent(stream) else {
            Issue.record("no event")
            return
        }
        #expect(event.revision == 2 && event.job?.status == .running)
        let next = try client.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, progress: 50), as: Job.self)
        #expect(next.revision == 3 && next.progress == 50 && next.logLineCount == 2)
        // New jobs continue the sequence after the migrated ones.
        let fresh = try client.unary(.configure, ConfigureRequest(job: Job(type: "t")), as: ConfigureResponse.self).job
        let page = try client.unary(.listJobs, ListJobsRequest(), as: ListJobsResponse.self)
        #expect(page.jobs.map(\.jobID) == [fresh.jobID, job.jobID])
    }
}
