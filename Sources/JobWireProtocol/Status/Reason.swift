/// The machine-readable reasons JobWire puts in ``Status/reason``.
///
/// Reasons are part of the protocol: they never change meaning once released.
/// `docs/PROTOCOL.md` lists, for each one, the code it travels with.
public enum Reason {
    // Framing and connection (docs/PROTOCOL.md, "Framing").
    /// RESOURCE_EXHAUSTED: a frame's length prefix is above the negotiated maximum.
    public static let frameTooLarge = "FRAME_TOO_LARGE"
    /// INVALID_ARGUMENT: a frame's length prefix is 0.
    public static let emptyFrame = "EMPTY_FRAME"
    /// INVALID_ARGUMENT: a frame has no kind set.
    public static let missingFrameKind = "MISSING_FRAME_KIND"
    /// UNIMPLEMENTED: a frame carries a kind this implementation does not know.
    public static let unknownFrameKind = "UNKNOWN_FRAME_KIND"

    /// INVALID_ARGUMENT: the first frame of a connection was not a Hello.
    public static let helloRequired = "HELLO_REQUIRED"
    /// DEADLINE_EXCEEDED: no complete Hello arrived within the handshake timeout.
    public static let handshakeTimeout = "HANDSHAKE_TIMEOUT"
    /// FAILED_PRECONDITION: the Hello asked for a protocol version the server does not speak.
    public static let unsupportedProtocolVersion = "UNSUPPORTED_PROTOCOL_VERSION"
    /// INVALID_ARGUMENT: a frame kind the client may not send, or a second Hello.
    public static let unexpectedFrame = "UNEXPECTED_FRAME"
    /// INVALID_ARGUMENT: a Call with stream id 0.
    public static let invalidStreamID = "INVALID_STREAM_ID"
    /// INVALID_ARGUMENT: a Call on a stream id that is still open.
    public static let streamIDInUse = "STREAM_ID_IN_USE"
    /// RESOURCE_EXHAUSTED: the connection already has its maximum of open calls.
    public static let tooManyStreams = "TOO_MANY_STREAMS"
    /// RESOURCE_EXHAUSTED: the server already has its maximum of connections.
    public static let tooManyConnections = "TOO_MANY_CONNECTIONS"
    /// UNAVAILABLE: the peer did not answer a Ping in time.
    public static let pingTimeout = "PING_TIMEOUT"
    /// UNAVAILABLE: the server is draining; retry on a new connection.
    public static let serverShuttingDown = "SERVER_SHUTTING_DOWN"
    /// UNIMPLEMENTED: the Call named a method the server does not have.
    public static let unknownMethod = "UNKNOWN_METHOD"
    /// DEADLINE_EXCEEDED: the call's `timeout_ms` passed.
    public static let deadlineExceeded = "DEADLINE_EXCEEDED"
    /// CANCELLED: the caller cancelled the call.
    public static let cancelled = "CANCELLED"
    /// INTERNAL: an invariant of the server broke (a bug).
    public static let `internal` = "INTERNAL"

    // Client side (never sent by a server): why a call failed locally.
    /// UNAVAILABLE: the connection broke before the call ended.
    public static let connectionLost = "CONNECTION_LOST"
    /// UNAVAILABLE: the server could not be reached.
    public static let connectFailed = "CONNECT_FAILED"

    // Access (docs/PROTOCOL.md, "Handshake").
    /// UNAUTHENTICATED: the Hello's API key is missing, unknown or revoked.
    public static let invalidAPIKey = "INVALID_API_KEY"
    /// PERMISSION_DENIED: the key's role may not call this method.
    public static let permissionDenied = "PERMISSION_DENIED"
    /// RESOURCE_EXHAUSTED: the key or tenant is over its rate; see `retry_after_ms`.
    public static let rateLimited = "RATE_LIMITED"

