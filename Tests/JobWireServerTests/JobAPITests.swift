import Foundation
import JobWireProtocol
import JobWireTestSupport
import Testing

/// Every unary RPC end to end over loopback, with its documented errors.
@Suite("Job API over loopback", .ownThread)
struct JobAPITests {
    @Test("Configure returns every field, exactly as GetMetadata does")
    func configureThenGet() throws {
        let server = try TestServer()
        let client = try server.client()
        let spec = streamJob(labels: ["site": "haifa"], priority: 3)
        let created = try client.unary(.configure, ConfigureRequest(job: spec), as: ConfigureResponse.self)
        #expect(created.created)
        let job = created.job
        #expect(JobID.isValid(job.jobID))
        #expect(job.tenant == "default")
        #expect(job.status == .pending)
        #expect(job.revision == 1)
        #expect(job.createdAtMs > 0 && job.createdAtMs == job.updatedAtMs)
        #expect(job.type == spec.type && job.labels == spec.labels && job.priority == 3)
        #expect(job.frequenciesList == spec.frequenciesList && job.channelToStreamIndex == spec.channelToStreamIndex)
        #expect(job.metadata == spec.metadata && job.viewType == 1 && job.linesDt == 0.5)
        #expect(job.streamAmount == 2 && job.frequenciesAmount == 3 && job.channelAmount == 2)

        let fetched = try client.unary(.getMetadata, GetMetadataRequest(jobID: job.jobID), as: Job.self)
        #expect(fetched == job)
        let upper = try client.unary(.getMetadata, GetMetadataRequest(jobID: job.jobID.uppercased()), as: Job.self)
        #expect(upper == job)
    }

    @Test("GetMetadata errors: unknown id, malformed id")
    func getMetadataErrors() throws {
        let server = try TestServer()
        let client = try server.client()
        let unknown = try client.call(.getMetadata, GetMetadataRequest(jobID: "00000000-0000-4000-8000-000000000000"))
        #expect(unknown.status.code == .notFound && unknown.status.reason == Reason.jobNotFound)
        #expect(unknown.replies.isEmpty)

        // A malformed id cannot even be encoded by our request type's decoder, so send raw bytes.
        var raw: [UInt8] = [0x0A, 5]
        raw += Array("12345".utf8)
        let id = client.nextStreamID
        try client.send(.call(Call(streamID: id, method: Method.getMetadata.rawValue, request: raw)))
        let malformed = try client.collect(id)
        #expect(malformed.status.code == .invalidArgument && malformed.status.reason == Reason.invalidJobID)
    }

