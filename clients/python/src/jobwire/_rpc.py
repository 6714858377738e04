"""Each RPC as data: its method name, encoded request, reply parser and whether it is safe to repeat.

The sync and asyncio clients both build their calls here, so each request is
encoded and each reply decoded in exactly one place.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Generic, TypeVar, cast

from google.protobuf.message import Message

from . import _convert
from ._pb import jobwire_pb2 as pb
from .errors import InvalidArgument, Reason, StatusCode
from .models import (BatchResult, ConfigureResult, Health, Job, JobError, JobOrder, JobPage, JobResult, JobSpec,
                     JobStatus, Stats, Usage)
from .webhooks import WebhookDelivery, WebhookEndpoint, WebhookSecret

T = TypeVar("T")

_SERVICE = pb.DESCRIPTOR.services_by_name["JobService"]


def method_name(name: str) -> str:
    """The full method name, ``/jobwire.v1.JobService/<name>``, from the generated descriptor."""
    return f"/{_SERVICE.full_name}/{_SERVICE.methods_by_name[name].name}"


CONFIGURE: Final = method_name("Configure")
GET_METADATA: Final = method_name("GetMetadata")
BATCH_GET_METADATA: Final = method_name("BatchGetMetadata")
LIST_JOBS: Final = method_name("ListJobs")
WATCH_JOB: Final = method_name("WatchJob")
CANCEL: Final = method_name("Cancel")
UPDATE_JOB: Final = method_name("UpdateJob")
DELETE_JOB: Final = method_name("DeleteJob")
HEALTH: Final = method_name("Health")
STATS: Final = method_name("Stats")
RETRY: Final = method_name("Retry")
SET_PRIORITY: Final = method_name("SetPriority")
USAGE: Final = method_name("Usage")
WATCH_JOBS: Final = method_name("WatchJobs")
CREATE_WEBHOOK: Final = method_name("CreateWebhook")
LIST_WEBHOOKS: Final = method_name("ListWebhooks")
GET_WEBHOOK: Final = method_name("GetWebhook")
DELETE_WEBHOOK: Final = method_name("DeleteWebhook")
ROTATE_WEBHOOK_SECRET: Final = method_name("RotateWebhookSecret")
LIST_WEBHOOK_DELIVERIES: Final = method_name("ListWebhookDeliveries")
REDELIVER_WEBHOOK: Final = method_name("RedeliverWebhook")


@dataclass(frozen=True)
class CallSpec(Generic[T]):
    """One unary call, ready to send."""

    method: str
    request: bytes
    parse: Callable[[bytes], T]
    #: Safe to send again after the connection dropped with the outcome unknown.
    idempotent: bool


def encode(build: Callable[[], Message]) -> bytes:
    """Builds and encodes a request; values protobuf refuses become ``INVALID_ARGUMENT``."""
    try:
        return build().SerializeToString()
    except UnicodeEncodeError as failure:
        raise InvalidArgument(StatusCode.INVALID_ARGUMENT, Reason.INVALID_UTF8,
                              f"a string is not valid UTF-8: {failure}") from None
    except ValueError as failure:
        raise InvalidArgument(StatusCode.INVALID_ARGUMENT, Reason.VALUE_OUT_OF_RANGE, str(failure)) from None


def milliseconds(seconds: float | None) -> int:
    """A duration for a ``uint32 *_ms`` field: whole milliseconds rounded up, at least 1; 0 for None."""
    if seconds is None:
        return 0
    return min(0xFFFF_FFFF, max(1, math.ceil(seconds * 1000)))


def _wire_status(status: JobStatus) -> pb.JobStatus:
    """The protobuf enum value of a status (the same number)."""
    return cast(pb.JobStatus, int(status))


def configure(spec: JobSpec, request_id: str, lease: float | None) -> CallSpec[ConfigureResult]:
    request = encode(lambda: pb.ConfigureRequest(request_id=request_id, job=_convert.spec_to_pb(spec),
                                                 lease_ttl_ms=milliseconds(lease)))
    # Without a request id a repeat would create a second job.
    return CallSpec(CONFIGURE, request, _convert.parse_configure, idempotent=bool(request_id))


def get_metadata(job_id: str, log_tail: int) -> CallSpec[Job]:
    request = encode(lambda: pb.GetMetadataRequest(job_id=job_id, log_tail=log_tail))
    return CallSpec(GET_METADATA, request, _convert.parse_job, idempotent=True)


def batch_get_metadata(job_ids: Sequence[str], log_tail: int) -> CallSpec[list[BatchResult]]:
    request = encode(lambda: pb.BatchGetMetadataRequest(job_ids=list(job_ids), log_tail=log_tail))
    return CallSpec(BATCH_GET_METADATA, request, _convert.parse_batch, idempotent=True)


@dataclass(frozen=True)
class ListFilter:
    """ListJobs' filters; a job is listed when it passes every one that is set."""

    statuses: tuple[JobStatus, ...] = ()
    type: str = ""
    labels: Mapping[str, str] | None = None
    created_after_ms: int = 0
    created_before_ms: int = 0
    priority: tuple[int, int] | None = None
    #: Text found, ignoring ASCII case, in the type, the current task or a label value, or a job id prefix.
    query: str = ""


