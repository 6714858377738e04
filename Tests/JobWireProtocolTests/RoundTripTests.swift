import Dispatch
import JobWireSync
import JobWireProtocol
import JobWireTestSupport
import Testing

/// Every message type, filled with seeded random values, survives
/// encode -> decode unchanged and encodes deterministically.
@Suite("Random round trips of every message type", .ownThread)
struct RoundTripTests {
    static let casesPerType = 200

    /// Encodes, decodes and re-encodes `casesPerType` generated values.
    private func roundTrip<M: WireMessage>(_ type: M.Type, seed: UInt64,
                                           _ make: (inout MessageGenerator) -> M) throws {
        var generator = MessageGenerator(seed: seed)
        for index in 0..<Self.casesPerType {
            let original = make(&generator)
            let bytes = original.encode()
            let decoded = try M(decoding: bytes)
            #expect(decoded == original, "\(M.self) case \(index) (seed \(seed)) changed in a round trip")
            #expect(decoded.encode() == bytes, "\(M.self) case \(index) (seed \(seed)) encodes differently the second time")
            if decoded != original { return }
        }
    }

    @Test func job() throws { try roundTrip(Job.self, seed: 1) { $0.job() } }
    @Test func streamMetadata() throws { try roundTrip(StreamMetadata.self, seed: 2) { $0.streamMetadata() } }
    @Test func jobResult() throws { try roundTrip(JobResult.self, seed: 3) { $0.jobResult() } }
    @Test func jobError() throws { try roundTrip(JobError.self, seed: 4) { $0.jobError() } }
    @Test func status() throws { try roundTrip(Status.self, seed: 5) { $0.status() } }
    @Test func configureRequest() throws { try roundTrip(ConfigureRequest.self, seed: 6) { $0.configureRequest() } }
    @Test func configureResponse() throws { try roundTrip(ConfigureResponse.self, seed: 7) { $0.configureResponse() } }
    @Test func getMetadataRequest() throws { try roundTrip(GetMetadataRequest.self, seed: 8) { $0.getMetadataRequest() } }
    @Test func batchGetMetadataRequest() throws {
        try roundTrip(BatchGetMetadataRequest.self, seed: 9) { $0.batchGetMetadataRequest() }
    }
    @Test func batchGetResult() throws { try roundTrip(BatchGetResult.self, seed: 10) { $0.batchGetResult() } }
    @Test func batchGetMetadataResponse() throws {
        try roundTrip(BatchGetMetadataResponse.self, seed: 11) { $0.batchGetMetadataResponse() }
    }
    @Test func listJobsRequest() throws { try roundTrip(ListJobsRequest.self, seed: 12) { $0.listJobsRequest() } }
    @Test func listJobsResponse() throws { try roundTrip(ListJobsResponse.self, seed: 13) { $0.listJobsResponse() } }
    @Test func priorityRange() throws {
        try roundTrip(PriorityRange.self, seed: 14) { PriorityRange(min: $0.int32(), max: $0.int32()) }
    }
    @Test func watchJobRequest() throws { try roundTrip(WatchJobRequest.self, seed: 15) { $0.watchJobRequest() } }
    @Test func watchEvent() throws { try roundTrip(WatchEvent.self, seed: 16) { $0.watchEvent() } }
    @Test func cancelRequest() throws { try roundTrip(CancelRequest.self, seed: 17) { $0.cancelRequest() } }
    @Test func updateJobRequest() throws { try roundTrip(UpdateJobRequest.self, seed: 18) { $0.updateJobRequest() } }
    @Test func deleteJobRequest() throws {
        try roundTrip(DeleteJobRequest.self, seed: 19) { DeleteJobRequest(jobID: $0.jobID()) }
    }
    @Test func deleteJobResponse() throws {
        try roundTrip(DeleteJobResponse.self, seed: 20) { DeleteJobResponse(revision: $0.uint64()) }
    }
    @Test func healthRequest() throws { try roundTrip(HealthRequest.self, seed: 21) { _ in HealthRequest() } }
    @Test func healthResponse() throws { try roundTrip(HealthResponse.self, seed: 22) { $0.healthResponse() } }
    @Test func statsRequest() throws { try roundTrip(StatsRequest.self, seed: 23) { StatsRequest(tenant: $0.string()) } }
    @Test func statusCount() throws {
        try roundTrip(StatusCount.self, seed: 24) { StatusCount(status: $0.jobStatus(), count: $0.uint64()) }
    }
    @Test func statsResponse() throws { try roundTrip(StatsResponse.self, seed: 25) { $0.statsResponse() } }
    @Test func frame() throws { try roundTrip(Frame.self, seed: 26) { $0.frame() } }

