import JobWireProtocol

/// The job lifecycle as pure rules, no I/O (docs/PROTOCOL.md, "The job model
/// and lifecycle"):
///
///     PENDING -> RUNNING | FAILED | CANCELLED          (worker)
///     RUNNING -> COMPLETED | FAILED | CANCELLED        (worker)
///     PENDING | RUNNING -> CANCELLING                  (Cancel, live lease)
///     PENDING | RUNNING -> CANCELLED                   (Cancel, no live lease)
///     CANCELLING -> CANCELLED                          (worker, or lease expiry)
///     PENDING | RUNNING -> FAILED (LEASE_EXPIRED)      (lease expiry)
///     FAILED | CANCELLED -> PENDING                    (Retry: a new attempt)
///
/// Terminal states never change within an attempt; only Retry leaves one.
public enum JobLifecycle {
    /// Checks a status change a worker asks for in UpdateJob. Returns nil when
    /// the status stays as it is (UNSPECIFIED, or the current status again).
    public static func workerTransition(from current: JobStatus, to requested: JobStatus) throws(JobWireError) -> JobStatus? {
        if current.isTerminal {
            throw JobWireError(.failedPrecondition, Reason.jobTerminal,
                               "the job is \(current.name.uppercased()) and no longer changes")
        }
        if requested == .unspecified || requested == current {
            return nil
        }
        let allowed: Bool = switch (current, requested) {
        case (.pending, .running), (.pending, .failed), (.pending, .cancelled): true
        case (.running, .completed), (.running, .failed), (.running, .cancelled): true
        case (.cancelling, .cancelled): true
        default: false
        }
        guard allowed else {
            throw JobWireError(.failedPrecondition, Reason.illegalTransition,
                               "a job cannot go from \(current.name.uppercased()) to \(requested.name.uppercased())")
        }
        return requested
    }

    /// What Cancel does to a job in `current` status.
    public enum CancelOutcome: Equatable, Sendable {
        /// Already cancelling or terminal: returned unchanged.
        case unchanged
        /// A worker holds a live lease: it is asked to stop.
        case cancelling
        /// No live worker: cancelled at once.
        case cancelled
    }

    public static func cancel(from current: JobStatus, leaseIsLive: Bool) -> CancelOutcome {
        switch current {
        case .pending, .running: leaseIsLive ? .cancelling : .cancelled
        case .unspecified, .cancelling, .completed, .failed, .cancelled: .unchanged
        }
    }

    /// Checks that a job in `current` status may be retried.
    public static func retry(from current: JobStatus) throws(JobWireError) {
        guard current.isRetryable else {
            throw JobWireError(.failedPrecondition, Reason.notRetryable,
                               "only FAILED or CANCELLED jobs can be retried; the job is \(current.name.uppercased())")
        }
    }

    /// The status a job takes when its worker's lease runs out, or nil when
    /// the lease does not matter in `current` status.
    public static func leaseExpiry(from current: JobStatus) -> JobStatus? {
        switch current {
        case .pending, .running: .failed
        case .cancelling: .cancelled
        case .unspecified, .completed, .failed, .cancelled: nil
        }
    }
}