@dataclass(frozen=True)
class ListOrder:
    """ListJobs' order: a page token is only valid with the filters and order of the page it came from."""

    by: JobOrder = JobOrder.CREATED
    #: Smallest first; by default the largest (newest, highest) comes first.
    ascending: bool = False


def _list_request(filters: ListFilter, page_size: int) -> pb.ListJobsRequest:
    """The filter fields of a ``ListJobsRequest``, which WatchJobs takes as its filter too."""
    request = pb.ListJobsRequest(
        statuses=[_wire_status(status) for status in filters.statuses], type=filters.type,
        labels=dict(filters.labels or {}), created_after_ms=filters.created_after_ms,
        created_before_ms=filters.created_before_ms, page_size=page_size, query=filters.query)
    if filters.priority is not None:
        request.priority.CopyFrom(pb.PriorityRange(min=filters.priority[0], max=filters.priority[1]))
    return request


def list_jobs(filters: ListFilter, order: ListOrder, page_size: int, page_token: str) -> CallSpec[JobPage]:
    def build() -> pb.ListJobsRequest:
        request = _list_request(filters, page_size)
        request.page_token = page_token
        request.order_by = cast(pb.JobOrder, int(order.by))
        request.ascending = order.ascending
        return request

    return CallSpec(LIST_JOBS, encode(build), _convert.parse_page, idempotent=True)


def watch_request(job_id: str, after_revision: int, log_tail: int) -> bytes:
    return encode(lambda: pb.WatchJobRequest(job_id=job_id, after_revision=after_revision, log_tail=log_tail))


def watch_jobs_request(filters: ListFilter, page_size: int, cursor: str) -> bytes:
    """A ``WatchJobsRequest``: the filter with no page token or order (the server refuses them), and the cursor."""
    return encode(lambda: pb.WatchJobsRequest(filter=_list_request(filters, page_size), cursor=cursor))


def cancel(job_id: str, reason: str) -> CallSpec[Job]:
    request = encode(lambda: pb.CancelRequest(job_id=job_id, reason=reason))
    return CallSpec(CANCEL, request, _convert.parse_job, idempotent=True)


@dataclass(frozen=True)
class Update:
    """The fields of one UpdateJob; None leaves a field as it is."""

    status: JobStatus | None = None
    progress: float | None = None
    current_task: str | None = None
    #: A negative value clears the ETA.
    eta_seconds: float | None = None
    log_lines: Iterable[str] = ()
    result: JobResult | None = None
    error: JobError | None = None
    #: Take or renew the worker lease for this many seconds; None renews it with its previous length.
    lease: float | None = None
    expected_revision: int = 0


def update(job_id: str, fields: Update) -> CallSpec[Job]:
    def build() -> pb.UpdateJobRequest:
        request = pb.UpdateJobRequest(job_id=job_id, log_lines=list(fields.log_lines),
                                      lease_ttl_ms=milliseconds(fields.lease),
                                      expected_revision=fields.expected_revision)
        if fields.status is not None:
            request.status = _wire_status(fields.status)
        if fields.progress is not None:
            request.progress = fields.progress
        if fields.current_task is not None:
            request.current_task = fields.current_task
        if fields.eta_seconds is not None:
            request.eta_seconds = fields.eta_seconds
        if fields.result is not None:
            request.result.CopyFrom(_convert.result_to_pb(fields.result))
        if fields.error is not None:
            request.error.CopyFrom(_convert.job_error_to_pb(fields.error))
        return request

    # Not idempotent: log lines would be appended twice.
    return CallSpec(UPDATE_JOB, encode(build), _convert.parse_job, idempotent=False)


def claim_update(revision: int, lease: float) -> Update:
    """The UpdateJob a worker of a pool claims a PENDING job with: RUNNING and a lease, only at `revision`.

    The revision is what makes it a claim: of several workers that saw the
    job at the same revision exactly one gets it, the others get ``ABORTED`` /
    ``REVISION_MISMATCH``. Without it the last one would silently win.
    """
    if revision <= 0:
        raise ValueError("revision must be the job's revision as seen when it was PENDING (at least 1)")
    if lease <= 0:
        raise ValueError("lease must be positive")
    return Update(status=JobStatus.RUNNING, lease=lease, expected_revision=revision)


def delete(job_id: str) -> CallSpec[int]:
    request = encode(lambda: pb.DeleteJobRequest(job_id=job_id))
    # A repeat after an unknown outcome may answer NOT_FOUND for a delete that worked.
    return CallSpec(DELETE_JOB, request, _convert.parse_delete, idempotent=False)


