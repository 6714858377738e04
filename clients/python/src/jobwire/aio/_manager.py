"""Keeps the asyncio client's one connection (the same rules as the sync ``ConnectionManager``).

Concurrent callers share one connect attempt (a task); each waits for it only
until its own deadline.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from .._core import HelloOptions
from .._tls import TLSOptions
from .._policy import Backoff, Deadline, ServerRotation, connect_failure_is_final
from ..errors import Cancelled, DeadlineExceeded, JobWireError, Reason, StatusCode
from ..models import ServerInfo
from ._connection import Connection


def _retrieve(task: asyncio.Task[Connection]) -> None:
    # A failed attempt nobody waited for any more must not be reported as "never retrieved".
    if not task.cancelled():
        task.exception()


class ConnectionManager:
    """One shared connection for many tasks."""

    def __init__(self, host: str, port: int, hello: HelloOptions, connect_timeout: float, backoff: Backoff,
                 tls: TLSOptions | None = None, fallbacks: Sequence[tuple[str, int]] = ()) -> None:
        self.host = host
        self.port = port
        self._servers = ServerRotation([(host, port), *fallbacks])
        self._hello = hello
        self._tls = tls
        self._connect_timeout = connect_timeout
        self._backoff = backoff
        self._current: Connection | None = None
        self._attempt: asyncio.Task[Connection] | None = None
        self._failures = 0
        self._next_attempt = 0.0
        self._closed = False
        #: Connections opened so far.
        self.connections_opened = 0

    @property
    def server_info(self) -> ServerInfo | None:
        return self._current.server_info if self._current is not None else None

    async def get(self, deadline: Deadline) -> Connection:
        """A usable connection, connecting (with backoff) until `deadline` if needed."""
        last_error = "no attempt fitted before the deadline"
        while True:
            if self._closed:
                raise Cancelled(StatusCode.CANCELLED, Reason.CANCELLED, "the client was closed")
            if self._current is not None and self._current.usable:
                return self._current
            remaining = deadline.remaining()
            if remaining is not None and remaining <= 0:
                raise DeadlineExceeded(StatusCode.DEADLINE_EXCEEDED, Reason.CONNECT_FAILED,
                                       f"cannot reach {self._servers.describe()} before the deadline ({last_error})")
            wait = self._next_attempt - time.monotonic()
            if wait > 0 and self._attempt is None:
                await asyncio.sleep(deadline.bound(wait))
                continue
            if self._attempt is None:
                self._attempt = asyncio.create_task(self._connect())
                self._attempt.add_done_callback(_retrieve)
            attempt = self._attempt
            try:
                async with asyncio.timeout(remaining):
                    return await asyncio.shield(attempt)
            except TimeoutError:
                continue
            except (OSError, JobWireError) as failure:
                if isinstance(failure, JobWireError) and connect_failure_is_final(failure):
                    raise
                last_error = str(failure)

    async def _connect(self) -> Connection:
        try:
            host, port = self._servers.current
            connection = await Connection.open(host, port, self._hello, self._connect_timeout, self._tls)
        except BaseException:
            if self._servers.failed():
                self._next_attempt = time.monotonic() + self._backoff.delay(self._failures)
                self._failures += 1
            raise
        finally:
            self._attempt = None
        if self._closed:
            connection.close()
            raise Cancelled(StatusCode.CANCELLED, Reason.CANCELLED, "the client was closed")
        self._current = connection
        self._servers.connected()
        self._failures = 0
        self._next_attempt = 0.0
        self.connections_opened += 1
        return connection

    def close(self) -> None:
        """Closes the connection; later calls raise ``CANCELLED``."""
        self._closed = True
        if self._attempt is not None:
            self._attempt.cancel()
        if self._current is not None:
            self._current.close()
            self._current = None
