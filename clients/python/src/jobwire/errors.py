"""Status codes, reasons and the typed exceptions every call raises.

Every failed call raises a subclass of :class:`JobWireError` chosen by the
status code (``NotFound``, ``InvalidArgument``, …). Branch on ``code`` and
``reason``, never on ``message`` (docs/PROTOCOL.md, "Status codes and reasons").
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final


class StatusCode(enum.IntEnum):
    """gRPC's canonical status codes, with gRPC's numbers (``jobwire.v1.StatusCode``)."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16

    @classmethod
    def from_wire(cls, value: int) -> StatusCode:
        """The code for a number read off the wire; a number this client does not know is ``UNKNOWN``."""
        try:
            return cls(value)
        except ValueError:
            return cls.UNKNOWN


class Reason:
    """The machine-readable reasons of docs/PROTOCOL.md, plus the client's own.

    ``JobWireError.reason`` is a plain ``str``: a newer server may send a
    reason this list does not name yet.
    """

    # Framing and connection.
    EMPTY_FRAME: Final = "EMPTY_FRAME"
    FRAME_TOO_LARGE: Final = "FRAME_TOO_LARGE"
    MISSING_FRAME_KIND: Final = "MISSING_FRAME_KIND"
    UNKNOWN_FRAME_KIND: Final = "UNKNOWN_FRAME_KIND"
    HELLO_REQUIRED: Final = "HELLO_REQUIRED"
    HANDSHAKE_TIMEOUT: Final = "HANDSHAKE_TIMEOUT"
    UNSUPPORTED_PROTOCOL_VERSION: Final = "UNSUPPORTED_PROTOCOL_VERSION"
    INVALID_API_KEY: Final = "INVALID_API_KEY"
    UNEXPECTED_FRAME: Final = "UNEXPECTED_FRAME"
    INVALID_STREAM_ID: Final = "INVALID_STREAM_ID"
    STREAM_ID_IN_USE: Final = "STREAM_ID_IN_USE"
    TOO_MANY_STREAMS: Final = "TOO_MANY_STREAMS"
    TOO_MANY_CONNECTIONS: Final = "TOO_MANY_CONNECTIONS"
    UNKNOWN_METHOD: Final = "UNKNOWN_METHOD"
    DEADLINE_EXCEEDED: Final = "DEADLINE_EXCEEDED"
    PING_TIMEOUT: Final = "PING_TIMEOUT"
    SERVER_SHUTTING_DOWN: Final = "SERVER_SHUTTING_DOWN"
    CANCELLED: Final = "CANCELLED"
    INTERNAL: Final = "INTERNAL"
    # Store.
    STORE_UNAVAILABLE: Final = "STORE_UNAVAILABLE"
    STORE_DAMAGED: Final = "STORE_DAMAGED"
    # Message decoding and validation.
    MALFORMED_MESSAGE: Final = "MALFORMED_MESSAGE"
    MESSAGE_TOO_LARGE: Final = "MESSAGE_TOO_LARGE"
    MESSAGE_TOO_COMPLEX: Final = "MESSAGE_TOO_COMPLEX"
    INVALID_UTF8: Final = "INVALID_UTF8"
    INVALID_ENUM_VALUE: Final = "INVALID_ENUM_VALUE"
    FIELD_TOO_LONG: Final = "FIELD_TOO_LONG"
    TOO_MANY_ELEMENTS: Final = "TOO_MANY_ELEMENTS"
    VALUE_OUT_OF_RANGE: Final = "VALUE_OUT_OF_RANGE"
    MISSING_FIELD: Final = "MISSING_FIELD"
    INVALID_JOB_ID: Final = "INVALID_JOB_ID"
    # The job API.
    JOB_NOT_FOUND: Final = "JOB_NOT_FOUND"
    EXPIRED: Final = "EXPIRED"
    JOB_DELETED: Final = "JOB_DELETED"
    REQUEST_ID_REUSED: Final = "REQUEST_ID_REUSED"
    STREAM_PORT_IN_USE: Final = "STREAM_PORT_IN_USE"
    NO_STREAM_PORT: Final = "NO_STREAM_PORT"
    ILLEGAL_TRANSITION: Final = "ILLEGAL_TRANSITION"
    JOB_TERMINAL: Final = "JOB_TERMINAL"
    NOT_RETRYABLE: Final = "NOT_RETRYABLE"
    FIELD_NOT_ALLOWED: Final = "FIELD_NOT_ALLOWED"
    REVISION_MISMATCH: Final = "REVISION_MISMATCH"
    INVALID_PAGE_TOKEN: Final = "INVALID_PAGE_TOKEN"
    INVALID_CURSOR: Final = "INVALID_CURSOR"
    # Access and limits.
    PERMISSION_DENIED: Final = "PERMISSION_DENIED"
    RATE_LIMITED: Final = "RATE_LIMITED"
    TOO_MANY_JOBS: Final = "TOO_MANY_JOBS"
    TOO_MANY_WATCHES: Final = "TOO_MANY_WATCHES"
    # Webhooks (docs/WEBHOOKS.md).
    #: UNIMPLEMENTED: this server sends no webhooks.
    WEBHOOKS_OFF: Final = "WEBHOOKS_OFF"
    #: NOT_FOUND: no webhook endpoint of the caller's tenant has this id.
    WEBHOOK_NOT_FOUND: Final = "WEBHOOK_NOT_FOUND"
    #: NOT_FOUND: no message of the endpoint (or of the tenant's endpoints) has this id.
    DELIVERY_NOT_FOUND: Final = "DELIVERY_NOT_FOUND"
    #: FAILED_PRECONDITION: the message is still being delivered; it cannot be redelivered yet.
    DELIVERY_PENDING: Final = "DELIVERY_PENDING"
    #: FAILED_PRECONDITION: the endpoint is disabled (410 Gone, or failing too long).
    WEBHOOK_DISABLED: Final = "WEBHOOK_DISABLED"
    #: RESOURCE_EXHAUSTED: the tenant has its maximum number of endpoints.
    TOO_MANY_WEBHOOKS: Final = "TOO_MANY_WEBHOOKS"
    #: INVALID_ARGUMENT: an event type that is not one of the six.
    UNKNOWN_EVENT_TYPE: Final = "UNKNOWN_EVENT_TYPE"
    #: INVALID_ARGUMENT: not an absolute http(s) URL JobWire may POST to.
    INVALID_WEBHOOK_URL: Final = "INVALID_WEBHOOK_URL"
    #: INVALID_ARGUMENT: a loopback, private, link-local, metadata or otherwise non-public address.
    WEBHOOK_ADDRESS_NOT_ALLOWED: Final = "WEBHOOK_ADDRESS_NOT_ALLOWED"
    # Not a call status: the JobError.reason of a job whose worker lease ran out.
    LEASE_EXPIRED: Final = "LEASE_EXPIRED"

    # Client side, never sent by a server (the same strings as the Swift client).
    #: UNAVAILABLE: the connection broke before the call ended.
    CONNECTION_LOST: Final = "CONNECTION_LOST"
    #: DEADLINE_EXCEEDED: no connection could be made before the call's deadline.
    CONNECT_FAILED: Final = "CONNECT_FAILED"
    #: UNAVAILABLE: the server is draining and never processed the call; it is safe to send again.
    NOT_PROCESSED: Final = "NOT_PROCESSED"