    @Test("log_tail returns the last N lines; log_line_count counts them all")
    func logTail() throws {
        let server = try TestServer()
        let client = try server.client()
        let job = try client.unary(.configure, ConfigureRequest(job: streamJob()), as: ConfigureResponse.self).job
        let lines = (1...30).map { "line \($0)" }
        _ = try client.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, status: .running, logLines: Array(lines[0..<10])),
                             as: Job.self)
        _ = try client.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, logLines: Array(lines[10...])), as: Job.self)
        let tail = try client.unary(.getMetadata, GetMetadataRequest(jobID: job.jobID, logTail: 5), as: Job.self)
        #expect(tail.logTail == Array(lines.suffix(5)))
        #expect(tail.logLineCount == 30)
        let none = try client.unary(.getMetadata, GetMetadataRequest(jobID: job.jobID), as: Job.self)
        #expect(none.logTail.isEmpty)
        let all = try client.unary(.getMetadata, GetMetadataRequest(jobID: job.jobID, logTail: 1000), as: Job.self)
        #expect(all.logTail == lines)
    }

    @Test("request_id makes Configure idempotent; reuse with another job is REQUEST_ID_REUSED")
    func idempotency() throws {
        let server = try TestServer()
        let client = try server.client()
        let request = ConfigureRequest(requestID: "req-1", job: streamJob())
        let first = try client.unary(.configure, request, as: ConfigureResponse.self)
        let again = try client.unary(.configure, request, as: ConfigureResponse.self)
        #expect(first.created && !again.created)
        #expect(again.job == first.job)
        let other = try client.call(.configure, ConfigureRequest(requestID: "req-1", job: streamJob(type: "other")))
        #expect(other.status.code == .alreadyExists && other.status.reason == Reason.requestIDReused)
        let fresh = try client.unary(.configure, ConfigureRequest(requestID: "req-2", job: streamJob()), as: ConfigureResponse.self)
        #expect(fresh.created && fresh.job.jobID != first.job.jobID)
    }

    @Test("stream ports come from the pool, run out, and return when the job ends")
    func streamPortPool() throws {
        let server = try TestServer { $0.registry.streamPorts = 50_000...50_001; $0.registry.streamHost = "10.1.2.3" }
        let client = try server.client()
        let first = try client.unary(.configure, ConfigureRequest(job: streamJob()), as: ConfigureResponse.self).job
        let second = try client.unary(.configure, ConfigureRequest(job: streamJob()), as: ConfigureResponse.self).job
        #expect(Set([first.streamPort, second.streamPort]) == [50_000, 50_001])
        #expect(first.streamURL == "10.1.2.3")
        let exhausted = try client.call(.configure, ConfigureRequest(job: streamJob()))
        #expect(exhausted.status.code == .resourceExhausted && exhausted.status.reason == Reason.noStreamPort)

        var explicit = streamJob()
        explicit.streamPort = first.streamPort
        let taken = try client.call(.configure, ConfigureRequest(job: explicit))
        #expect(taken.status.code == .alreadyExists && taken.status.reason == Reason.streamPortInUse)

        _ = try client.unary(.cancel, CancelRequest(jobID: first.jobID), as: Job.self)
        let third = try client.unary(.configure, ConfigureRequest(job: streamJob()), as: ConfigureResponse.self).job
        #expect(third.streamPort == first.streamPort)
        _ = try client.unary(.deleteJob, DeleteJobRequest(jobID: second.jobID), as: DeleteJobResponse.self)
        let fourth = try client.unary(.configure, ConfigureRequest(job: streamJob()), as: ConfigureResponse.self).job
        #expect(fourth.streamPort == second.streamPort)

        var outside = streamJob()
        outside.streamPort = 6000
        outside.streamURL = "stream.example"
        let kept = try client.unary(.configure, ConfigureRequest(job: outside), as: ConfigureResponse.self).job
        #expect(kept.streamPort == 6000 && kept.streamURL == "stream.example")
    }

    @Test("BatchGetMetadata answers each id in order, with per-id errors")
    func batchGet() throws {
        let server = try TestServer()
        let client = try server.client()
        let job = try client.unary(.configure, ConfigureRequest(job: streamJob()), as: ConfigureResponse.self).job
        let unknown = "00000000-0000-4000-8000-000000000001"
        let response = try client.unary(.batchGetMetadata,
                                        BatchGetMetadataRequest(jobIDs: [unknown, job.jobID, "bad", job.jobID]),
                                        as: BatchGetMetadataResponse.self)
        #expect(response.results.map(\.jobID) == [unknown, job.jobID, "bad", job.jobID])
        guard response.results.count == 4 else { return }
        if case .error(let status) = response.results[0].outcome {
            #expect(status.code == .notFound && status.reason == Reason.jobNotFound)
        } else { Issue.record("unknown id should fail") }
        #expect(response.results[1].outcome == .job(job))
        if case .error(let status) = response.results[2].outcome {
            #expect(status.code == .invalidArgument && status.reason == Reason.invalidJobID)
        } else { Issue.record("malformed id should fail") }
        #expect(response.results[3].outcome == .job(job))
    }

    @Test("UpdateJob applies present fields and checks the lifecycle")
    func updateJob() throws {
        let server = try TestServer()
        let client = try server.client()
        let job = try client.unary(.configure, ConfigureRequest(job: streamJob()), as: ConfigureResponse.self).job
        let running = try client.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, status: .running, progress: 10,
                                                                    currentTask: "warming up", etaSeconds: 60),
                                       as: Job.self)
        #expect(running.status == .running && running.progress == 10 && running.currentTask == "warming up")
        #expect(running.etaSeconds == 60 && running.revision == 2)
        let zeroed = try client.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, progress: 0, currentTask: "", etaSeconds: -1),
                                      as: Job.self)
        #expect(zeroed.progress == 0 && zeroed.currentTask == "" && zeroed.etaSeconds == nil && zeroed.status == .running)

        let stale = try client.call(.updateJob, UpdateJobRequest(jobID: job.jobID, progress: 5, expectedRevision: 2))
        #expect(stale.status.code == .aborted && stale.status.reason == Reason.revisionMismatch)
        let backwards = try client.call(.updateJob, UpdateJobRequest(jobID: job.jobID, status: .pending))
        #expect(backwards.status.code == .failedPrecondition && backwards.status.reason == Reason.illegalTransition)
        let cancelling = try client.call(.updateJob, UpdateJobRequest(jobID: job.jobID, status: .cancelling))
        #expect(cancelling.status.reason == Reason.illegalTransition)
        let resultWithoutCompletion = try client.call(.updateJob, UpdateJobRequest(jobID: job.jobID, result: JobResult(contentType: "a/b")))
        #expect(resultWithoutCompletion.status.code == .invalidArgument && resultWithoutCompletion.status.reason == Reason.fieldNotAllowed)
        let errorWithoutFailure = try client.call(.updateJob, UpdateJobRequest(jobID: job.jobID, status: .completed,
                                                                              error: JobError(message: "x")))
        #expect(errorWithoutFailure.status.reason == Reason.fieldNotAllowed)

        let result = JobResult(contentType: "application/json", data: Array(#"{"frames":42}"#.utf8))
        let done = try client.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, status: .completed, progress: 100, result: result),
                                    as: Job.self)
        #expect(done.status == .completed && done.result == result)
        #expect(done.completedAtMs > 0 && done.expiresAtMs > done.completedAtMs)
        let afterEnd = try client.call(.updateJob, UpdateJobRequest(jobID: job.jobID, progress: 1))
        #expect(afterEnd.status.code == .failedPrecondition && afterEnd.status.reason == Reason.jobTerminal)
    }

    @Test("PENDING may not complete without running; FAILED carries its error")
    func failure() throws {
        let server = try TestServer()
        let client = try server.client()
        let job = try client.unary(.configure, ConfigureRequest(job: streamJob()), as: ConfigureResponse.self).job
        let skip = try client.call(.updateJob, UpdateJobRequest(jobID: job.jobID, status: .completed))
        #expect(skip.status.reason == Reason.illegalTransition)
        let error = JobError(message: "disk full", failedTask: "encode", retryCount: 2, reason: "DISK_FULL")
        let failed = try client.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, status: .failed, error: error), as: Job.self)
        #expect(failed.status == .failed && failed.error == error)
    }

    @Test("Cancel without a worker lease cancels at once; a terminal job comes back unchanged")
    func cancelWithoutLease() throws {
        let server = try TestServer()
        let client = try server.client()
        let job = try client.unary(.configure, ConfigureRequest(job: streamJob()), as: ConfigureResponse.self).job
        let cancelled = try client.unary(.cancel, CancelRequest(jobID: job.jobID, reason: "user closed the tab"), as: Job.self)
        #expect(cancelled.status == .cancelled && cancelled.cancelReason == "user closed the tab")
        let again = try client.unary(.cancel, CancelRequest(jobID: job.jobID, reason: "again"), as: Job.self)
        #expect(again == cancelled)
        let unknown = try client.call(.cancel, CancelRequest(jobID: "00000000-0000-4000-8000-000000000009"))
        #expect(unknown.status.reason == Reason.jobNotFound)
    }

    @Test("DeleteJob forgets the job")
    func delete() throws {
        let server = try TestServer()
        let client = try server.client()
        let job = try client.unary(.configure, ConfigureRequest(job: streamJob()), as: ConfigureResponse.self).job
        let deleted = try client.unary(.deleteJob, DeleteJobRequest(jobID: job.jobID), as: DeleteJobResponse.self)
        #expect(deleted.revision == 1)
        #expect(try client.call(.getMetadata, GetMetadataRequest(jobID: job.jobID)).status.reason == Reason.jobNotFound)
        #expect(try client.call(.deleteJob, DeleteJobRequest(jobID: job.jobID)).status.reason == Reason.jobNotFound)
    }

    @Test("Health and Stats")
    func healthAndStats() throws {
        let server = try TestServer()
        let client = try server.client()
        let health = try client.unary(.health, HealthRequest(), as: HealthResponse.self)
        #expect(health.status == .serving && health.store == "memory" && health.storeState == "ok")
        #expect(!health.serverVersion.isEmpty)
        let job = try client.unary(.configure, ConfigureRequest(job: streamJob()), as: ConfigureResponse.self).job
        _ = try client.unary(.configure, ConfigureRequest(job: streamJob()), as: ConfigureResponse.self)
        _ = try client.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, status: .running), as: Job.self)
        for _ in 0..<5 { _ = try client.unary(.getMetadata, GetMetadataRequest(jobID: job.jobID), as: Job.self) }
        _ = try client.call(.getMetadata, GetMetadataRequest(jobID: "00000000-0000-4000-8000-000000000000"))
        let stats = try client.unary(.stats, StatsRequest(), as: StatsResponse.self)
        #expect(stats.jobs == [StatusCount(status: .pending, count: 1), StatusCount(status: .running, count: 1)])
        #expect(stats.connections == 1)
        let get = stats.methods.first { $0.method == Method.getMetadata.rawValue }
        #expect(get?.calls == 6 && get?.errors == 1)
        #expect((get?.p50Us ?? 0) <= (get?.p999Us ?? 0))
        #expect(stats.methods.first { $0.method == Method.configure.rawValue }?.calls == 2)
    }
}
