"""A blocking watch that survives anything: drops, drains and server restarts.

When the call ends with a retryable status (``UNAVAILABLE``, rate limits) the
stream waits (:class:`~jobwire._watch.Reconnects`), opens a new call on a
(new) connection and resumes after the last event it delivered: the revision
of a WatchJob (:class:`~jobwire._watch.WatchState`), the cursor of a WatchJobs
(:class:`~jobwire._jobs_watch.JobsWatchState`). :meth:`WatchStream.cancel` may
be called from any thread: it sends ``CancelCall`` and wakes the consumer.
"""
from __future__ import annotations

import queue
import threading
from typing import Generic, TypeVar

from ._connection import Connection, QueueSink
from ._manager import ConnectionManager
from ._policy import Deadline, deadline_exceeded
from ._watch import Reconnects, ResumeState, retryable
from .errors import JobWireError, Status, error_from_status

E = TypeVar("E")

#: Longest single wait for a connection, so that cancel() is noticed while the server is away.
_CONNECT_SLICE = 1.0


class WatchStream(Generic[E]):
    """See the module docstring; :meth:`next` returns None once the call ended with OK (a watched job ended) or
    the stream was cancelled."""

    def __init__(self, manager: ConnectionManager, tenant: str, state: ResumeState[E], reconnects: Reconnects,
                 timeout: float | None) -> None:
        self._manager = manager
        self._tenant = tenant
        self._state = state
        self._reconnects = reconnects
        self._deadline = Deadline(timeout)
        self._cancelled = threading.Event()
        self._lock = threading.Lock()
        self._call: tuple[Connection, int, QueueSink] | None = None
        self._done = False

    def cancel(self) -> None:
        """Stops the watch (thread-safe): ``CancelCall`` on the wire, and :meth:`next` returns None."""
        self._cancelled.set()
        with self._lock:
            call = self._call
        if call is not None:
            connection, stream_id, _ = call
            connection.cancel(stream_id)

    def next(self) -> E | None:
        """The next event; None after the terminal one or after :meth:`cancel`."""
        while not self._done:
            if self._cancelled.is_set():
                self._done = True
                break
            call = self._call or self._open()
            if call is None:
                continue
            connection, stream_id, sink = call
            try:
                _, payload = sink.items.get(timeout=self._deadline.local_wait())
            except queue.Empty:
                connection.cancel(stream_id)
                self._done = True
                raise deadline_exceeded(self._state.method) from None
            if isinstance(payload, bytes):
                self._reconnects.delivered()
                event = self._state.on_reply(payload)
                if event is not None:
                    return event
            else:
                self._end(payload)
        return None

    def _end(self, status: Status) -> None:
        with self._lock:
            self._call = None
        if status.ok or self._cancelled.is_set():
            self._done = True
            return
        self._retry_or_raise(error_from_status(status))

    def _open(self) -> tuple[Connection, int, QueueSink] | None:
        """A new call resuming after the last revision; None when it should be tried again."""
        try:
            wait = Deadline(self._reconnects.bound(self._deadline.bound(_CONNECT_SLICE)))
            connection = self._manager.get(wait)
            sink = QueueSink()
            stream_id = connection.start_call(self._state.method, self._state.request(),
                                              self._deadline.timeout_ms(), self._tenant, sink, self._deadline.at)
        except JobWireError as error:
            self._retry_or_raise(error)
            return None
        with self._lock:
            self._call = (connection, stream_id, sink)
        if self._cancelled.is_set():
            connection.cancel(stream_id)
        return connection, stream_id, sink

    def _retry_or_raise(self, error: JobWireError) -> None:
        try:
            if self._deadline.expired():
                raise deadline_exceeded(self._state.method) from None
            if not retryable(error):
                raise error
            delay = self._reconnects.delay(error)
        except JobWireError:
            self._done = True
            raise
        self._cancelled.wait(self._deadline.bound(delay))
