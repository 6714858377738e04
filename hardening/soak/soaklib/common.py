"""Definitions every part of the soak shares: the lifecycle it checks against, its slacks and windows, error
classification, small helpers and the options a load process gets."""
from __future__ import annotations

import dataclasses
import re
import socket
import struct
import threading
import time
import traceback
from collections.abc import Callable
from typing import TypeVar

import jobwire
from jobwire import _rpc
from jobwire.errors import JobWireError, Reason, StatusCode
from jobwire.models import Job, JobStatus


T = TypeVar("T")


TERMINAL = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})

#: Every status a job may show later, given the status it had (docs/PROTOCOL.md, "The job model and lifecycle"),
#: transitively: acknowledgements and reads may skip intermediate states, but nothing may ever go back.
REACHABLE: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.PENDING: frozenset({JobStatus.PENDING, JobStatus.RUNNING, JobStatus.CANCELLING, JobStatus.COMPLETED,
                                  JobStatus.FAILED, JobStatus.CANCELLED}),
    JobStatus.RUNNING: frozenset({JobStatus.RUNNING, JobStatus.CANCELLING, JobStatus.COMPLETED, JobStatus.FAILED,
                                  JobStatus.CANCELLED}),
    JobStatus.CANCELLING: frozenset({JobStatus.CANCELLING, JobStatus.CANCELLED}),
    JobStatus.COMPLETED: frozenset({JobStatus.COMPLETED}),
    JobStatus.FAILED: frozenset({JobStatus.FAILED}),
    JobStatus.CANCELLED: frozenset({JobStatus.CANCELLED}),
}

#: A terminal job may still be served this long after its ``expires_at_ms`` (the reaper runs every second).
RETENTION_SLACK_MS = 3_000
#: ... and must not answer EXPIRED more than this long before it (the same clock, one machine).
EARLY_SLACK_MS = 1_000
#: How long after an injected fault a connection error is still blamed on it.
INJECTED_WINDOW_S = 3.0
#: How long after the restarted server is ready connection errors are still blamed on the SIGKILL.
KILL_WINDOW_AFTER_READY_S = 5.0
#: Per-call deadline of every client the soak uses: far above any latency on a healthy server.
CALL_TIMEOUT_S = 10.0
#: How long the descriptors get to come back to the baseline once every client is gone: jobwired's ping interval
#: (30 s, when a connection reset after an incomplete frame is finally closed) plus a margin.
FD_SETTLE_S = 45.0
#: The lease of leased jobs; their worker renews it with every update (a few times per second).
LEASE_S = 15.0

SHORT = {name: name.rsplit("/", 1)[1] for name in (_rpc.CONFIGURE, _rpc.GET_METADATA, _rpc.BATCH_GET_METADATA,
                                                   _rpc.LIST_JOBS, _rpc.WATCH_JOB, _rpc.CANCEL, _rpc.UPDATE_JOB,
                                                   _rpc.DELETE_JOB, _rpc.HEALTH, _rpc.STATS)}


def mono() -> float:
    """The monotonic clock: CLOCK_MONOTONIC is system-wide on Linux, so the load processes' times compare."""
    return time.monotonic()


def now_ms() -> int:
    """Wall-clock epoch milliseconds, the clock of the server's ``expires_at_ms`` (same machine)."""
    return int(time.time() * 1000)


def is_connection_error(error: JobWireError) -> bool:
    """An error that says "the connection or the server went away", never "the server said no".

    These are the only errors an injected fault may cause; each one is checked afterwards to fall inside the
    window of a fault the soak injected (the SIGKILL, or a reset of that very client's connection).
    """
    if error.code == StatusCode.UNAVAILABLE:
        return error.reason in (Reason.CONNECTION_LOST, Reason.NOT_PROCESSED)
    if error.code == StatusCode.DEADLINE_EXCEEDED:
        return error.reason in (Reason.CONNECT_FAILED, Reason.DEADLINE_EXCEEDED)
    return False


def code_reason(error: JobWireError) -> str:
    return f"{error.code.name}/{error.reason}"


def batch_outcome(result: jobwire.BatchResult) -> Job | JobWireError:
    """One BatchGetMetadata entry as what GetMetadata would have given: the job or its error."""
    if result.job is not None:
        return result.job
    assert result.error is not None, result
    return result.error


def violation_kind(text: str) -> str:
    """A violation's text without job ids and numbers: what the summary counts them by."""
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<job>", text)
    return re.sub(r"\d+", "N", text)[:110]


def start_guarded(bodies: list[tuple[str, Callable[[], None]]],
                  died: Callable[[str, str], None]) -> list[threading.Thread]:
    """Starts each body in a daemon thread of its name. A thread that dies of a bug in the soak fails the soak (not
    silently): `died(name, traceback)` reports it."""
    def guard(name: str, body: Callable[[], None]) -> None:
        try:
            body()
        except BaseException:
            died(name, traceback.format_exc())

    threads = []
    for name, body in bodies:
        thread = threading.Thread(target=guard, args=(name, body), name=name, daemon=True)
        thread.start()
        threads.append(thread)
    return threads


def rst_close(sock: socket.socket) -> None:
    """Closes `sock` with a TCP RST (SO_LINGER 0) instead of a FIN: the server sees "connection reset by peer"."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


@dataclasses.dataclass(frozen=True)
class Options:
    """What the coordinator hands each load process (picklable)."""

    port: int
    seed: int
    workers: int
    rate: float
    retention_ms: int
    expired_retention_ms: int