    // Message decoding (docs/PROTOCOL.md, "Validation").
    /// INVALID_ARGUMENT: the bytes are not a valid protobuf encoding of the message.
    public static let malformedMessage = "MALFORMED_MESSAGE"
    /// RESOURCE_EXHAUSTED: a message is larger than the size allowed for it.
    public static let messageTooLarge = "MESSAGE_TOO_LARGE"
    /// RESOURCE_EXHAUSTED: decoding a message would need more memory than its budget.
    public static let messageTooComplex = "MESSAGE_TOO_COMPLEX"
    /// INVALID_ARGUMENT: a string field is not valid UTF-8.
    public static let invalidUTF8 = "INVALID_UTF8"
    /// INVALID_ARGUMENT: an enum field holds a number the enum does not define.
    public static let invalidEnumValue = "INVALID_ENUM_VALUE"
    /// INVALID_ARGUMENT: a string or bytes field is longer than its limit.
    public static let fieldTooLong = "FIELD_TOO_LONG"
    /// INVALID_ARGUMENT: a repeated or map field has more entries than its limit.
    public static let tooManyElements = "TOO_MANY_ELEMENTS"
    /// INVALID_ARGUMENT: a number is outside the range its field allows.
    public static let valueOutOfRange = "VALUE_OUT_OF_RANGE"
    /// INVALID_ARGUMENT: a required field (or oneof) is absent.
    public static let missingField = "MISSING_FIELD"
    /// INVALID_ARGUMENT: a job id is not a UUID.
    public static let invalidJobID = "INVALID_JOB_ID"

    // Job API (docs/PROTOCOL.md, "RPCs").
    /// NOT_FOUND: no such job for this tenant.
    public static let jobNotFound = "JOB_NOT_FOUND"
    /// NOT_FOUND: the job ended and its retention period is over (REST's 410).
    public static let expired = "EXPIRED"
    /// FAILED (job error reason) and FAILED_PRECONDITION: the worker's lease ran out.
    public static let leaseExpired = "LEASE_EXPIRED"
    /// FAILED_PRECONDITION: the requested status change is not allowed.
    public static let illegalTransition = "ILLEGAL_TRANSITION"
    /// ALREADY_EXISTS: a Configure request id was reused with a different job.
    public static let requestIDReused = "REQUEST_ID_REUSED"
    /// RESOURCE_EXHAUSTED: the stream port pool is empty.
    public static let noStreamPort = "NO_STREAM_PORT"
    /// ABORTED: `expected_revision` did not match the job's revision.
    public static let revisionMismatch = "REVISION_MISMATCH"
    /// FAILED_PRECONDITION: the job is terminal; it no longer changes.
    public static let jobTerminal = "JOB_TERMINAL"
    /// FAILED_PRECONDITION: Retry of a job that is not FAILED or CANCELLED.
    public static let notRetryable = "NOT_RETRYABLE"
    /// INVALID_ARGUMENT: a field the request may not carry in this combination
    /// (a result without COMPLETED, an error without FAILED).
    public static let fieldNotAllowed = "FIELD_NOT_ALLOWED"
    /// INVALID_ARGUMENT: the page token is not one this server issued for these filters.
    public static let invalidPageToken = "INVALID_PAGE_TOKEN"
    /// INVALID_ARGUMENT: a WatchJobs cursor that is not one this protocol issues.
    public static let invalidCursor = "INVALID_CURSOR"
    /// ALREADY_EXISTS: the requested stream port belongs to another live job.
    public static let streamPortInUse = "STREAM_PORT_IN_USE"
    /// NOT_FOUND: the watched job was deleted; the watch ends.
    public static let jobDeleted = "JOB_DELETED"
    /// UNAVAILABLE: the durable store could not commit the write; it was not
    /// acknowledged. Retry (Configure with its request id is safe to repeat).
    public static let storeUnavailable = "STORE_UNAVAILABLE"
    /// DATA_LOSS: a stored job (or its log and history) could not be read
    /// back from the durable store. The server keeps serving other jobs;
    /// run `jobwired --check-store` and restore from a backup.
    public static let storeDamaged = "STORE_DAMAGED"
    /// RESOURCE_EXHAUSTED: the tenant holds its maximum number of jobs.
    public static let tooManyJobs = "TOO_MANY_JOBS"
    /// RESOURCE_EXHAUSTED: the tenant has its maximum number of open watches.
    public static let tooManyWatches = "TOO_MANY_WATCHES"

