import JobWireProtocol

/// What a key may do. Each role includes the one before it.
public enum Role: String, Sendable, CaseIterable, Comparable {
    /// GetMetadata, BatchGetMetadata, ListJobs, WatchJob, WatchJobs, Health, Stats,
    /// Usage, ListWebhooks, GetWebhook and ListWebhookDeliveries (of its own tenant).
    case reader
    /// reader + Configure, Cancel, Retry, SetPriority, DeleteJob, and managing webhooks
    /// (CreateWebhook, DeleteWebhook, RotateWebhookSecret, RedeliverWebhook): a front end
    /// or service that starts and stops jobs.
    case client
    /// client + UpdateJob: the program that runs jobs and reports their progress.
    case worker
    /// Everything, on every tenant (naming it in `Call.tenant`), and the
    /// server-wide counters of Stats.
    case admin

    private var rank: Int {
        switch self {
        case .reader: 0
        case .client: 1
        case .worker: 2
        case .admin: 3
        }
    }

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }

    /// The least role that may call `method`.
    public static func required(for method: Method) -> Role {
        switch method {
        case .getMetadata, .batchGetMetadata, .listJobs, .watchJob, .watchJobs, .health, .stats, .usage,
             .listWebhooks, .getWebhook, .listWebhookDeliveries: .reader
        case .configure, .cancel, .retry, .setPriority, .deleteJob,
             .createWebhook, .deleteWebhook, .rotateWebhookSecret, .redeliverWebhook: .client
        case .updateJob: .worker
        }
    }

    public func allows(_ method: Method) -> Bool {
        self >= Role.required(for: method)
    }

    /// Whether the role may act on a tenant other than its key's.
    public var spansTenants: Bool { self == .admin }
}
