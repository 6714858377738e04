"""The JSON shape of a job, identical to ``jobwire get --json`` (Sources/jobwire/JobJSON.swift)."""
from __future__ import annotations

import base64
import datetime
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models import Job, JobAttempt, JobError, JobResult, JobStatus, StreamMetadata

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def iso8601(milliseconds: int) -> str:
    """ISO 8601 in UTC with exactly three fractional digits, e.g. ``2026-11-22T21:00:00.123Z``."""
    moment = _EPOCH + datetime.timedelta(milliseconds=milliseconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{moment.microsecond // 1000:03d}Z"


def time_or_none(milliseconds: int) -> str | None:
    """None for 0 ("not set"), else :func:`iso8601`."""
    return None if milliseconds == 0 else iso8601(milliseconds)


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; the CLI's parser refuses them too.
    raise ValueError(f"{name} is not JSON")


def result_to_dict(result: JobResult) -> dict[str, Any]:
    """JSON results embedded as JSON; other UTF-8 text as a string; anything else as base64."""
    if "json" in result.content_type:
        try:
            value = json.loads(result.data, parse_constant=_reject_constant)
        except ValueError:
            pass
        else:
            return {"content_type": result.content_type, "data": value}
    try:
        text = result.data.decode("utf-8")
    except UnicodeDecodeError:
        return {"content_type": result.content_type, "data_base64": base64.b64encode(result.data).decode("ascii")}
    return {"content_type": result.content_type, "data": text}


def error_to_dict(error: JobError) -> dict[str, Any]:
    return {"message": error.message, "failed_task": error.failed_task, "retry_count": error.retry_count,
            "reason": error.reason}


def metadata_to_dict(metadata: StreamMetadata) -> dict[str, Any]:
    return {"dx": metadata.dx, "prr": metadata.prr, "fiber_start_meters": metadata.fiber_start_meters,
            "fiber_length_meters": metadata.fiber_length_meters, "sw_version": metadata.sw_version}


def status_name(status: JobStatus) -> str | None:
    """Lower case, e.g. ``failed``; None for UNSPECIFIED (never sent by the server)."""
    from .models import JobStatus

    return None if status == JobStatus.UNSPECIFIED else status.name.lower()


def attempt_to_dict(attempt: JobAttempt) -> dict[str, Any]:
    return {"attempt": attempt.attempt, "status": status_name(attempt.status),
            "error": None if attempt.error is None else error_to_dict(attempt.error),
            "cancel_reason": attempt.cancel_reason, "completed_at": time_or_none(attempt.completed_at_ms)}


def job_to_dict(job: Job) -> dict[str, Any]:
    """See :meth:`jobwire.Job.to_dict`."""
    return {
        "job_id": job.job_id,
        "tenant": job.tenant,
        "status": status_name(job.status),
        "type": job.type,
        "labels": dict(job.labels),
        "priority": job.priority,
        "stream_url": job.stream_url,
        "stream_port": job.stream_port,
        "view_type": job.view_type,
        "frequencies_list": list(job.frequencies_list),
        "lines_dt": job.lines_dt,
        "channel_to_stream_index": {str(channel): index for channel, index in job.channel_to_stream_index.items()},
        "stream_amount": job.stream_amount,
        "frequencies_amount": job.frequencies_amount,
        "channel_amount": job.channel_amount,
        "metadata": None if job.metadata is None else metadata_to_dict(job.metadata),
        "progress": job.progress,
        "current_task": job.current_task,
        "eta_seconds": job.eta_seconds,
        "attempt": job.attempt,
        "created_at": time_or_none(job.created_at_ms),
        "updated_at": time_or_none(job.updated_at_ms),
        "completed_at": time_or_none(job.completed_at_ms),
        "expires_at": time_or_none(job.expires_at_ms),
        "lease_expires_at": time_or_none(job.lease_expires_at_ms),
        "revision": job.revision,
        "result": None if job.result is None else result_to_dict(job.result),
        "error": None if job.error is None else error_to_dict(job.error),
        "cancel_reason": job.cancel_reason,
        "previous_attempts": [attempt_to_dict(attempt) for attempt in job.previous_attempts],
        "log_tail": list(job.log_tail),
        "log_line_count": job.log_line_count,
    }
