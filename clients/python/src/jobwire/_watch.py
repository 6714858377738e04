"""What a watch remembers across reconnections (shared by the sync and asyncio clients).

docs/PROTOCOL.md, "WatchJob": to resume after a dropped connection, watch
again with ``after_revision`` = the last revision received. This state keeps
that revision, drops events at or below it (no duplicate), and passes a
RESYNC through as it is: the server no longer had the history, the job in it
replaces the caller's state. WatchJobs resumes the same way from a cursor
(``_jobs_watch``); both streams take any :class:`ResumeState`.
"""
from __future__ import annotations

import time
from typing import Final, Protocol, TypeVar

from . import _rpc
from ._convert import parse_watch_event
from ._policy import Backoff, watch_end_is_retryable
from .errors import JobWireError, Reason
from .models import EventKind, WatchEvent

E_co = TypeVar("E_co", covariant=True)


class ResumeState(Protocol[E_co]):
    """What a reconnecting stream needs from a watch: the method, the request of the next attempt (resuming after
    what was delivered) and the event to deliver for each reply."""

    @property
    def method(self) -> str: ...

    def request(self) -> bytes: ...

    def on_reply(self, message: bytes) -> E_co | None: ...


class WatchState:
    """The resume point of one watch and the filtering of its events."""

    method: Final = _rpc.WATCH_JOB

    def __init__(self, job_id: str, after_revision: int, log_tail: int, include_bookmarks: bool) -> None:
        self.job_id = job_id
        self.last_revision = after_revision
        self.log_tail = log_tail
        self.include_bookmarks = include_bookmarks

    def request(self) -> bytes:
        """The ``WatchJobRequest`` of the next attempt: resume after the last revision delivered."""
        return _rpc.watch_request(self.job_id, self.last_revision, self.log_tail)

    def on_reply(self, message: bytes) -> WatchEvent | None:
        """The event to deliver for one ``Reply``, or None for a duplicate (or a bookmark nobody asked for)."""
        event = parse_watch_event(message)
        if event.kind is EventKind.BOOKMARK:
            # "Nothing changed up to here": a point to resume from.
            self.last_revision = max(self.last_revision, event.revision)
            return event if self.include_bookmarks else None
        if event.kind is EventKind.CHANGE and event.revision <= self.last_revision:
            return None
        self.last_revision = event.revision
        return event


class Reconnects:
    """When a watch tries again: backoff between attempts, bounded by the caller's reconnect window.

    The first attempt after a watch that was delivering events waits only
    ``first_pause``; later ones follow ``backoff``. Once ``reconnect_timeout``
    seconds have passed without a delivered event, the next failure is raised.
    """

    def __init__(self, backoff: Backoff, reconnect_timeout: float | None, first_pause: float = 0.05) -> None:
        self._backoff = backoff
        self._reconnect_timeout = reconnect_timeout
        self._first_pause = first_pause
        self._failed_since: float | None = None
        self._attempt = 0

    def bound(self, seconds: float) -> float:
        """`seconds`, cut to what is left of the reconnect window (when one is running)."""
        if self._reconnect_timeout is None or self._failed_since is None:
            return seconds
        left = self._reconnect_timeout - (time.monotonic() - self._failed_since)
        return max(0.0, min(seconds, left))

    def delivered(self) -> None:
        """An event got through: the watch is healthy again."""
        self._failed_since = None
        self._attempt = 0

    def delay(self, error: JobWireError) -> float:
        """Seconds to wait before the next attempt after `error`; raises `error` when the window is over."""
        now = time.monotonic()
        if self._failed_since is None:
            self._failed_since = now
        window_left: float | None = None
        if self._reconnect_timeout is not None:
            window_left = self._reconnect_timeout - (now - self._failed_since)
            if window_left <= 0:
                raise error
        if error.reason == Reason.CONNECT_FAILED:
            delay = 0.0  # the connection manager has already waited with its own backoff
        else:
            delay = self._first_pause if self._attempt == 0 else self._backoff.delay(self._attempt - 1)
            if error.reason == Reason.RATE_LIMITED and error.retry_after is not None:
                delay = max(delay, error.retry_after)
        self._attempt += 1
        return delay if window_left is None else min(delay, window_left)


def retryable(error: JobWireError) -> bool:
    """Whether a watch tries again after `error` (ended, or could not be opened)."""
    return watch_end_is_retryable(error) or error.reason == Reason.CONNECT_FAILED
