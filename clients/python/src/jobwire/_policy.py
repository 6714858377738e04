"""Deadlines, backoff and the retry rules shared by the sync and asyncio clients (and, rule for rule, by the Swift
client's ``RetryPolicy``; docs/PROTOCOL.md, "What a client retries").

Retries (docs/PROTOCOL.md, "Draining" and "Calls and streams"):

- a call the server never processed (above a GoAway's ``last_stream_id``, or
  refused with ``SERVER_SHUTTING_DOWN`` while draining) is always sent again
  on a new connection;
- a call whose connection dropped before its ``End`` is sent again only when
  it is idempotent (reads, Cancel, Health, Stats, Usage, Configure with a
  request id, SetPriority without an expected revision); UpdateJob, DeleteJob
  and Retry raise ``UNAVAILABLE`` / ``CONNECTION_LOST`` since they may have
  been applied;
- ``RATE_LIMITED`` (refused before anything was done) is retried after
  ``retry_after`` when the client allows it and the deadline leaves room.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Final

from .errors import DeadlineExceeded, JobWireError, Reason, StatusCode

#: How long past a call's deadline the client waits for the server's own DEADLINE_EXCEEDED.
LOCAL_GRACE: Final = 0.1


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter between reconnection attempts (gRPC's defaults)."""

    #: Seconds before the first retry.
    initial: float = 1.0
    #: Each later delay is this many times the one before.
    multiplier: float = 1.6
    #: Fraction of each delay added or removed at random (0.2 = ±20 %).
    jitter: float = 0.2
    #: No delay is longer than this many seconds.
    maximum: float = 120.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number `attempt` (0 is the first)."""
        base = min(self.initial * self.multiplier ** attempt, self.maximum)
        return max(0.0, base + random.uniform(-1.0, 1.0) * base * self.jitter)


class Deadline:
    """An absolute point on the monotonic clock, or none."""

    def __init__(self, timeout: float | None) -> None:
        self.at: float | None = None if timeout is None else time.monotonic() + timeout

    def remaining(self) -> float | None:
        """Seconds left (may be negative), or None without a deadline."""
        return None if self.at is None else self.at - time.monotonic()

    def expired(self) -> bool:
        remaining = self.remaining()
        return remaining is not None and remaining <= 0

    def timeout_ms(self) -> int:
        """What ``Call.timeout_ms`` carries: the time left, rounded up, at least 1; 0 without a deadline."""
        remaining = self.remaining()
        if remaining is None:
            return 0
        return min(0xFFFF_FFFF, max(1, int(remaining * 1000 + 0.999)))

    def local_wait(self) -> float | None:
        """How long to wait for the server's answer before giving up locally."""
        remaining = self.remaining()
        return None if remaining is None else max(0.0, remaining + LOCAL_GRACE)

    def bound(self, seconds: float) -> float:
        """`seconds`, cut to the time left."""
        remaining = self.remaining()
        return seconds if remaining is None else max(0.0, min(seconds, remaining))


def deadline_exceeded(method: str) -> DeadlineExceeded:
    return DeadlineExceeded(StatusCode.DEADLINE_EXCEEDED, Reason.DEADLINE_EXCEEDED,
                            f"{method} did not finish before its deadline")


def connect_failure_is_final(error: JobWireError) -> bool:
    """A handshake refusal that another attempt would not change (bad key, version, protocol, limits)."""
    return error.code not in (StatusCode.UNAVAILABLE, StatusCode.DEADLINE_EXCEEDED)


def not_processed(error: JobWireError) -> bool:
    """The server never processed the call: sending it again is always safe."""
    return error.code == StatusCode.UNAVAILABLE and error.reason in (Reason.NOT_PROCESSED, Reason.SERVER_SHUTTING_DOWN)


def unary_retry_delay(error: JobWireError, *, idempotent: bool, attempt: int, backoff: Backoff,
                      retry_rate_limited: bool, deadline: Deadline) -> float | None:
    """Seconds to wait before sending the call again, or None to raise `error`."""
    if not_processed(error) or (error.reason == Reason.CONNECTION_LOST and idempotent):
        delay = 0.0 if attempt == 0 else backoff.delay(attempt - 1)
    elif retry_rate_limited and error.reason == Reason.RATE_LIMITED and error.retry_after is not None:
        delay = error.retry_after
    else:
        return None
    remaining = deadline.remaining()
    if remaining is not None and delay >= remaining:
        return None
    return delay


def watch_end_is_retryable(error: JobWireError) -> bool:
    """A watch that ended this way resumes on a (new) connection: drains, drops, restarts, and the limits a
    crowd of clients reconnecting after a restart meets (rate, streams, connections)."""
    if error.code == StatusCode.UNAVAILABLE:
        return True
    return error.code == StatusCode.RESOURCE_EXHAUSTED and error.reason in (Reason.RATE_LIMITED,
                                                                            Reason.TOO_MANY_STREAMS,
                                                                            Reason.TOO_MANY_CONNECTIONS)


class ServerRotation:
    """Which of several nodes serving the same jobs to connect to next (docs/OPERATIONS.md, "Several nodes").

    The client stays on the node that answered last; when it cannot be reached the next one is tried at once, and
    the client backs off only once every address has failed in a row (as the Swift client's ConnectionManager).
    """

    def __init__(self, servers: list[tuple[str, int]]) -> None:
        self.servers = servers
        self._index = 0
        self._failures_this_round = 0

    @property
    def current(self) -> tuple[str, int]:
        return self.servers[self._index]

    def describe(self) -> str:
        return " or ".join(f"[{host}]:{port}" if ":" in host else f"{host}:{port}" for host, port in self.servers)

    def failed(self) -> bool:
        """Moves to the next node; True when every node failed in a row (time to back off)."""
        self._index = (self._index + 1) % len(self.servers)
        self._failures_this_round += 1
        if self._failures_this_round < len(self.servers):
            return False
        self._failures_this_round = 0
        return True

    def connected(self) -> None:
        self._failures_this_round = 0
