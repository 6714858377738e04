import JobWireProtocol

/// Fills every field of every message with seeded random values that pass
/// validation: empty and non-ASCII strings, extreme numbers, every enum
/// value, and now and then repeated fields at their documented maximum.
struct MessageGenerator {
    var random: SeededRandom

    init(seed: UInt64) {
        random = SeededRandom(seed: seed)
    }

    // MARK: Scalars

    mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &random) < percent }

    mutating func int32() -> Int32 {
        chance(20) ? [Int32.min, -1, 0, 1, Int32.max].randomElement(using: &random) ?? 0 : Int32.random(in: .min ... .max, using: &random)
    }

    mutating func uint32(max: UInt32 = .max) -> UInt32 {
        chance(20) ? [0, 1, max].randomElement(using: &random) ?? 0 : UInt32.random(in: 0...max, using: &random)
    }

    mutating func uint64() -> UInt64 {
        chance(20) ? [0, 1, .max].randomElement(using: &random) ?? 0 : UInt64.random(in: 0 ... .max, using: &random)
    }

    mutating func int64() -> Int64 {
        chance(20) ? [.min, -1, 0, 1, .max].randomElement(using: &random) ?? 0 : Int64.random(in: .min ... .max, using: &random)
    }

    /// Any finite double, including signed zero, tiny and huge magnitudes.
    mutating func double() -> Double {
        switch Int.random(in: 0..<6, using: &random) {
        case 0: return 0
        case 1: return [-0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .infinity,
                        -.infinity].randomElement(using: &random) ?? 0
        default: return Double.random(in: -1e9...1e9, using: &random)
        }
    }

    mutating func finiteDouble() -> Double {
        var value = double()
        while !value.isFinite { value = double() }
        return value
    }

    mutating func bool() -> Bool { Bool.random(using: &random) }

    private static let alphabet: [String] = [
        "a", "Z", "0", " ", "-", "_", "/", ":", "\u{e9}", "\u{3c3}", "\u{2713}", "\u{4e2d}", "\u{1F680}", "\u{5d0}",
        "\\", "\"", "\u{7f}", "\t",
    ]

    /// Empty about a fifth of the time; otherwise ASCII mixed with 2-, 3- and 4-byte UTF-8.
    mutating func string(maxBytes: Int = 40) -> String {
        if chance(20) { return "" }
        var result = ""
        let target = Int.random(in: 1...max(1, maxBytes), using: &random)
        while true {
            let next = Self.alphabet.randomElement(using: &random) ?? "a"
            if result.utf8.count + next.utf8.count > target { break }
            result += next
        }
        return result.isEmpty ? "a" : result
    }

    mutating func bytes(max: Int = 64) -> [UInt8] {
        (0..<Int.random(in: 0...max, using: &random)).map { _ in UInt8.random(in: 0 ... .max, using: &random) }
    }

    mutating func jobID() -> String {
        let hex = Array("0123456789abcdef")
        return String((0..<36).map { index in
            [8, 13, 18, 23].contains(index) ? "-" : hex[Int.random(in: 0..<16, using: &random)]
        })
    }

    mutating func strings(maxCount: Int, maxBytes: Int = 40, atLimit: Bool = false) -> [String] {
        let count = atLimit ? maxCount : Int.random(in: 0...min(maxCount, 8), using: &random)
        return (0..<count).map { index in atLimit ? "l\(index)" : string(maxBytes: maxBytes) }
    }

    mutating func labels() -> [String: String] {
        let count = chance(3) ? Limits.maxLabels : Int.random(in: 0...4, using: &random)
        var labels: [String: String] = [:]
        while labels.count < count {
            var key = string(maxBytes: Limits.maxLabelKeyBytes)
            if key.isEmpty { key = "k\(labels.count)" }
            labels[key] = string(maxBytes: Limits.maxLabelValueBytes)
        }
        return labels
    }

    mutating func jobStatus() -> JobStatus { JobStatus.allCases.randomElement(using: &random) ?? .pending }

    // MARK: Messages

    mutating func job(large: Bool? = nil) -> Job {
        let large = large ?? chance(2)
        let frequencies = large ? Limits.maxFrequencies : Int.random(in: 0...20, using: &random)
        let channels = large ? Limits.maxChannelMapEntries : Int.random(in: 0...10, using: &random)
        var channelMap: [UInt32: UInt32] = [:]
        while channelMap.count < channels {
            channelMap[uint32()] = uint32()
        }
        return Job(
            jobID: chance(10) ? "" : jobID(), tenant: string(), type: string(), labels: labels(), priority: int32(),
            streamURL: string(), streamPort: uint32(max: UInt32(UInt16.max)), viewType: int32(),
            frequenciesList: (0..<frequencies).map { _ in double() }, linesDt: double(),
            channelToStreamIndex: channelMap, streamAmount: uint32(), frequenciesAmount: uint32(),
            channelAmount: uint32(), metadata: chance(70) ? streamMetadata() : nil, status: jobStatus(),
            progress: double(), currentTask: string(), etaSeconds: chance(50) ? double() : nil, createdAtMs: int64(),
            updatedAtMs: int64(), completedAtMs: int64(), expiresAtMs: int64(), leaseExpiresAtMs: int64(),
            result: chance(30) ? jobResult() : nil, error: chance(30) ? jobError() : nil,
            cancelReason: string(maxBytes: Limits.maxCancelReasonBytes),
            logTail: strings(maxCount: Limits.maxLogTail, maxBytes: 200, atLimit: large),
            logLineCount: uint64(), revision: uint64())
    }

    mutating func streamMetadata() -> StreamMetadata {
        StreamMetadata(dx: double(), prr: double(), fiberStartMeters: double(), fiberLengthMeters: double(),
                       swVersion: string())
    }

    mutating func jobResult() -> JobResult { JobResult(contentType: string(), data: bytes(max: 512)) }

    mutating func jobError() -> JobError {
        JobError(message: string(maxBytes: 300), failedTask: string(), retryCount: uint32(), reason: string())
    }

    mutating func status() -> Status {
        Status(code: StatusCode.allCases.randomElement(using: &random) ?? .ok, reason: string(),
               message: string(maxBytes: 300), retryAfterMs: uint32())
    }

    mutating func configureRequest() -> ConfigureRequest {
        ConfigureRequest(requestID: string(maxBytes: Limits.maxRequestIDBytes), job: job(), leaseTTLMs: uint32())
    }

    mutating func configureResponse() -> ConfigureResponse { ConfigureResponse(job: job(), created: bool()) }

    mutating func getMetadataRequest() -> GetMetadataRequest {
        GetMetadataRequest(jobID: jobID(), logTail: uint32(max: UInt32(Limits.maxLogTail)))
    }

    mutating func batchGetMetadataRequest() -> BatchGetMetadataRequest {
        let count = chance(5) ? Limits.maxBatchIDs : Int.random(in: 0...10, using: &random)
        return BatchGetMetadataRequest(jobIDs: (0..<count).map { _ in chance(80) ? jobID() : string() },
                                       logTail: uint32(max: UInt32(Limits.maxLogTail)))
    }

    mutating func batchGetResult() -> BatchGetResult {
        BatchGetResult(jobID: chance(80) ? jobID() : string(), outcome: bool() ? .job(job(large: false)) : .error(status()))
    }

    mutating func batchGetMetadataResponse() -> BatchGetMetadataResponse {
        BatchGetMetadataResponse(results: (0..<Int.random(in: 0...5, using: &random)).map { _ in batchGetResult() })
    }

    mutating func listJobsRequest() -> ListJobsRequest {
        ListJobsRequest(
            statuses: (0..<Int.random(in: 0...Limits.maxStatusFilters, using: &random)).map { _ in jobStatus() },
            type: string(), labels: labels(), createdAfterMs: int64(), createdBeforeMs: int64(),
            priority: chance(50) ? PriorityRange(min: int32(), max: int32()) : nil,
            pageSize: uint32(max: UInt32(Limits.maxPageSize)), pageToken: string())
    }

    mutating func listJobsResponse() -> ListJobsResponse {
        let count = chance(3) ? Limits.maxPageSize : Int.random(in: 0...5, using: &random)
        return ListJobsResponse(jobs: (0..<count).map { _ in count > 5 ? Job(jobID: jobID()) : job(large: false) },
                                nextPageToken: string(), totalCount: uint64())
    }

    mutating func watchJobRequest() -> WatchJobRequest {
        WatchJobRequest(jobID: jobID(), afterRevision: uint64(), logTail: uint32(max: UInt32(Limits.maxLogTail)))
    }

    mutating func watchEvent() -> WatchEvent {
        WatchEvent(type: WatchEventType.allCases.randomElement(using: &random) ?? .change, revision: uint64(),
                   job: chance(80) ? job() : nil,
                   newLogLines: strings(maxCount: Limits.maxLogLinesPerUpdate, atLimit: chance(3)))
    }

    mutating func cancelRequest() -> CancelRequest {
        CancelRequest(jobID: jobID(), reason: string(maxBytes: Limits.maxCancelReasonBytes))
    }

    mutating func updateJobRequest() -> UpdateJobRequest {
        UpdateJobRequest(
            jobID: jobID(), status: jobStatus(),
            progress: chance(50) ? [0, 100, Double.random(in: 0...100, using: &random)].randomElement(using: &random) : nil,
            currentTask: chance(50) ? string() : nil, etaSeconds: chance(50) ? finiteDouble() : nil,
            logLines: strings(maxCount: Limits.maxLogLinesPerUpdate, maxBytes: 120, atLimit: chance(3)),
            result: chance(30) ? jobResult() : nil, error: chance(30) ? jobError() : nil, leaseTTLMs: uint32(),
            expectedRevision: uint64())
    }

    mutating func healthResponse() -> HealthResponse {
        HealthResponse(status: ServingStatus.allCases.randomElement(using: &random) ?? .serving, store: string(),
                       storeState: string(), serverVersion: string(), uptimeMs: int64())
    }

    mutating func statsResponse() -> StatsResponse {
        StatsResponse(
            jobs: (0..<Int.random(in: 0...7, using: &random)).map { _ in StatusCount(status: jobStatus(), count: uint64()) },
            connections: uint32(), streams: uint32(),
            methods: (0..<Int.random(in: 0...10, using: &random)).map { _ in
                MethodStats(method: string(), calls: uint64(), errors: uint64(), p50Us: uint64(), p99Us: uint64(),
                            p999Us: uint64())
            },
            uptimeMs: int64())
    }

    mutating func frame() -> Frame {
        switch Int.random(in: 0..<9, using: &random) {
        case 0: .hello(Hello(protocolVersion: uint32(), apiKey: string(maxBytes: 64), clientName: string(),
                             maxFrameBytes: uint32()))
        case 1: .helloAck(HelloAck(protocolVersion: uint32(), serverName: string(), maxFrameBytes: uint32(),
                                   maxConcurrentStreams: uint32(), pingIntervalMs: uint32(), tenant: string(),
                                   role: string()))
        case 2: .call(Call(streamID: uint32(), method: string(), request: bytes(max: 300), timeoutMs: uint32()))
        case 3: .reply(Reply(streamID: uint32(), message: bytes(max: 300)))
        case 4: .end(End(streamID: uint32(), status: status()))
        case 5: .cancelCall(CancelCall(streamID: uint32()))
        case 6: .ping(Ping(payload: uint64()))
        case 7: .pong(Pong(payload: uint64()))
        default: .goAway(GoAway(lastStreamID: uint32(), status: status()))
        }
    }
}
