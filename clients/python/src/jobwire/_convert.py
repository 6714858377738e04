"""Conversions between the protobuf messages and the package's value types.

Decoding validates what Google's protobuf does not: enum fields must hold
defined values (``INVALID_ENUM_VALUE``; ``Status.code`` and ``CodeCount.code``
are read as UNKNOWN instead) and a required ``oneof`` must be set
(``MISSING_FIELD``).
"""
from __future__ import annotations

from typing import TypeVar

from google.protobuf.message import DecodeError, Message

from ._pb import jobwire_pb2 as pb
from .errors import InvalidArgument, Reason, Status, StatusCode, error_from_status
from .models import (BatchResult, ComponentHealth, ComponentState, ConfigureResult, EventKind, Health, Job,
                     JobAttempt, JobError, JobPage, JobResult, JobsEvent, JobsEventType, JobSpec, JobStatus, KeyUsage,
                     MethodStats, MethodUsage, ServerInfo, ServingStatus, Stats, StreamMetadata, Usage, WatchEvent)
from .webhooks import (DeliveryState, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookSecret,
                       WebhookStats)

M = TypeVar("M", bound=Message)
E = TypeVar("E", JobStatus, EventKind, JobsEventType, ServingStatus, ComponentState, DeliveryState)


def decode(message_type: type[M], data: bytes) -> M:
    """Parses `data` as `message_type`; a bad encoding is ``INVALID_ARGUMENT`` / ``MALFORMED_MESSAGE``."""
    try:
        return message_type.FromString(data)
    except DecodeError as failure:
        raise InvalidArgument(StatusCode.INVALID_ARGUMENT, Reason.MALFORMED_MESSAGE,
                              f"{message_type.DESCRIPTOR.name}: not a valid protobuf encoding ({failure})") from None


def _enum(kind: type[E], value: int, where: str) -> E:
    try:
        return kind(value)
    except ValueError:
        raise InvalidArgument(StatusCode.INVALID_ARGUMENT, Reason.INVALID_ENUM_VALUE,
                              f"{where}: {value} is not a defined value") from None


def status_from_pb(status: pb.Status) -> Status:
    return Status(StatusCode.from_wire(status.code), status.reason, status.message, status.retry_after_ms)


def job_from_pb(job: pb.Job) -> Job:
    return Job(
        job_id=job.job_id,
        tenant=job.tenant,
        type=job.type,
        labels=dict(job.labels),
        priority=job.priority,
        stream_url=job.stream_url,
        stream_port=job.stream_port,
        view_type=job.view_type,
        frequencies_list=tuple(job.frequencies_list),
        lines_dt=job.lines_dt,
        channel_to_stream_index=dict(job.channel_to_stream_index),
        stream_amount=job.stream_amount,
        frequencies_amount=job.frequencies_amount,
        channel_amount=job.channel_amount,
        metadata=StreamMetadata(job.metadata.dx, job.metadata.prr, job.metadata.fiber_start_meters,
                                job.metadata.fiber_length_meters, job.metadata.sw_version)
        if job.HasField("metadata") else None,
        status=_enum(JobStatus, job.status, "Job.status"),
        progress=job.progress,
        current_task=job.current_task,
        eta_seconds=job.eta_seconds if job.HasField("eta_seconds") else None,
        attempt=job.attempt,
        created_at_ms=job.created_at_ms,
        updated_at_ms=job.updated_at_ms,
        completed_at_ms=job.completed_at_ms,
        expires_at_ms=job.expires_at_ms,
        lease_expires_at_ms=job.lease_expires_at_ms,
        result=result_from_pb(job.result) if job.HasField("result") else None,
        error=job_error_from_pb(job.error) if job.HasField("error") else None,
        cancel_reason=job.cancel_reason,
        previous_attempts=tuple(attempt_from_pb(attempt) for attempt in job.previous_attempts),
        log_tail=tuple(job.log_tail),
        log_line_count=job.log_line_count,
        revision=job.revision,
    )


def job_error_from_pb(error: pb.JobError) -> JobError:
    return JobError(error.message, error.failed_task, error.retry_count, error.reason)


def attempt_from_pb(attempt: pb.JobAttempt) -> JobAttempt:
    return JobAttempt(attempt.attempt, _enum(JobStatus, attempt.status, "JobAttempt.status"),
                      job_error_from_pb(attempt.error) if attempt.HasField("error") else None,
                      attempt.cancel_reason, attempt.completed_at_ms)


