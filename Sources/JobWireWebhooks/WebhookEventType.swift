import JobWireProtocol

/// What a webhook message says happened to a job (its `type`). An endpoint
/// subscribes to some or all of them.
public enum WebhookEventType: String, CaseIterable, Sendable, Equatable {
    case created = "job.created"
    case completed = "job.completed"
    case failed = "job.failed"
    case cancelled = "job.cancelled"
    case retried = "job.retried"
    /// Any other change of status, progress or current task; an endpoint gets
    /// at most one per job per interval (the latest), never one per report.
    case progress = "job.progress"

    /// The event a job's change is: nil for a change no endpoint hears of (log
    /// lines alone, a lease renewal, a new priority).
    public static func of(_ current: Job, previous: Job?) -> WebhookEventType? {
        guard let previous else { return .created }
        if current.attempt > previous.attempt { return .retried }
        if current.status != previous.status {
            switch current.status {
            case .completed: return .completed
            case .failed: return .failed
            case .cancelled: return .cancelled
            default: return .progress
            }
        }
        if current.progress != previous.progress || current.currentTask != previous.currentTask { return .progress }
        return nil
    }
}
