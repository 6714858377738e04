import JobWireProtocol

/// ListJobs' filters and search: a job matches when it passes every one that
/// is set.
///
/// Split in two for scans over a million jobs: ``matchesScalars(status:createdAtMs:priority:)``
/// reads only numbers, so a job it refuses costs no reference counting;
/// ``matchesText(_:)`` reads the strings and labels of the few that pass.
struct JobFilter {
    /// Bit `rawValue` set for each status asked for; 0 for every status.
    let statusMask: UInt32
    let type: String
    let labels: [String: String]
    let createdAfterMs: Int64
    let createdBeforeMs: Int64
    let priority: PriorityRange?
    let query: TextQuery?

    init(_ request: ListJobsRequest) {
        statusMask = request.statuses.filter { $0 != .unspecified }.reduce(0) { $0 | 1 << UInt32($1.rawValue) }
        type = request.type
        labels = request.labels
        createdAfterMs = request.createdAfterMs
        createdBeforeMs = request.createdBeforeMs
        priority = request.priority
        query = request.query.isEmpty ? nil : TextQuery(request.query)
    }

    func matches(_ job: borrowing JobSummary) -> Bool {
        matchesScalars(status: job.status, createdAtMs: job.createdAtMs, priority: job.priority) && matchesText(job)
    }

    /// The filters on numbers: statuses, created range, priority range.
    @inline(__always)
    func matchesScalars(status: JobStatus, createdAtMs: Int64, priority: Int32) -> Bool {
        if statusMask != 0 && statusMask & 1 << UInt32(status.rawValue) == 0 { return false }
        if createdAfterMs != 0 && createdAtMs < createdAfterMs { return false }
        if createdBeforeMs != 0 && createdAtMs >= createdBeforeMs { return false }
        if let range = self.priority, !range.contains(priority) { return false }
        return true
    }

    /// Whether the text filters apply at all (type, labels, query).
    var hasText: Bool { !type.isEmpty || !labels.isEmpty || query != nil }

    /// The filters on text: type, labels, query.
    func matchesText(_ job: borrowing JobSummary) -> Bool {
        if !type.isEmpty && job.type != type { return false }
        for (key, value) in labels where job.labels[key] != value {
            return false
        }
        if let query, !query.matches(job) { return false }
        return true
    }
}

/// ListJobs' `query`: text that occurs, ignoring ASCII case, in the type,
/// the current task or a label value, or that begins the job id. Compared
/// byte by byte on UTF-8 (case folded for ASCII only, so the comparison is
/// exact and costs no allocation per job).
struct TextQuery {
    /// The query's bytes, ASCII letters lower-cased.
    let folded: [UInt8]

    init(_ text: String) {
        folded = text.utf8.map(Self.fold)
    }

    func matches(_ job: borrowing JobSummary) -> Bool {
        if hasPrefix(job.jobID) || contains(job.type) || contains(job.currentTask) { return true }
        for value in job.labels.values where contains(value) {
            return true
        }
        return false
    }

    private static func fold(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }

    func hasPrefix(_ text: String) -> Bool {
        // Native strings (all the registry holds) are contiguous UTF-8: read in place, without a copy.
        text.utf8.withContiguousStorageIfAvailable { hasPrefix(bytes: $0) }
            ?? Array(text.utf8).withUnsafeBufferPointer { hasPrefix(bytes: $0) }
    }

    private func hasPrefix(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count >= folded.count else { return false }
        for index in folded.indices where Self.fold(bytes[index]) != folded[index] {
            return false
        }
        return true
    }

    func contains(_ text: String) -> Bool {
        text.utf8.withContiguousStorageIfAvailable { contains(bytes: $0) }
            ?? Array(text.utf8).withUnsafeBufferPointer { contains(bytes: $0) }
    }

    private func contains(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let needle = folded.count
        guard bytes.count >= needle else { return false }
        guard let first = folded.first else { return true }
        var start = 0
        while start <= bytes.count - needle {
            if Self.fold(bytes[start]) == first {
                var index = 1
                while index < needle && Self.fold(bytes[start + index]) == folded[index] { index += 1 }
                if index == needle { return true }
            }
            start += 1
        }
        return false
    }
}
