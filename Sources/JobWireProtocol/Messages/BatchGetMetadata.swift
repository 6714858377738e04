internal import CJobWireProto

/// BatchGetMetadata: many jobs at once (`jobwire.v1.BatchGetMetadataRequest`).
///
/// Ids are not checked as UUIDs here: a malformed id gets its own
/// INVALID_JOB_ID result, and the rest of the batch is answered.
public struct BatchGetMetadataRequest: Sendable, Equatable {
    /// At most ``Limits/maxBatchIDs``.
    public var jobIDs: [String]
    public var logTail: UInt32

    public init(jobIDs: [String], logTail: UInt32 = 0) {
        self.jobIDs = jobIDs
        self.logTail = logTail
    }
}

extension BatchGetMetadataRequest: CMessageCodable {
    typealias CStruct = Jobwire__V1__BatchGetMetadataRequest
    static let protoName: StaticString = "BatchGetMetadataRequest"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__batch_get_metadata_request__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        jobIDs = try CDecode.strings(c.n_job_ids, c.job_ids, "BatchGetMetadataRequest.job_ids",
                                     maxCount: Limits.maxBatchIDs)
        logTail = try LogTail.check(c.log_tail, "BatchGetMetadataRequest.log_tail")
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        (c.pointee.n_job_ids, c.pointee.job_ids) = arena.cStrings(jobIDs)
        c.pointee.log_tail = logTail
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}

/// One answer of BatchGetMetadata (`jobwire.v1.BatchGetResult`).
public struct BatchGetResult: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        case job(Job)
        case error(Status)
    }

    /// The id as requested.
    public var jobID: String
    public var outcome: Outcome

    public init(jobID: String, outcome: Outcome) {
        self.jobID = jobID
        self.outcome = outcome
    }
}

extension BatchGetResult: CMessageCodable {
    typealias CStruct = Jobwire__V1__BatchGetResult
    static let protoName: StaticString = "BatchGetResult"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__batch_get_result__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        jobID = try CDecode.string(c.job_id, "BatchGetResult.job_id")
        let job: Job? = c.outcome_case == JOBWIRE__V1__BATCH_GET_RESULT__OUTCOME_JOB ? try CDecode.message(c.job) : nil
        let error: Status? = c.outcome_case == JOBWIRE__V1__BATCH_GET_RESULT__OUTCOME_ERROR ? try CDecode.message(c.error) : nil
        if let job {
            outcome = .job(job)
        } else if let error {
            outcome = .error(error)
        } else {
            throw .invalidArgument(Reason.missingField, "BatchGetResult.outcome: neither job nor error is set")
        }
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.job_id = arena.cString(jobID)
        switch outcome {
        case .job(let job):
            c.pointee.outcome_case = JOBWIRE__V1__BATCH_GET_RESULT__OUTCOME_JOB
            c.pointee.job = arena.message(job)
        case .error(let status):
            c.pointee.outcome_case = JOBWIRE__V1__BATCH_GET_RESULT__OUTCOME_ERROR
            c.pointee.error = arena.message(status)
        }
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}

/// BatchGetMetadata's reply: one result per requested id, in request order.
public struct BatchGetMetadataResponse: Sendable, Equatable {
    public var results: [BatchGetResult]

    public init(results: [BatchGetResult] = []) {
        self.results = results
    }
}

extension BatchGetMetadataResponse: CMessageCodable {
    typealias CStruct = Jobwire__V1__BatchGetMetadataResponse
    static let protoName: StaticString = "BatchGetMetadataResponse"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__batch_get_metadata_response__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        results = try CDecode.messages(c.n_results, c.results, "BatchGetMetadataResponse.results",
                                       maxCount: Limits.maxBatchIDs)
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        (c.pointee.n_results, c.pointee.results) = arena.messages(results)
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}
