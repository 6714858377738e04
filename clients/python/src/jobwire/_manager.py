"""Keeps the sync client's one connection: opens it on first use, replaces it after a drop or GoAway.

Calls wait for a connection until their deadline (gRPC's wait-for-ready), with
backoff between attempts; a handshake the server refuses for good (bad key,
protocol version, connection limit) raises at once.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from ._connection import Connection
from ._core import HelloOptions
from ._tls import TLSOptions
from ._policy import Backoff, Deadline, ServerRotation, connect_failure_is_final
from .errors import Cancelled, DeadlineExceeded, JobWireError, Reason, StatusCode
from .models import ServerInfo


class ConnectionManager:
    """One shared connection for many threads; concurrent callers share one connect attempt."""

    def __init__(self, host: str, port: int, hello: HelloOptions, connect_timeout: float, backoff: Backoff,
                 tls: TLSOptions | None = None, fallbacks: Sequence[tuple[str, int]] = ()) -> None:
        self.host = host
        self.port = port
        self._servers = ServerRotation([(host, port), *fallbacks])
        self._hello = hello
        self._tls = tls
        self._connect_timeout = connect_timeout
        self._backoff = backoff
        self._lock = threading.Lock()
        self._connecting = threading.Lock()
        self._current: Connection | None = None
        self._failures = 0
        self._next_attempt = 0.0
        self._closed = False
        #: Connections opened so far (a client that multiplexes keeps this at 1).
        self.connections_opened = 0

    @property
    def server_info(self) -> ServerInfo | None:
        current = self._current
        return current.server_info if current is not None else None

    def get(self, deadline: Deadline) -> Connection:
        """A usable connection, connecting (with backoff) until `deadline` if needed."""
        last_error = "no attempt fitted before the deadline"
        while True:
            current = self._usable()
            if current is not None:
                return current
            remaining = deadline.remaining()
            if remaining is not None and remaining <= 0:
                raise self._unreachable(last_error)
            if not self._connecting.acquire(timeout=-1 if remaining is None else remaining):
                continue
            try:
                current = self._usable()
                if current is not None:
                    return current
                wait = self._next_attempt - time.monotonic()
                if wait > 0:
                    time.sleep(deadline.bound(wait))
                    continue
                timeout = deadline.bound(self._connect_timeout)
                if timeout <= 0:
                    continue
                try:
                    host, port = self._servers.current
                    connection = Connection.open(host, port, self._hello, timeout, self._tls)
                except (OSError, JobWireError) as failure:
                    if isinstance(failure, JobWireError) and connect_failure_is_final(failure):
                        raise
                    last_error = str(failure)
                    if self._servers.failed():
                        self._next_attempt = time.monotonic() + self._backoff.delay(self._failures)
                        self._failures += 1
                    continue
                with self._lock:
                    if self._closed:
                        connection.close()
                        raise self._closed_error()
                    self._current = connection
                    self._servers.connected()
                    self._failures = 0
                    self._next_attempt = 0.0
                    self.connections_opened += 1
                return connection
            finally:
                self._connecting.release()

    def _usable(self) -> Connection | None:
        with self._lock:
            if self._closed:
                raise self._closed_error()
            current = self._current
        if current is not None and current.usable:
            return current
        return None

    def _unreachable(self, detail: str) -> DeadlineExceeded:
        return DeadlineExceeded(StatusCode.DEADLINE_EXCEEDED, Reason.CONNECT_FAILED,
                                f"cannot reach {self._servers.describe()} before the deadline ({detail})")

    @staticmethod
    def _closed_error() -> Cancelled:
        return Cancelled(StatusCode.CANCELLED, Reason.CANCELLED, "the client was closed")

    def close(self) -> None:
        """Closes the connection; later calls raise ``CANCELLED``."""
        with self._lock:
            self._closed = True
            current, self._current = self._current, None
        if current is not None:
            current.close()
