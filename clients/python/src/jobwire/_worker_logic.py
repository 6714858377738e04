"""What a worker does at the end of its ``with`` block (shared by the sync and asyncio workers).

docs/PROTOCOL.md, "The job model and lifecycle": a worker takes the job from
PENDING to RUNNING, renews its lease with every UpdateJob, and ends it
COMPLETED, FAILED (with a ``JobError``) or — once a cancel was requested and
the job is CANCELLING — CANCELLED.
"""
from __future__ import annotations

import enum
import json
import re

from .errors import Aborted, FailedPrecondition, JobWireError, Reason
from .models import Job, JobError, JobResult, JobStatus

#: ``JobError.message`` may hold at most this many bytes (docs/PROTOCOL.md, "Validation and limits").
_MAX_MESSAGE_BYTES = 65_536


class JobCancelled(Exception):
    """Raised by ``check_cancelled()`` once a cancel was requested; the worker block reports CANCELLED."""


class ExitAction(enum.Enum):
    NOTHING = "nothing"
    COMPLETE = "complete"
    FAIL = "fail"
    ACKNOWLEDGE_CANCEL = "acknowledge_cancel"


def exit_action(finished: bool, cancel_requested: bool, exception: BaseException | None) -> ExitAction:
    """How a worker block ends the job: a finished job is left alone; a cancel wins over everything else."""
    if finished:
        return ExitAction.NOTHING
    if cancel_requested or isinstance(exception, JobCancelled):
        return ExitAction.ACKNOWLEDGE_CANCEL
    if exception is not None:
        return ExitAction.FAIL
    return ExitAction.COMPLETE


def upper_snake(name: str) -> str:
    """``ValueError`` -> ``VALUE_ERROR``, ``HTTPError`` -> ``HTTP_ERROR``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).upper()


def error_for_exception(exception: BaseException, task: str) -> JobError:
    """The ``JobError`` a worker reports for an exception: its text, the task, its class as the reason."""
    name = type(exception).__name__
    message = str(exception) or name
    encoded = message.encode("utf-8")
    if len(encoded) > _MAX_MESSAGE_BYTES:
        message = encoded[:_MAX_MESSAGE_BYTES].decode("utf-8", errors="ignore")
    return JobError(message=message, failed_task=task, reason=upper_snake(name))


def as_result(value: JobResult | bytes | str | dict[str, object] | list[object] | None,
              content_type: str | None) -> JobResult | None:
    """A ``JobResult`` from bytes (octet-stream), text (text/plain) or a JSON value (application/json)."""
    if value is None or isinstance(value, JobResult):
        return value
    if isinstance(value, bytes):
        return JobResult(content_type or "application/octet-stream", value)
    if isinstance(value, str):
        return JobResult(content_type or "text/plain; charset=utf-8", value.encode("utf-8"))
    return JobResult(content_type or "application/json", json.dumps(value, separators=(",", ":")).encode("utf-8"))


def newer(current: Job | None, candidate: Job) -> bool:
    """True when `candidate` is at least as recent as `current` (replies and watch events may cross)."""
    return current is None or candidate.revision >= current.revision


def cancel_requested(job: Job) -> bool:
    """The server asked the worker to stop (or the job was cancelled without it)."""
    return job.status in (JobStatus.CANCELLING, JobStatus.CANCELLED)


def claim_lost(error: JobWireError) -> bool:
    """A claim failed because another worker was first: the job moved on since it was seen PENDING.

    ``REVISION_MISMATCH`` when it changed at all (the usual race), or the
    transition the claim asked for is no longer allowed (``ILLEGAL_TRANSITION``,
    ``JOB_TERMINAL``) when the server checks that first. Anything else (a
    deleted job, a denied key, an unreachable server) is not about the race.
    """
    if isinstance(error, Aborted):
        return error.reason == Reason.REVISION_MISMATCH
    return isinstance(error, FailedPrecondition) and error.reason in (Reason.ILLEGAL_TRANSITION, Reason.JOB_TERMINAL)
