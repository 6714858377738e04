"""The value types the client returns and takes: jobs, events, pages, health, stats, usage.

They are plain frozen dataclasses, independent of the protobuf classes
(which stay inside the package). Times are Unix epoch milliseconds, 0 meaning
"not set", exactly as on the wire; :meth:`Job.to_dict` gives the JSON shape
of ``jobwire get --json``. The webhook calls' types are in :mod:`jobwire.webhooks`.
"""
from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import JobWireError, StatusCode
from .webhooks import WebhookStats


class JobStatus(enum.IntEnum):
    """Where a job is in its life (``jobwire.v1.JobStatus``)."""

    UNSPECIFIED = 0
    PENDING = 1
    RUNNING = 2
    CANCELLING = 3
    COMPLETED = 4
    FAILED = 5
    CANCELLED = 6

    @property
    def is_terminal(self) -> bool:
        """COMPLETED, FAILED and CANCELLED never change again."""
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


class EventKind(enum.IntEnum):
    """What a :class:`WatchEvent` means (``jobwire.v1.WatchEventType``)."""

    #: The job's current state: the first event of a watch that did not resume.
    SNAPSHOT = 1
    #: The job changed; ``job`` is its state after the change.
    CHANGE = 2
    #: The resume point is no longer in the server's history: ``job`` is the
    #: full current state and the changes in between were missed.
    RESYNC = 3
    #: Nothing changed; ``revision`` is a point to resume from. ``job`` is None.
    BOOKMARK = 4


class JobsEventType(enum.IntEnum):
    """What a :class:`JobsEvent` of ``watch_jobs`` means (``jobwire.v1.JobsEventType``).

    Together they keep a copy of the matching jobs exact: :class:`~jobwire.JobsView`
    applies them.
    """

    #: ``jobs`` holds up to ``page_size`` matching jobs as they are: the first
    #: events of a watch without a cursor, and the ones after a RESYNC.
    SNAPSHOT = 1
    #: The snapshot, or the catch-up after a resume, is complete: from here on
    #: every event is a live change. ``jobs`` is empty.
    SYNCED = 2
    #: A job now matches that did not before (created, or changed into the filter); ``jobs`` holds it.
    ENTERED = 3
    #: A matching job changed and still matches; ``jobs`` holds its new state. After a resume, every job that
    #: changed meanwhile and matches comes as CHANGED, held or not.
    CHANGED = 4
    #: A job no longer matches: ``jobs`` holds its new state when it changed out of
    #: the filter, and is empty when it was deleted or expired. After a resume it
    #: may name a job the caller never held: drop it if held.
    LEFT = 5
    #: The cursor could not be resumed from: forget every job held; a snapshot follows.
    RESYNC = 6
    #: Nothing changed for a while; ``cursor`` is a point to resume from.
    BOOKMARK = 7


class JobOrder(enum.IntEnum):
    """The order ``list_jobs`` returns jobs in (``jobwire.v1.JobOrder``); ties go by creation order."""

    #: By creation time (the default: newest first).
    CREATED = 0
    #: By the time of the last change.
    UPDATED = 1
    #: By priority.
    PRIORITY = 2


class ComponentState(enum.IntEnum):
    """The state of one part of the server in a detailed health report (``jobwire.v1.ComponentState``)."""

    UNSPECIFIED = 0
    #: Working.
    OK = 1
    #: Working, but needs attention soon (e.g. little free disk space).
    WARNING = 2
    #: Not working: the server is NOT_SERVING because of it.
    FAILING = 3


class ServingStatus(enum.IntEnum):
    """The server's serving state (``jobwire.v1.ServingStatus``)."""

    UNSPECIFIED = 0
    SERVING = 1
    NOT_SERVING = 2
    DRAINING = 3


@dataclass(frozen=True)
class StreamMetadata:
    """The stream's physical description, as the streaming servers report it."""

    dx: float = 0.0
    prr: float = 0.0
    fiber_start_meters: float = 0.0
    fiber_length_meters: float = 0.0
    sw_version: str = ""


@dataclass(frozen=True)
class JobResult:
    """The output of a COMPLETED job: bytes with a media type (at most 1 MiB)."""

    content_type: str = ""
    data: bytes = b""


@dataclass(frozen=True)
class JobError:
    """What went wrong with a FAILED job (a value, not an exception).

    ``reason`` is ``LEASE_EXPIRED`` when the server failed the job because its
    worker stopped renewing the lease; workers may set their own
    UPPER_SNAKE_CASE reasons.
    """

    message: str = ""
    failed_task: str = ""
    retry_count: int = 0
    reason: str = ""