def result_from_pb(result: pb.JobResult) -> JobResult:
    return JobResult(result.content_type, bytes(result.data))


def result_to_pb(result: JobResult) -> pb.JobResult:
    return pb.JobResult(content_type=result.content_type, data=result.data)


def job_error_to_pb(error: JobError) -> pb.JobError:
    return pb.JobError(message=error.message, failed_task=error.failed_task, retry_count=error.retry_count,
                       reason=error.reason)


def spec_to_pb(spec: JobSpec) -> pb.Job:
    job = pb.Job(
        type=spec.type, labels=dict(spec.labels), priority=spec.priority, stream_url=spec.stream_url,
        stream_port=spec.stream_port, view_type=spec.view_type, frequencies_list=spec.frequencies_list,
        lines_dt=spec.lines_dt, channel_to_stream_index=dict(spec.channel_to_stream_index),
        stream_amount=spec.stream_amount, frequencies_amount=spec.frequencies_amount,
        channel_amount=spec.channel_amount)
    if spec.metadata is not None:
        metadata = spec.metadata
        job.metadata.CopyFrom(pb.StreamMetadata(
            dx=metadata.dx, prr=metadata.prr, fiber_start_meters=metadata.fiber_start_meters,
            fiber_length_meters=metadata.fiber_length_meters, sw_version=metadata.sw_version))
    return job


def parse_job(data: bytes) -> Job:
    return job_from_pb(decode(pb.Job, data))


def parse_configure(data: bytes) -> ConfigureResult:
    response = decode(pb.ConfigureResponse, data)
    return ConfigureResult(job_from_pb(response.job), response.created)


def parse_batch(data: bytes) -> list[BatchResult]:
    results: list[BatchResult] = []
    for result in decode(pb.BatchGetMetadataResponse, data).results:
        outcome = result.WhichOneof("outcome")
        if outcome == "job":
            results.append(BatchResult(result.job_id, job=job_from_pb(result.job)))
        elif outcome == "error":
            results.append(BatchResult(result.job_id, error=error_from_status(status_from_pb(result.error))))
        else:
            raise InvalidArgument(StatusCode.INVALID_ARGUMENT, Reason.MISSING_FIELD,
                                  "BatchGetResult.outcome: neither job nor error is set")
    return results


def parse_page(data: bytes) -> JobPage:
    response = decode(pb.ListJobsResponse, data)
    return JobPage(tuple(job_from_pb(job) for job in response.jobs), response.next_page_token, response.total_count)


def parse_watch_event(data: bytes) -> WatchEvent:
    """One ``WatchEvent``; an UNSPECIFIED or unknown type is ``INVALID_ENUM_VALUE``."""
    event = decode(pb.WatchEvent, data)
    if event.type == pb.WATCH_EVENT_TYPE_UNSPECIFIED:
        raise InvalidArgument(StatusCode.INVALID_ARGUMENT, Reason.INVALID_ENUM_VALUE, "WatchEvent.type is unspecified")
    kind = _enum(EventKind, event.type, "WatchEvent.type")
    job = job_from_pb(event.job) if event.HasField("job") else None
    return WatchEvent(kind, event.revision, job, tuple(event.new_log_lines))


def parse_jobs_event(data: bytes) -> JobsEvent:
    """One ``JobsEvent``; an UNSPECIFIED or unknown type is ``INVALID_ENUM_VALUE``."""
    event = decode(pb.JobsEvent, data)
    if event.type == pb.JOBS_EVENT_TYPE_UNSPECIFIED:
        raise InvalidArgument(StatusCode.INVALID_ARGUMENT, Reason.INVALID_ENUM_VALUE, "JobsEvent.type is unspecified")
    kind = _enum(JobsEventType, event.type, "JobsEvent.type")
    return JobsEvent(kind, event.cursor, tuple(job_from_pb(job) for job in event.jobs), event.job_id)


def parse_delete(data: bytes) -> int:
    return decode(pb.DeleteJobResponse, data).revision


def parse_health(data: bytes) -> Health:
    response = decode(pb.HealthResponse, data)
    components = tuple(
        ComponentHealth(component.name, _enum(ComponentState, component.state, "ComponentHealth.state"),
                        component.message, dict(component.measures))
        for component in response.components)
    return Health(_enum(ServingStatus, response.status, "HealthResponse.status"), response.store,
                  response.store_state, response.server_version, response.uptime_ms, components)