    @Test("every enum value survives a round trip")
    func everyEnumValue() throws {
        for status in JobStatus.allCases {
            #expect(try Job(decoding: Job(status: status).encode()).status == status)
        }
        for code in StatusCode.allCases {
            #expect(try Status(decoding: Status(code: code).encode()).code == code)
        }
        for type in WatchEventType.allCases {
            #expect(try WatchEvent(decoding: WatchEvent(type: type, revision: 1).encode()).type == type)
        }
        for serving in ServingStatus.allCases {
            #expect(try HealthResponse(decoding: HealthResponse(status: serving).encode()).status == serving)
        }
    }

    @Test("presence of zero values in oneofs is kept")
    func oneofPresence() throws {
        let present = UpdateJobRequest(jobID: GoldenValues.jobID, progress: 0, currentTask: "", etaSeconds: 0)
        let absent = UpdateJobRequest(jobID: GoldenValues.jobID)
        #expect(try UpdateJobRequest(decoding: present.encode()) == present)
        #expect(try UpdateJobRequest(decoding: absent.encode()) == absent)
        #expect(present.encode() != absent.encode())
        #expect(try Job(decoding: Job(etaSeconds: 0).encode()).etaSeconds == 0)
        #expect(try Job(decoding: Job().encode()).etaSeconds == nil)
    }

    @Test("upper-case job ids are accepted and returned in canonical form")
    func jobIDCanonicalForm() throws {
        let upper = GoldenValues.jobID.uppercased()
        let decoded = try GetMetadataRequest(decoding: GetMetadataRequest(jobID: upper).encode())
        #expect(decoded.jobID == GoldenValues.jobID)
    }

    @Test("equal maps encode to equal bytes whatever their insertion order")
    func deterministicMaps() {
        var first = Job(labels: [:], channelToStreamIndex: [:])
        var second = first
        for key in 0..<50 as Range<UInt32> {
            first.channelToStreamIndex[key] = key * 2
            first.labels["k\(key)"] = "v"
        }
        for key in (0..<50 as Range<UInt32>).reversed() {
            second.channelToStreamIndex[key] = key * 2
            second.labels["k\(key)"] = "v"
        }
        #expect(first.encode() == second.encode())
    }

    @Test("encoders and decoders reusing their thread's arena block: large and small messages alternate, on 3 threads at once")
    func arenaReuse() throws {
        // 2,100 frequencies need a 17 KB block: past the reused 16 KiB one.
        let large = Job(jobID: GoldenValues.jobID, type: "t", frequenciesList: (0..<2_100).map(Double.init))
        let failures = Locked(0)
        DispatchQueue.concurrentPerform(iterations: 3) { thread in
            var generator = MessageGenerator(seed: 100 + UInt64(thread))
            for index in 0..<40 {
                let job = index % 3 == 0 ? large : generator.job()
                let request = ConfigureRequest(requestID: "r\(thread)-\(index)", job: job)
                guard let decoded = try? ConfigureRequest(decoding: request.encode()), decoded == request,
                      let decodedJob = try? Job(decoding: job.encode()), decodedJob == job else {
                    failures.withLock { $0 += 1 }
                    continue
                }
            }
        }
        #expect(failures.withLock { $0 } == 0, "round trips that came back different")
    }
}
