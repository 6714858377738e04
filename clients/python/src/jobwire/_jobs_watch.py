"""What a watch of many jobs remembers across reconnections (shared by the sync and asyncio clients).

docs/PROTOCOL.md, "WatchJobs": every event carries an opaque cursor, and a
call that sends back the cursor of the last event processed continues right
after it (the changes since then as CHANGED or LEFT, then SYNCED), or starts
with RESYNC and a new snapshot when the server cannot resume from it. So this
state only keeps the cursor of the last event delivered: a reconnection
resumes from there, and never repeats an event the caller has seen. Unlike a
revision, a cursor cannot be compared, so there is nothing to filter here;
the server guarantees no duplicate.
"""
from __future__ import annotations

from typing import Final

from . import _rpc
from ._convert import parse_jobs_event
from ._rpc import ListFilter
from .models import JobsEvent


class JobsWatchState:
    """The filter and the resume point of one ``watch_jobs``."""

    method: Final = _rpc.WATCH_JOBS

    def __init__(self, filters: ListFilter, page_size: int, cursor: str) -> None:
        self.filters = filters
        self.page_size = page_size
        #: The cursor of the last event delivered ("" before the first: start with a snapshot).
        self.cursor = cursor

    def request(self) -> bytes:
        """The ``WatchJobsRequest`` of the next attempt: the same filter, resuming after the last event delivered."""
        return _rpc.watch_jobs_request(self.filters, self.page_size, self.cursor)

    def on_reply(self, message: bytes) -> JobsEvent:
        """The event for one ``Reply``; its cursor becomes the resume point, since the caller gets it now."""
        event = parse_jobs_event(message)
        if event.cursor:
            self.cursor = event.cursor
        return event
