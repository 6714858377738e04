/// The full names of JobService's methods, as sent in ``Call/method``.
public enum Method: String, Sendable, CaseIterable {
    case configure = "/jobwire.v1.JobService/Configure"
    case getMetadata = "/jobwire.v1.JobService/GetMetadata"
    case batchGetMetadata = "/jobwire.v1.JobService/BatchGetMetadata"
    case listJobs = "/jobwire.v1.JobService/ListJobs"
    case watchJob = "/jobwire.v1.JobService/WatchJob"
    case cancel = "/jobwire.v1.JobService/Cancel"
    case updateJob = "/jobwire.v1.JobService/UpdateJob"
    case deleteJob = "/jobwire.v1.JobService/DeleteJob"
    case health = "/jobwire.v1.JobService/Health"
    case stats = "/jobwire.v1.JobService/Stats"
    case retry = "/jobwire.v1.JobService/Retry"
    case setPriority = "/jobwire.v1.JobService/SetPriority"
    case usage = "/jobwire.v1.JobService/Usage"
    case watchJobs = "/jobwire.v1.JobService/WatchJobs"
    case createWebhook = "/jobwire.v1.JobService/CreateWebhook"
    case listWebhooks = "/jobwire.v1.JobService/ListWebhooks"
    case getWebhook = "/jobwire.v1.JobService/GetWebhook"
    case deleteWebhook = "/jobwire.v1.JobService/DeleteWebhook"
    case rotateWebhookSecret = "/jobwire.v1.JobService/RotateWebhookSecret"
    case listWebhookDeliveries = "/jobwire.v1.JobService/ListWebhookDeliveries"
    case redeliverWebhook = "/jobwire.v1.JobService/RedeliverWebhook"

    /// The method's name without the service, e.g. `GetMetadata`.
    public var shortName: Substring { rawValue.split(separator: "/").last ?? Substring(rawValue) }

    /// True for methods whose reply is a stream of messages.
    public var isServerStreaming: Bool { self == .watchJob || self == .watchJobs }
}