@dataclass(frozen=True)
class Status:
    """The outcome of a call or of a connection (``jobwire.v1.Status``)."""

    code: StatusCode
    reason: str = ""
    message: str = ""
    retry_after_ms: int = 0

    @property
    def ok(self) -> bool:
        """True for ``OK``."""
        return self.code == StatusCode.OK

    def __str__(self) -> str:
        text = self.code.name
        if self.reason:
            text += f" ({self.reason})"
        if self.message:
            text += f": {self.message}"
        if self.retry_after_ms:
            text += f" [retry after {self.retry_after_ms} ms]"
        return text


class JobWireError(Exception):
    """A call or connection failed with a JobWire status.

    Attributes:
        code: the canonical :class:`StatusCode` (``.name`` and ``int()`` give
            the protocol's name and number).
        reason: the stable machine-readable reason, e.g. ``"JOB_NOT_FOUND"``.
        message: an explanation for people.
        retry_after: seconds to wait before retrying, or ``None`` when the
            server gave no hint.
    """

    code: StatusCode
    reason: str
    message: str
    retry_after: float | None

    def __init__(self, code: StatusCode, reason: str = "", message: str = "", retry_after_ms: int = 0) -> None:
        self.code = code
        self.reason = reason
        self.message = message
        self.retry_after = retry_after_ms / 1000 if retry_after_ms > 0 else None
        self._retry_after_ms = retry_after_ms
        super().__init__(str(self.status))

    @property
    def status(self) -> Status:
        """The error as the protocol's :class:`Status`."""
        return Status(self.code, self.reason, self.message, self._retry_after_ms)

    def __reduce__(self) -> tuple[type[JobWireError], tuple[StatusCode, str, str, int]]:
        return (type(self), (self.code, self.reason, self.message, self._retry_after_ms))


