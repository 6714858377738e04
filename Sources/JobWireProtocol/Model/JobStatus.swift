/// Where a job is in its life (`jobwire.v1.JobStatus`).
///
///     PENDING -> RUNNING -> COMPLETED | FAILED | CANCELLED
///     PENDING | RUNNING -> CANCELLING -> CANCELLED
public enum JobStatus: Int32, Sendable, Equatable, Hashable, CaseIterable, CustomStringConvertible {
    /// Never sent by the server; in requests, "no status".
    case unspecified = 0
    case pending = 1
    case running = 2
    case cancelling = 3
    case completed = 4
    case failed = 5
    case cancelled = 6

    /// COMPLETED, FAILED and CANCELLED: no worker report changes them, their
    /// watches end and they expire after the retention. COMPLETED is final; a
    /// FAILED or CANCELLED job may be retried (``isRetryable``), which starts
    /// a new attempt.
    public var isRetryable: Bool { self == .failed || self == .cancelled }

    /// See ``isRetryable``.
    public var isTerminal: Bool {
        switch self {
        case .completed, .failed, .cancelled: true
        case .unspecified, .pending, .running, .cancelling: false
        }
    }

    /// Lower-case name as the REST APIs JobWire replaces spelled it, e.g. `running`.
    public var name: String {
        switch self {
        case .unspecified: "unspecified"
        case .pending: "pending"
        case .running: "running"
        case .cancelling: "cancelling"
        case .completed: "completed"
        case .failed: "failed"
        case .cancelled: "cancelled"
        }
    }

    public var description: String { name }
}
