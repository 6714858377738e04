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
}
