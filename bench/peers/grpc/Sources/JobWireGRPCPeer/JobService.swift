import GRPCCore

/// `jobwire.v1.JobService` over gRPC: what the benchmark calls (GetMetadata,
/// WatchJob, and UpdateJob to drive watches), plus Configure and Health.
/// The other methods answer UNIMPLEMENTED.
struct JobServicePeer: Jobwire_V1_JobService.SimpleServiceProtocol {
    let store: JobStore

    func getMetadata(request: Jobwire_V1_GetMetadataRequest, context: ServerContext) async throws -> Jobwire_V1_Job {
        try store.get(request.jobID, logTail: request.logTail)
    }

    func watchJob(request: Jobwire_V1_WatchJobRequest, response: RPCWriter<Jobwire_V1_WatchEvent>,
                  context: ServerContext) async throws {
        let (first, changes) = try store.watch(request)
        if let first {
            try await response.write(first)
            if JobStore.isTerminal(first.job.status) { return }
        }
        // Ends when the job reaches a terminal status, the caller goes away
        // (the task is cancelled) or the server shuts down.
        for await event in changes {
            try await response.write(event)
            if JobStore.isTerminal(event.job.status) { return }
        }
    }

    func updateJob(request: Jobwire_V1_UpdateJobRequest, context: ServerContext) async throws -> Jobwire_V1_Job {
        try store.update(request)
    }

    func configure(request: Jobwire_V1_ConfigureRequest, context: ServerContext) async throws -> Jobwire_V1_ConfigureResponse {
        var response = Jobwire_V1_ConfigureResponse()
        response.job = store.configure(request)
        response.created = true
        return response
    }

    func health(request: Jobwire_V1_HealthRequest, context: ServerContext) async throws -> Jobwire_V1_HealthResponse {
        var response = Jobwire_V1_HealthResponse()
        response.status = .serving
        response.store = "memory"
        response.storeState = "ok"
        response.serverVersion = "jobwire-grpc-peer"
        return response
    }

    func batchGetMetadata(request: Jobwire_V1_BatchGetMetadataRequest, context: ServerContext) async throws -> Jobwire_V1_BatchGetMetadataResponse {
        throw Self.unimplemented("BatchGetMetadata")
    }

    func listJobs(request: Jobwire_V1_ListJobsRequest, context: ServerContext) async throws -> Jobwire_V1_ListJobsResponse {
        throw Self.unimplemented("ListJobs")
    }

    func cancel(request: Jobwire_V1_CancelRequest, context: ServerContext) async throws -> Jobwire_V1_Job {
        throw Self.unimplemented("Cancel")
    }

    func deleteJob(request: Jobwire_V1_DeleteJobRequest, context: ServerContext) async throws -> Jobwire_V1_DeleteJobResponse {
        throw Self.unimplemented("DeleteJob")
    }

    func stats(request: Jobwire_V1_StatsRequest, context: ServerContext) async throws -> Jobwire_V1_StatsResponse {
        throw Self.unimplemented("Stats")
    }

    private static func unimplemented(_ method: String) -> RPCError {
        RPCError(code: .unimplemented, message: "the gRPC peer does not implement \(method)")
    }
}