@dataclass(frozen=True)
class JobAttempt:
    """How an earlier attempt of a retried job ended, kept in ``Job.previous_attempts``.

    A retry clears the job's ``error`` and ``cancel_reason``; this is where
    they stay readable. ``status`` is FAILED (with ``error``) or CANCELLED
    (with ``cancel_reason``); ``completed_at_ms`` is when that attempt ended.
    """

    attempt: int = 0
    status: JobStatus = JobStatus.UNSPECIFIED
    error: JobError | None = None
    cancel_reason: str = ""
    completed_at_ms: int = 0


@dataclass(frozen=True)
class JobSpec:
    """The fields a creator sets in ``configure``; everything else is the server's."""

    type: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    priority: int = 0
    stream_url: str = ""
    #: 0 with a server that has a stream port pool: the server allocates one.
    stream_port: int = 0
    view_type: int = 0
    frequencies_list: tuple[float, ...] = ()
    lines_dt: float = 0.0
    channel_to_stream_index: Mapping[int, int] = field(default_factory=dict)
    stream_amount: int = 0
    frequencies_amount: int = 0
    channel_amount: int = 0
    metadata: StreamMetadata | None = None


@dataclass(frozen=True)
class Job:
    """One job, every field of ``jobwire.v1.Job`` (see the ``.proto`` for each).

    ``eta_seconds``, ``metadata``, ``result`` and ``error`` are None when the
    server did not send them; times are epoch milliseconds, 0 when not set.
    ``attempt`` counts from 1 and grows with each ``retry``, whose earlier
    attempts are in ``previous_attempts`` (oldest first, the last 16).
    """

    job_id: str = ""
    tenant: str = ""
    type: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    priority: int = 0
    stream_url: str = ""
    stream_port: int = 0
    view_type: int = 0
    frequencies_list: tuple[float, ...] = ()
    lines_dt: float = 0.0
    channel_to_stream_index: Mapping[int, int] = field(default_factory=dict)
    stream_amount: int = 0
    frequencies_amount: int = 0
    channel_amount: int = 0
    metadata: StreamMetadata | None = None
    status: JobStatus = JobStatus.UNSPECIFIED
    progress: float = 0.0
    current_task: str = ""
    eta_seconds: float | None = None
    attempt: int = 0
    created_at_ms: int = 0
    updated_at_ms: int = 0
    completed_at_ms: int = 0
    expires_at_ms: int = 0
    lease_expires_at_ms: int = 0
    result: JobResult | None = None
    error: JobError | None = None
    cancel_reason: str = ""
    previous_attempts: tuple[JobAttempt, ...] = ()
    log_tail: tuple[str, ...] = ()
    log_line_count: int = 0
    revision: int = 0

    @property
    def is_terminal(self) -> bool:
        """True once the job is COMPLETED, FAILED or CANCELLED."""
        return self.status.is_terminal

    def to_dict(self) -> dict[str, Any]:
        """The job as ``jobwire get --json`` prints it (the REST services' shape).

        snake_case keys, lower-case status (None for UNSPECIFIED), channel map
        keys as strings, ISO 8601 UTC times with milliseconds or None, JSON
        results embedded, other text results as a string, anything else as
        ``data_base64``; ``previous_attempts`` as a list of objects in the same
        conventions. ``json.dumps(job.to_dict())`` is that JSON.
        """
        from ._json import job_to_dict

        return job_to_dict(self)

    def to_spec(self) -> JobSpec:
        """The creator-settable part of this job, e.g. to configure a copy of it."""
        return JobSpec(
            type=self.type, labels=dict(self.labels), priority=self.priority, stream_url=self.stream_url,
            stream_port=self.stream_port, view_type=self.view_type, frequencies_list=self.frequencies_list,
            lines_dt=self.lines_dt, channel_to_stream_index=dict(self.channel_to_stream_index),
            stream_amount=self.stream_amount, frequencies_amount=self.frequencies_amount,
            channel_amount=self.channel_amount, metadata=self.metadata)


@dataclass(frozen=True)
class ConfigureResult:
    """Configure's answer: the job, and whether this call created it (False: a replayed request id)."""

    job: Job
    created: bool