def health(detailed: bool) -> CallSpec[Health]:
    request = pb.HealthRequest(detailed=detailed).SerializeToString()
    return CallSpec(HEALTH, request, _convert.parse_health, idempotent=True)


def stats(tenant: str, created_after_ms: int, created_before_ms: int) -> CallSpec[Stats]:
    request = encode(lambda: pb.StatsRequest(tenant=tenant, created_after_ms=created_after_ms,
                                             created_before_ms=created_before_ms))
    return CallSpec(STATS, request, _convert.parse_stats, idempotent=True)


def retry(job_id: str, expected_revision: int) -> CallSpec[Job]:
    request = encode(lambda: pb.RetryRequest(job_id=job_id, expected_revision=expected_revision))
    # Not idempotent: a repeat of a retry that worked answers NOT_RETRYABLE, hiding the success (or, should the new
    # attempt have ended meanwhile, starts yet another).
    return CallSpec(RETRY, request, _convert.parse_job, idempotent=False)


def set_priority(job_id: str, priority: int, expected_revision: int) -> CallSpec[Job]:
    request = encode(lambda: pb.SetPriorityRequest(job_id=job_id, priority=priority,
                                                   expected_revision=expected_revision))
    # Setting the same priority twice is harmless, but a conditional one that worked would fail its repeat with
    # REVISION_MISMATCH, hiding the success.
    return CallSpec(SET_PRIORITY, request, _convert.parse_job, idempotent=expected_revision == 0)


def usage(tenant: str) -> CallSpec[Usage]:
    request = encode(lambda: pb.UsageRequest(tenant=tenant))
    return CallSpec(USAGE, request, _convert.parse_usage, idempotent=True)


# Webhooks (docs/WEBHOOKS.md).


def create_webhook(url: str, events: Iterable[str], labels: Mapping[str, str] | None) -> CallSpec[WebhookSecret]:
    request = encode(lambda: pb.CreateWebhookRequest(url=url, events=list(events), labels=dict(labels or {})))
    # Not idempotent: a repeat would create a second endpoint, with another secret.
    return CallSpec(CREATE_WEBHOOK, request, _convert.parse_webhook_secret, idempotent=False)


def list_webhooks() -> CallSpec[list[WebhookEndpoint]]:
    request = pb.ListWebhooksRequest().SerializeToString()
    return CallSpec(LIST_WEBHOOKS, request, _convert.parse_webhooks, idempotent=True)


def get_webhook(endpoint_id: str) -> CallSpec[WebhookEndpoint]:
    request = encode(lambda: pb.GetWebhookRequest(endpoint_id=endpoint_id))
    return CallSpec(GET_WEBHOOK, request, _convert.parse_webhook, idempotent=True)


def delete_webhook(endpoint_id: str) -> CallSpec[None]:
    request = encode(lambda: pb.DeleteWebhookRequest(endpoint_id=endpoint_id))
    # A repeat after an unknown outcome may answer WEBHOOK_NOT_FOUND for a delete that worked.
    return CallSpec(DELETE_WEBHOOK, request, _convert.parse_delete_webhook, idempotent=False)


def overlap_milliseconds(seconds: float) -> int:
    """RotateWebhookSecret's ``overlap_ms``: 0 stays 0 (stop the old secret at once), else whole ms rounded up."""
    if not math.isfinite(seconds) or seconds < 0:
        raise InvalidArgument(StatusCode.INVALID_ARGUMENT, Reason.VALUE_OUT_OF_RANGE,
                              f"overlap must be 0 or more seconds, not {seconds}")
    return math.ceil(seconds * 1000)


def rotate_webhook_secret(endpoint_id: str, overlap: float | None) -> CallSpec[WebhookSecret]:
    def build() -> pb.RotateWebhookSecretRequest:
        request = pb.RotateWebhookSecretRequest(endpoint_id=endpoint_id)
        if overlap is not None:  # unset: the server's default (24 hours)
            request.overlap_ms = overlap_milliseconds(overlap)
        return request

    # Not idempotent: a repeat makes yet another secret, and the one answered first stops being valid.
    return CallSpec(ROTATE_WEBHOOK_SECRET, encode(build), _convert.parse_webhook_secret, idempotent=False)


def webhook_deliveries(endpoint_id: str, limit: int) -> CallSpec[list[WebhookDelivery]]:
    request = encode(lambda: pb.ListWebhookDeliveriesRequest(endpoint_id=endpoint_id, limit=limit))
    return CallSpec(LIST_WEBHOOK_DELIVERIES, request, _convert.parse_deliveries, idempotent=True)


def redeliver_webhook(message_id: str, endpoint_id: str) -> CallSpec[WebhookDelivery]:
    request = encode(lambda: pb.RedeliverWebhookRequest(message_id=message_id, endpoint_id=endpoint_id))
    # Not idempotent: a repeat would send the message once more (or fail with DELIVERY_PENDING, hiding the success).
    return CallSpec(REDELIVER_WEBHOOK, request, _convert.parse_delivery, idempotent=False)
