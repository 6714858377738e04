import Foundation
import JobWireProtocol
import JobWireTestSupport
@testable import JobWireServer
import Testing

/// ListJobs' search and orders, Stats' figures, Usage and detailed Health,
/// end to end over loopback.
@Suite("Search, order, statistics, usage and health", .ownThread)
struct ListSearchAndStatsTests {
    /// Every page of `request`, in order.
    private func pages(_ client: TestClient, _ request: ListJobsRequest) throws -> (jobs: [Job], totals: Set<UInt64>) {
        var request = request
        var jobs: [Job] = []
        var totals: Set<UInt64> = []
        repeat {
            let page = try client.unary(.listJobs, request, as: ListJobsResponse.self)
            jobs += page.jobs
            totals.insert(page.totalCount)
            request.pageToken = page.nextPageToken
        } while !request.pageToken.isEmpty
        return (jobs, totals)
    }

    @Test("each order, both ways, pages through exactly the matching jobs once, in order; the query searches type, task, labels and id prefix")
    func ordersAndSearch() throws {
        let server = try TestServer()
        let client = try server.client()
        var made: [Job] = []
        for index in 0..<40 {
            let site = ["Haifa", "Eilat", "haifa-north", "Acre"][index % 4]
            let spec = Job(type: index % 3 == 0 ? "transcode" : "das_stream", labels: ["site": site],
                           priority: Int32(index % 5) - 2)
            var job = try client.unary(.configure, ConfigureRequest(job: spec), as: ConfigureResponse.self).job
            if index % 2 == 0 {
                job = try client.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, status: .running,
                                                                    currentTask: index % 4 == 0 ? "Encoding pass" : "upload"),
                                       as: Job.self)
            }
            made.append(job)
        }
        // Touch some older jobs so the order by last change differs from creation order.
        for job in made.prefix(10) where job.status == .running {
            let touched = try client.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, progress: 50), as: Job.self)
            made[made.firstIndex { $0.jobID == job.jobID } ?? 0] = touched
        }
        let current = try Dictionary(uniqueKeysWithValues: made.map { job in
            (job.jobID, try client.unary(.getMetadata, GetMetadataRequest(jobID: job.jobID), as: Job.self))
        })
        let creation = made.map(\.jobID)

        func expected(_ matching: (Job) -> Bool, _ order: JobOrder, ascending: Bool) -> [String] {
            let jobs = creation.compactMap { current[$0] }.filter(matching)
            let position = Dictionary(uniqueKeysWithValues: creation.enumerated().map { ($1, $0) })
            let sorted = jobs.sorted { lhs, rhs in
                let keys: (Int64, Int64) = switch order {
                case .created: (0, 0)
                case .updated: (lhs.updatedAtMs, rhs.updatedAtMs)
                case .priority: (Int64(lhs.priority), Int64(rhs.priority))
                }
                if keys.0 != keys.1 { return ascending ? keys.0 < keys.1 : keys.0 > keys.1 }
                let (left, right) = (position[lhs.jobID] ?? 0, position[rhs.jobID] ?? 0)
                return ascending ? left < right : left > right
            }
            return sorted.map(\.jobID)
        }

        for order in JobOrder.allCases {
            for ascending in [false, true] {
                let all = try pages(client, ListJobsRequest(pageSize: 7, orderBy: order, ascending: ascending))
                #expect(all.jobs.map(\.jobID) == expected({ _ in true }, order, ascending: ascending), "\(order) asc=\(ascending)")
                #expect(all.totals == [40])
                let running = try pages(client, ListJobsRequest(statuses: [.running], pageSize: 3, query: "HAIFA",
                                                                orderBy: order, ascending: ascending))
                let matching: (Job) -> Bool = { $0.status == .running && $0.labels["site"]?.lowercased().contains("haifa") == true }
                #expect(running.jobs.map(\.jobID) == expected(matching, order, ascending: ascending))
                #expect(running.totals == [UInt64(running.jobs.count)] && !running.jobs.isEmpty)
            }
        }

        // The query: type, current task, label value (not key), id prefix; ASCII case ignored.
        let count = { (query: String) throws -> UInt64 in
            try client.unary(.listJobs, ListJobsRequest(query: query), as: ListJobsResponse.self).totalCount
        }
        #expect(try count("TRANSCODE") == UInt64(made.filter { $0.type == "transcode" }.count))
        #expect(try count("encoding p") == 10)
        #expect(try count("eilat") == 10)
        #expect(try count("site") == 0, "label keys are not searched")
        let id = made[7].jobID
        #expect(try client.unary(.listJobs, ListJobsRequest(query: String(id.prefix(13)).uppercased()),
                                 as: ListJobsResponse.self).jobs.map(\.jobID) == [id])
        #expect(try count(String(id.dropFirst(1).prefix(12))) == 0, "an id matches by its start only")

        // A token is tied to its order; an over-long query is refused.
        let first = try client.unary(.listJobs, ListJobsRequest(pageSize: 5, orderBy: .priority), as: ListJobsResponse.self)
        let mixed = try client.call(.listJobs, ListJobsRequest(pageSize: 5, pageToken: first.nextPageToken, orderBy: .updated))
        #expect(mixed.status.code == .invalidArgument && mixed.status.reason == Reason.invalidPageToken)
        let long = try client.call(.listJobs, ListJobsRequest(query: String(repeating: "x", count: Limits.maxQueryBytes + 1)))
        #expect(long.status.code == .invalidArgument && long.status.reason == Reason.fieldTooLong)
    }

    @Test("Stats counts the tenant's jobs created in a range: by status, success rate, average run time")
    func statistics() throws {
        let server = try TestServer()
        let client = try server.client()
        func make(_ status: JobStatus) throws -> Job {
            let job = try client.unary(.configure, ConfigureRequest(job: Job(type: "t")), as: ConfigureResponse.self).job
            guard status != .pending else { return job }
            let running = try client.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, status: .running), as: Job.self)
            guard status != .running else { return running }
            return try client.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, status: status), as: Job.self)
        }
        let early = try [make(.completed), make(.failed)]
        Thread.sleep(forTimeInterval: 0.01)
        let boundary = WallClock.nowMs()
        Thread.sleep(forTimeInterval: 0.01)
        let late = try [make(.completed), make(.completed), make(.cancelled), make(.running), make(.pending)]

        let all = try client.unary(.stats, StatsRequest(), as: StatsResponse.self)
        #expect(all.totalJobs == 7)
        #expect(all.jobs == [StatusCount(status: .pending, count: 1), StatusCount(status: .running, count: 1),
                             StatusCount(status: .completed, count: 3), StatusCount(status: .failed, count: 1),
                             StatusCount(status: .cancelled, count: 1)])
        #expect(all.successRate == 3.0 / 5.0)
        let completed = (early + late).filter { $0.status == .completed }
        let mean = Double(completed.map { $0.completedAtMs - $0.createdAtMs }.reduce(0, +)) / Double(completed.count)
        #expect(all.averageRunTimeMs == mean)

        let recent = try client.unary(.stats, StatsRequest(createdAfterMs: boundary), as: StatsResponse.self)
        #expect(recent.totalJobs == 5 && recent.successRate == 2.0 / 3.0)
        let older = try client.unary(.stats, StatsRequest(createdBeforeMs: boundary), as: StatsResponse.self)
        #expect(older.totalJobs == 2 && older.successRate == 0.5)
        let empty = try client.unary(.stats, StatsRequest(createdAfterMs: boundary + 3_600_000), as: StatsResponse.self)
        #expect(empty.totalJobs == 0 && empty.jobs.isEmpty && empty.successRate == 0 && empty.averageRunTimeMs == 0)
        let backwards = try client.call(.stats, StatsRequest(createdAfterMs: boundary, createdBeforeMs: boundary))
        #expect(backwards.status.code == .invalidArgument && backwards.status.reason == Reason.valueOutOfRange)
    }

    @Test("Usage lists the key's calls by method, errors by code, bytes and last use")
    func usage() throws {
        let server = try TestServer()
        let client = try server.client()
        _ = try client.unary(.configure, ConfigureRequest(job: Job(type: "t")), as: ConfigureResponse.self)
        let missing = try client.call(.getMetadata, GetMetadataRequest(jobID: "00000000-0000-4000-8000-000000000000"))
        #expect(missing.status.code == .notFound)
        let usage = try client.unary(.usage, UsageRequest(), as: UsageResponse.self)
        #expect(usage.tenant == "default" && usage.keys.count == 1)
        let key = try #require(usage.keys.first)
        #expect(key.keyID == "development" && key.role == "admin")
        #expect(key.methods.first { $0.method == Method.configure.rawValue } == MethodUsage(method: Method.configure.rawValue, calls: 1))
        #expect(key.methods.first { $0.method == Method.getMetadata.rawValue }
                == MethodUsage(method: Method.getMetadata.rawValue, calls: 1, errors: [CodeCount(code: .notFound, count: 1)]))
        #expect(key.bytesIn > 0 && key.bytesOut > 0 && key.lastUsedAtMs > 0 && key.rateLimited == 0)
    }

    @Test("detailed Health reports the store, the disk under it and the event loops")
    func detailedHealth() throws {
        let directory = DurableStoreTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try TestServer(store: try SQLiteJobStore(directory: directory))
        let client = try server.client()
        _ = try client.unary(.configure, ConfigureRequest(job: Job(type: "t")), as: ConfigureResponse.self)
        let plain = try client.unary(.health, HealthRequest(), as: HealthResponse.self)
        #expect(plain.status == .serving && plain.components.isEmpty)
        // The loops' probe has ticked at least once within a second.
        Thread.sleep(forTimeInterval: 0.6)
        let health = try client.unary(.health, HealthRequest(detailed: true), as: HealthResponse.self)
        #expect(health.status == .serving)
        #expect(health.components.map(\.name) == ["store", "disk", "event_loops"])
        let store = try #require(health.components.first)
        #expect(store.state == .ok && (store.measures["commits"] ?? 0) >= 1 && (store.measures["last_commit_us"] ?? 0) > 0)
        let disk = health.components[1]
        #expect(disk.message == directory && (disk.measures["total_bytes"] ?? 0) > 0)
        #expect(disk.measures["free_ratio"].map { $0 > 0 && $0 <= 1 } == true)
        let loops = health.components[2]
        #expect(loops.measures["loops"] == Double(server.server.configuration.eventLoopCount))
        #expect(loops.measures["max_lag_us"] != nil)
    }

    @Test("a stopped store makes Health NOT_SERVING, with the store component FAILING and why")
    func stoppedStore() throws {
        let directory = DurableStoreTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteJobStore(directory: directory)
        let service = JobService(registry: try JobRegistry(configuration: RegistryConfiguration(), store: store), store: store,
                                 security: SecurityConfiguration())
        let caller = try service.admit(.development, to: .health, tenant: "")
        #expect(service.health(HealthRequest(), caller: caller).status == .serving)
        // Make the next commit fail: the store stops for good.
        try SQLiteDatabase(path: directory + "/" + SQLiteJobStore.fileName).execute("DROP TABLE jobs")
        let failed = DispatchSemaphore(value: 0)
        try service.configure(ConfigureRequest(job: Job(type: "t")), caller: try service.admit(.development, to: .configure, tenant: "")) { _ in
            failed.signal()
        }
        failed.wait()
        let health = service.health(HealthRequest(detailed: true), caller: caller)
        #expect(health.status == .notServing)
        #expect(health.components.first?.state == .failing && health.components.first?.message.isEmpty == false)
        #expect(service.health(HealthRequest(), caller: caller).status == .notServing)
    }
}
