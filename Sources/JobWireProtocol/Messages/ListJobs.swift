internal import CJobWireProto

/// An inclusive range of priorities (`jobwire.v1.PriorityRange`).
public struct PriorityRange: Sendable, Equatable, Hashable {
    public var min: Int32
    public var max: Int32

    public init(min: Int32, max: Int32) {
        self.min = min
        self.max = max
    }

    public func contains(_ priority: Int32) -> Bool { min <= priority && priority <= max }
}

extension PriorityRange: CMessageCodable {
    typealias CStruct = Jobwire__V1__PriorityRange
    static let protoName: StaticString = "PriorityRange"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__priority_range__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        min = c.min
        max = c.max
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        c.pointee.min = min
        c.pointee.max = max
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}

/// The orders ListJobs returns jobs in (`jobwire.v1.JobOrder`); ties are
/// broken by creation order.
public enum JobOrder: Int32, Sendable, Equatable, Hashable, CaseIterable {
    /// By creation time, the default.
    case created = 0
    /// By the time of the last change.
    case updated = 1
    case priority = 2

    /// The name used by the CLI and JSON: `created`, `updated`, `priority`.
    public var name: String {
        switch self {
        case .created: "created"
        case .updated: "updated"
        case .priority: "priority"
        }
    }

    public init?(name: String) {
        guard let order = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = order
    }
}

/// ListJobs: the caller's jobs that match every given filter, in the order
/// asked for, newest first by default (`jobwire.v1.ListJobsRequest`).
public struct ListJobsRequest: Sendable, Equatable {
    /// Empty for every status.
    public var statuses: [JobStatus]
    /// Empty for every type.
    public var type: String
    /// Jobs must carry every one of these labels with these values.
    public var labels: [String: String]
    /// 0 for no bound.
    public var createdAfterMs: Int64
    /// 0 for no bound.
    public var createdBeforeMs: Int64
    /// nil for every priority.
    public var priority: PriorityRange?
    /// 0 means ``Limits/defaultPageSize``; at most ``Limits/maxPageSize``.
    public var pageSize: UInt32
    /// The previous page's `nextPageToken`; empty for the first page.
    public var pageToken: String
    /// Text that must occur (ASCII case ignored) in the type, the current
    /// task or a label value, or begin the job id; empty for every job.
    public var query: String
    public var orderBy: JobOrder
    /// Smallest first; by default the largest (newest, highest) comes first.
    public var ascending: Bool

    public init(statuses: [JobStatus] = [], type: String = "", labels: [String: String] = [:],
                createdAfterMs: Int64 = 0, createdBeforeMs: Int64 = 0, priority: PriorityRange? = nil,
                pageSize: UInt32 = 0, pageToken: String = "", query: String = "", orderBy: JobOrder = .created,
                ascending: Bool = false) {
        self.statuses = statuses
        self.type = type
        self.labels = labels
        self.createdAfterMs = createdAfterMs
        self.createdBeforeMs = createdBeforeMs
        self.priority = priority
        self.pageSize = pageSize
        self.pageToken = pageToken
        self.query = query
        self.orderBy = orderBy
        self.ascending = ascending
    }
}

extension ListJobsRequest: CMessageCodable {
    typealias CStruct = Jobwire__V1__ListJobsRequest
    static let protoName: StaticString = "ListJobsRequest"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__list_jobs_request__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        try CDecode.checkCount(c.n_statuses, "ListJobsRequest.statuses", max: Limits.maxStatusFilters)
        var statuses: [JobStatus] = []
        if let raw = c.statuses {
            for index in 0..<c.n_statuses {
                statuses.append(try CDecode.enumeration(raw[index].rawValue, "ListJobsRequest.statuses"))
            }
        }
        self.statuses = statuses
        type = try CDecode.string(c.type, "ListJobsRequest.type")
        labels = try CDecode.map(c.n_labels, c.labels, "ListJobsRequest.labels", maxCount: Limits.maxLabels) { (entry) throws(JobWireError) in
            try Labels.entry(key: entry.key, value: entry.value, "ListJobsRequest.labels")
        }
        createdAfterMs = c.created_after_ms
        createdBeforeMs = c.created_before_ms
        priority = try CDecode.message(c.priority)
        pageSize = c.page_size
        guard pageSize <= Limits.maxPageSize else {
            throw .invalidArgument(Reason.valueOutOfRange,
                                   "ListJobsRequest.page_size: \(pageSize) exceeds the limit of \(Limits.maxPageSize)")
        }
        pageToken = try CDecode.string(c.page_token, "ListJobsRequest.page_token")
        query = try CDecode.string(c.query, "ListJobsRequest.query", max: Limits.maxQueryBytes)
        orderBy = try CDecode.enumeration(c.order_by.rawValue, "ListJobsRequest.order_by")
        ascending = c.ascending != 0
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        if !statuses.isEmpty {
            let raw = arena.array(of: Jobwire__V1__JobStatus.self, count: statuses.count)
            for (index, status) in statuses.enumerated() {
                raw[index] = Jobwire__V1__JobStatus(rawValue: numericCast(status.rawValue))
            }
            (c.pointee.n_statuses, c.pointee.statuses) = (statuses.count, raw)
        }
        c.pointee.type = arena.cString(type)
        (c.pointee.n_labels, c.pointee.labels) = Labels.pack(labels, arena: arena,
                                                             initializer: { jobwire__v1__list_jobs_request__labels_entry__init($0) },
                                                             set: { $0.pointee.key = $1; $0.pointee.value = $2 })
        c.pointee.created_after_ms = createdAfterMs
        c.pointee.created_before_ms = createdBeforeMs
        c.pointee.priority = priority.map(arena.message)
        c.pointee.page_size = pageSize
        c.pointee.page_token = arena.cString(pageToken)
        c.pointee.query = arena.cString(query)
        c.pointee.order_by = Jobwire__V1__JobOrder(rawValue: numericCast(orderBy.rawValue))
        c.pointee.ascending = ascending ? 1 : 0
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}

/// ListJobs' reply (`jobwire.v1.ListJobsResponse`).
public struct ListJobsResponse: Sendable, Equatable {
    public var jobs: [Job]
    /// Empty on the last page.
    public var nextPageToken: String
    /// Jobs matching the filters across all pages, at the time of this page.
    public var totalCount: UInt64

    public init(jobs: [Job] = [], nextPageToken: String = "", totalCount: UInt64 = 0) {
        self.jobs = jobs
        self.nextPageToken = nextPageToken
        self.totalCount = totalCount
    }
}

extension ListJobsResponse: CMessageCodable {
    typealias CStruct = Jobwire__V1__ListJobsResponse
    static let protoName: StaticString = "ListJobsResponse"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__list_jobs_response__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        jobs = try CDecode.messages(c.n_jobs, c.jobs, "ListJobsResponse.jobs", maxCount: Limits.maxPageSize)
        nextPageToken = try CDecode.string(c.next_page_token, "ListJobsResponse.next_page_token")
        totalCount = c.total_count
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        (c.pointee.n_jobs, c.pointee.jobs) = arena.messages(jobs)
        c.pointee.next_page_token = arena.cString(nextPageToken)
        c.pointee.total_count = totalCount
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}
