"""An asyncio watch that survives drops, drains and restarts (the rules of the sync ``WatchStream``), for WatchJob
and WatchJobs alike.

Cancelling the task that awaits :meth:`WatchStream.next` (or calling
:meth:`WatchStream.cancel`) sends ``CancelCall``.
"""
from __future__ import annotations

import asyncio
import contextlib
from typing import Generic, TypeVar

from .._policy import Deadline, deadline_exceeded
from .._watch import Reconnects, ResumeState, retryable
from ..errors import JobWireError, Status, error_from_status
from ._connection import AsyncQueueSink, Connection
from ._manager import ConnectionManager

_CONNECT_SLICE = 1.0
E = TypeVar("E")


class WatchStream(Generic[E]):
    """:meth:`next` returns None once the call ended with OK (a watched job ended) or after :meth:`cancel`."""

    def __init__(self, manager: ConnectionManager, tenant: str, state: ResumeState[E], reconnects: Reconnects,
                 timeout: float | None) -> None:
        self._manager = manager
        self._tenant = tenant
        self._state = state
        self._reconnects = reconnects
        self._deadline = Deadline(timeout)
        self._cancelled = asyncio.Event()
        self._call: tuple[Connection, int, AsyncQueueSink] | None = None
        self._done = False

    def cancel(self) -> None:
        """Stops the watch: ``CancelCall`` on the wire, and :meth:`next` returns None."""
        self._cancelled.set()
        if self._call is not None:
            connection, stream_id, _ = self._call
            connection.cancel(stream_id)

    async def next(self) -> E | None:
        """The next event; None after the terminal one or after :meth:`cancel`."""
        try:
            return await self._next()
        except asyncio.CancelledError:
            self.cancel()
            raise

    async def _next(self) -> E | None:
        while not self._done:
            if self._cancelled.is_set():
                self._done = True
                break
            call = self._call or await self._open()
            if call is None:
                continue
            connection, stream_id, sink = call
            try:
                async with asyncio.timeout(self._deadline.local_wait()):
                    _, payload = await sink.items.get()
            except TimeoutError:
                connection.cancel(stream_id)
                self._done = True
                raise deadline_exceeded(self._state.method) from None
            if isinstance(payload, bytes):
                self._reconnects.delivered()
                event = self._state.on_reply(payload)
                if event is not None:
                    return event
            else:
                await self._end(payload)
        return None

    async def _end(self, status: Status) -> None:
        self._call = None
        if status.ok or self._cancelled.is_set():
            self._done = True
            return
        await self._retry_or_raise(error_from_status(status))

    async def _open(self) -> tuple[Connection, int, AsyncQueueSink] | None:
        try:
            wait = Deadline(self._reconnects.bound(self._deadline.bound(_CONNECT_SLICE)))
            connection = await self._manager.get(wait)
            sink = AsyncQueueSink()
            stream_id = await connection.start_call(self._state.method, self._state.request(),
                                                    self._deadline.timeout_ms(), self._tenant, sink,
                                                    self._deadline.at)
        except JobWireError as error:
            await self._retry_or_raise(error)
            return None
        self._call = (connection, stream_id, sink)
        return self._call

    async def _retry_or_raise(self, error: JobWireError) -> None:
        try:
            if self._deadline.expired():
                raise deadline_exceeded(self._state.method) from None
            if not retryable(error):
                raise error
            delay = self._reconnects.delay(error)
        except JobWireError:
            self._done = True
            raise
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._deadline.bound(delay)):
                await self._cancelled.wait()