class Cancelled(JobWireError):
    """``CANCELLED``: the call was cancelled by its caller."""


class Unknown(JobWireError):
    """``UNKNOWN``: an error that fits no other code, or a code this client does not know."""


class InvalidArgument(JobWireError):
    """``INVALID_ARGUMENT``: the request is malformed or a field is invalid."""


class DeadlineExceeded(JobWireError):
    """``DEADLINE_EXCEEDED``: the call's deadline passed (or no connection came up before it)."""


class NotFound(JobWireError):
    """``NOT_FOUND``: no such job for this tenant (``JOB_NOT_FOUND``), ``EXPIRED`` or ``JOB_DELETED``."""


class AlreadyExists(JobWireError):
    """``ALREADY_EXISTS``: ``REQUEST_ID_REUSED`` or ``STREAM_PORT_IN_USE``."""


class PermissionDenied(JobWireError):
    """``PERMISSION_DENIED``: the key's role may not make this call."""


class ResourceExhausted(JobWireError):
    """``RESOURCE_EXHAUSTED``: a limit was hit; see ``retry_after`` for ``RATE_LIMITED``."""


class FailedPrecondition(JobWireError):
    """``FAILED_PRECONDITION``: the job's state does not allow the request."""


class Aborted(JobWireError):
    """``ABORTED``: a concurrency conflict (``REVISION_MISMATCH``)."""


class OutOfRange(JobWireError):
    """``OUT_OF_RANGE``: a value outside the range the current state allows."""


class Unimplemented(JobWireError):
    """``UNIMPLEMENTED``: unknown method or frame kind."""


class Internal(JobWireError):
    """``INTERNAL``: a server bug."""


class Unavailable(JobWireError):
    """``UNAVAILABLE``: the server cannot serve now (draining, store, connection lost); retry with backoff."""


class DataLoss(JobWireError):
    """``DATA_LOSS``: stored data could not be read back (``STORE_DAMAGED``)."""


class Unauthenticated(JobWireError):
    """``UNAUTHENTICATED``: the API key is missing, unknown or revoked."""


_BY_CODE: Final[dict[StatusCode, type[JobWireError]]] = {
    StatusCode.CANCELLED: Cancelled,
    StatusCode.UNKNOWN: Unknown,
    StatusCode.INVALID_ARGUMENT: InvalidArgument,
    StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
    StatusCode.NOT_FOUND: NotFound,
    StatusCode.ALREADY_EXISTS: AlreadyExists,
    StatusCode.PERMISSION_DENIED: PermissionDenied,
    StatusCode.RESOURCE_EXHAUSTED: ResourceExhausted,
    StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    StatusCode.ABORTED: Aborted,
    StatusCode.OUT_OF_RANGE: OutOfRange,
    StatusCode.UNIMPLEMENTED: Unimplemented,
    StatusCode.INTERNAL: Internal,
    StatusCode.UNAVAILABLE: Unavailable,
    StatusCode.DATA_LOSS: DataLoss,
    StatusCode.UNAUTHENTICATED: Unauthenticated,
}


def error_class(code: StatusCode) -> type[JobWireError]:
    """The exception class for a (non-OK) code."""
    return _BY_CODE.get(code, Unknown)


def error(code: StatusCode, reason: str, message: str, retry_after_ms: int = 0) -> JobWireError:
    """A new exception of the class that matches `code`."""
    return error_class(code)(code, reason, message, retry_after_ms)


def error_from_status(status: Status) -> JobWireError:
    """The exception for a non-OK :class:`Status`."""
    return error(status.code, status.reason, status.message, status.retry_after_ms)