@dataclass(frozen=True)
class BatchResult:
    """One answer of ``batch_get_metadata``: the job, or the error GetMetadata would have raised."""

    job_id: str
    job: Job | None = None
    error: JobWireError | None = None


@dataclass(frozen=True)
class JobPage:
    """One page of ``list_page``: jobs in the order asked for, the next page's token ("" on the last), the total."""

    jobs: tuple[Job, ...]
    next_page_token: str
    total_count: int


@dataclass(frozen=True)
class WatchEvent:
    """One event of a watched job.

    ``revision`` is the job's revision after the event (what a watch resumes
    from); ``job`` is None only for BOOKMARK; ``new_log_lines`` are the lines
    the worker appended in this change.
    """

    kind: EventKind
    revision: int
    job: Job | None = None
    new_log_lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class JobsEvent:
    """One event of ``watch_jobs``: a page of the snapshot, or one job entering, changing in or leaving the filter.

    ``cursor`` is where the event leaves the stream: pass the one of the last
    event processed as ``watch_jobs(cursor=…)`` to continue after it (the
    watch does so itself when it reconnects). ``job_id`` names the job of an
    ENTERED, CHANGED or LEFT event ("" otherwise); ``jobs`` carries no log lines.
    """

    type: JobsEventType
    cursor: str
    jobs: tuple[Job, ...] = ()
    job_id: str = ""


@dataclass(frozen=True)
class ComponentHealth:
    """One part of the server (``store``, ``disk``, ``event_loops``, …) in ``health(detailed=True)``.

    ``message`` says what is wrong, for people ("" when all is well);
    ``measures`` are its measurements by name (docs/PROTOCOL.md lists them
    with their units), e.g. ``free_bytes``.
    """

    name: str
    state: ComponentState
    message: str = ""
    measures: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Health:
    """The server's serving status, store and version; each component with ``detailed=True``, else ()."""

    status: ServingStatus
    store: str
    store_state: str
    server_version: str
    uptime_ms: int
    components: tuple[ComponentHealth, ...] = ()


@dataclass(frozen=True)
class MethodStats:
    """Calls, errors and latency percentiles (microseconds) of one method."""

    method: str
    calls: int
    errors: int
    p50_us: int
    p99_us: int
    p999_us: int


@dataclass(frozen=True)
class Stats:
    """A tenant's jobs in numbers, its webhook outbox, and operator counters.

    The job figures (``jobs`` by status, ``total_jobs``, ``success_rate``,
    ``average_run_time_ms``) cover the jobs created in the range asked for;
    ``webhooks`` covers the tenant's webhook outbox whatever the range;
    ``connections``, ``streams`` and ``methods`` are server-wide and filled for
    admin keys only.
    """

    jobs: Mapping[JobStatus, int]
    connections: int
    streams: int
    methods: tuple[MethodStats, ...]
    uptime_ms: int
    total_jobs: int = 0
    #: COMPLETED / (COMPLETED + FAILED + CANCELLED), from 0 to 1; 0 when none finished.
    success_rate: float = 0.0
    #: Mean time from creation to completion of the COMPLETED jobs; 0 when none completed.
    average_run_time_ms: float = 0.0
    #: The tenant's webhook outbox: pending messages, endpoints failing or disabled (docs/WEBHOOKS.md).
    webhooks: WebhookStats = field(default_factory=WebhookStats)


@dataclass(frozen=True)
class MethodUsage:
    """One key's calls of one method: how many ended, and how many of those failed, by code (OK not listed)."""

    method: str
    calls: int
    errors: Mapping[StatusCode, int] = field(default_factory=dict)


@dataclass(frozen=True)
class KeyUsage:
    """What one API key did since the server started: calls by method, rate-limit refusals, frame bytes.

    ``key_id`` is the key's public part (``development`` on a server without
    keys); ``last_used_at_ms`` is 0 when it made no call.
    """

    key_id: str
    role: str
    methods: tuple[MethodUsage, ...]
    rate_limited: int
    bytes_in: int
    bytes_out: int
    last_used_at_ms: int


@dataclass(frozen=True)
class Usage:
    """``usage``'s answer: each key of the tenant that connected since the server started, by key id."""

    tenant: str
    keys: tuple[KeyUsage, ...]


@dataclass(frozen=True)
class ServerInfo:
    """The server's HelloAck: its name, the connection's limits, and who the key says the caller is."""

    protocol_version: int
    server_name: str
    max_frame_bytes: int
    max_concurrent_streams: int
    ping_interval_ms: int
    tenant: str
    role: str
