import JobWireProtocol

/// ListJobs' filters: a job matches when it passes every one that is set.
struct JobFilter {
    let statuses: Set<JobStatus>
    let type: String
    let labels: [String: String]
    let createdAfterMs: Int64
    let createdBeforeMs: Int64
    let priority: PriorityRange?

    init(_ request: ListJobsRequest) {
        statuses = Set(request.statuses.filter { $0 != .unspecified })
        type = request.type
        labels = request.labels
        createdAfterMs = request.createdAfterMs
        createdBeforeMs = request.createdBeforeMs
        priority = request.priority
    }

    func matches(_ job: JobSummary) -> Bool {
        if !statuses.isEmpty && !statuses.contains(job.status) { return false }
        if !type.isEmpty && job.type != type { return false }
        if createdAfterMs != 0 && job.createdAtMs < createdAfterMs { return false }
        if createdBeforeMs != 0 && job.createdAtMs >= createdBeforeMs { return false }
        if let priority, !priority.contains(job.priority) { return false }
        for (key, value) in labels where job.labels[key] != value {
            return false
        }
        return true
    }
}