    // The HTTP front end's own (docs/HTTP.md): what only an HTTP request can get wrong.

    /// INVALID_ARGUMENT (HTTP 400): an API key in the URL (`?api_key=`); send it in a header, or
    /// open event streams with a stream token.
    public static let apiKeyInURL = "API_KEY_IN_URL"
    /// UNAUTHENTICATED (HTTP 401): a stream token that is unknown, expired, or whose key was revoked.
    public static let invalidStreamToken = "INVALID_STREAM_TOKEN"
    /// NOT_FOUND (HTTP 404): no route has this path.
    public static let routeNotFound = "ROUTE_NOT_FOUND"
    /// UNIMPLEMENTED (HTTP 405): the path exists, the method does not.
    public static let methodNotAllowed = "METHOD_NOT_ALLOWED"
    /// INVALID_ARGUMENT (HTTP 415): a body that is not `application/json`.
    public static let unsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"
    /// INVALID_ARGUMENT (HTTP 400): a query parameter or header that is malformed or unknown.
    public static let invalidParameter = "INVALID_PARAMETER"
    /// RESOURCE_EXHAUSTED (HTTP 431): the request line and headers exceed the server's limit.
    public static let headersTooLarge = "HEADERS_TOO_LARGE"
    /// DEADLINE_EXCEEDED (HTTP 408): the request did not arrive whole in time (slow or stalled client).
    public static let requestTimeout = "REQUEST_TIMEOUT"
    /// INVALID_ARGUMENT (HTTP 400): bytes that are not HTTP/1.1.
    public static let malformedRequest = "MALFORMED_REQUEST"

    // Webhooks (docs/WEBHOOKS.md).

    /// UNIMPLEMENTED (HTTP 501): this server sends no webhooks.
    public static let webhooksOff = "WEBHOOKS_OFF"
    /// NOT_FOUND (HTTP 404): no webhook endpoint of the caller's tenant has this id.
    public static let webhookNotFound = "WEBHOOK_NOT_FOUND"
    /// NOT_FOUND (HTTP 404): no message of this endpoint (or of the tenant's endpoints) has this id.
    public static let deliveryNotFound = "DELIVERY_NOT_FOUND"
    /// FAILED_PRECONDITION (HTTP 409): the message is still being delivered; it cannot be redelivered yet.
    public static let deliveryPending = "DELIVERY_PENDING"
    /// FAILED_PRECONDITION (HTTP 409): the endpoint is disabled (410 Gone, or failing too long); nothing is sent to it.
    public static let webhookDisabled = "WEBHOOK_DISABLED"
    /// RESOURCE_EXHAUSTED (HTTP 429): the tenant has its maximum number of webhook endpoints.
    public static let tooManyWebhooks = "TOO_MANY_WEBHOOKS"
    /// INVALID_ARGUMENT (HTTP 400): an event type that is not one of the six.
    public static let unknownEventType = "UNKNOWN_EVENT_TYPE"
    /// INVALID_ARGUMENT (HTTP 400): a webhook URL that is not an absolute http(s) URL JobWire may POST to.
    public static let invalidWebhookURL = "INVALID_WEBHOOK_URL"
    /// INVALID_ARGUMENT (HTTP 400): a webhook URL whose host is a loopback, private, link-local, shared,
    /// metadata or otherwise non-public address (and the server does not run with --webhooks-allow-private).
    public static let webhookAddressNotAllowed = "WEBHOOK_ADDRESS_NOT_ALLOWED"
}