def parse_stats(data: bytes) -> Stats:
    response = decode(pb.StatsResponse, data)
    jobs = {_enum(JobStatus, entry.status, "StatusCount.status"): entry.count for entry in response.jobs}
    methods = tuple(MethodStats(m.method, m.calls, m.errors, m.p50_us, m.p99_us, m.p999_us) for m in response.methods)
    webhooks = WebhookStats(response.webhook_pending_messages, response.webhook_oldest_pending_age_ms,
                            response.webhook_endpoints, response.webhook_failing_endpoints,
                            response.webhook_disabled_endpoints, response.webhook_skipped_messages)
    return Stats(jobs, response.connections, response.streams, methods, response.uptime_ms, response.total_jobs,
                 response.success_rate, response.average_run_time_ms, webhooks)


def _method_usage(usage: pb.MethodUsage) -> MethodUsage:
    # Codes are read as Status.code is: one this client does not know counts as UNKNOWN.
    errors: dict[StatusCode, int] = {}
    for entry in usage.errors:
        code = StatusCode.from_wire(entry.code)
        errors[code] = errors.get(code, 0) + entry.count
    return MethodUsage(usage.method, usage.calls, errors)


def parse_usage(data: bytes) -> Usage:
    response = decode(pb.UsageResponse, data)
    keys = tuple(KeyUsage(key.key_id, key.role, tuple(_method_usage(method) for method in key.methods),
                          key.rate_limited, key.bytes_in, key.bytes_out, key.last_used_at_ms)
                 for key in response.keys)
    return Usage(response.tenant, keys)


def webhook_endpoint_from_pb(endpoint: pb.WebhookEndpoint) -> WebhookEndpoint:
    return WebhookEndpoint(
        endpoint_id=endpoint.endpoint_id,
        url=endpoint.url,
        events=tuple(endpoint.events),
        labels=dict(endpoint.labels),
        created_at_ms=endpoint.created_at_ms,
        enabled=endpoint.enabled,
        disabled_at_ms=endpoint.disabled_at_ms,
        disabled_reason=endpoint.disabled_reason,
        failing_since_ms=endpoint.failing_since_ms,
        previous_secret_expires_at_ms=endpoint.previous_secret_expires_at_ms,
    )


def webhook_delivery_from_pb(delivery: pb.WebhookDelivery) -> WebhookDelivery:
    """One ``WebhookDelivery``; an UNSPECIFIED or unknown state is ``INVALID_ENUM_VALUE``."""
    attempts = tuple(WebhookAttempt(attempt.attempt, attempt.at_ms, attempt.http_status or None,
                                    attempt.latency_us / 1000, attempt.error)
                     for attempt in delivery.attempts)
    return WebhookDelivery(
        message_id=delivery.message_id,
        endpoint_id=delivery.endpoint_id,
        type=delivery.type,
        job_id=delivery.job_id,
        revision=delivery.revision,
        changed_at_ms=delivery.changed_at_ms,
        state=_enum(DeliveryState, delivery.state, "WebhookDelivery.state"),
        next_attempt_at_ms=delivery.next_attempt_at_ms,
        attempts=attempts,
    )


def parse_webhook_secret(data: bytes) -> WebhookSecret:
    response = decode(pb.WebhookSecretResponse, data)
    return WebhookSecret(webhook_endpoint_from_pb(response.endpoint), response.secret)


def parse_webhooks(data: bytes) -> list[WebhookEndpoint]:
    return [webhook_endpoint_from_pb(endpoint) for endpoint in decode(pb.ListWebhooksResponse, data).endpoints]


def parse_webhook(data: bytes) -> WebhookEndpoint:
    return webhook_endpoint_from_pb(decode(pb.WebhookEndpoint, data))


def parse_delete_webhook(data: bytes) -> None:
    decode(pb.DeleteWebhookResponse, data)


def parse_deliveries(data: bytes) -> list[WebhookDelivery]:
    return [webhook_delivery_from_pb(delivery)
            for delivery in decode(pb.ListWebhookDeliveriesResponse, data).deliveries]


def parse_delivery(data: bytes) -> WebhookDelivery:
    return webhook_delivery_from_pb(decode(pb.WebhookDelivery, data))


def server_info_from_pb(ack: pb.HelloAck) -> ServerInfo:
    return ServerInfo(ack.protocol_version, ack.server_name, ack.max_frame_bytes, ack.max_concurrent_streams,
                      ack.ping_interval_ms, ack.tenant, ack.role)

