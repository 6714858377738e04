"""One asyncio connection: a reader task feeds the shared :class:`ConnectionCore`.

Everything runs on the event loop, so the core needs no lock. Writes go into
the transport's buffer at once (so a ``CancelCall`` can be sent from a
``finally`` of a cancelled task); callers that open calls also wait for the
buffer to drain.
"""
from __future__ import annotations

import asyncio
import contextlib
import socket
import time

from .._core import ConnectionCore, HelloOptions, Phase
from .._tls import TLSOptions
from ..errors import DeadlineExceeded, Reason, Status, StatusCode, error_from_status
from ..models import ServerInfo

_READ_SIZE = 64 * 1024
_CONNECTION_LOST = Status(StatusCode.UNAVAILABLE, Reason.CONNECTION_LOST, "the server closed the connection")


class AsyncQueueSink:
    """A call's frames as ``("reply", bytes)`` and ``("end", Status)`` items in an asyncio queue."""

    def __init__(self) -> None:
        self.items: asyncio.Queue[tuple[str, bytes | Status]] = asyncio.Queue()

    def on_reply(self, message: bytes) -> None:
        self.items.put_nowait(("reply", message))

    def on_end(self, status: Status) -> None:
        self.items.put_nowait(("end", status))


class Connection:
    """A connected, handshaken connection; use :meth:`open`."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, core: ConnectionCore,
                 peer: str) -> None:
        self._reader = reader
        self._writer = writer
        self._core = core
        self._changed = asyncio.Event()
        self.peer = peer
        self._task = asyncio.create_task(self._read_loop(), name=f"jobwire-reader-{peer}")

    @classmethod
    async def open(cls, host: str, port: int, hello: HelloOptions, timeout: float,
                   tls: TLSOptions | None = None) -> Connection:
        """TCP connect and handshake within `timeout` seconds (errors as in the sync client's ``Connection.open``)."""
        started = time.monotonic()
        async with asyncio.timeout(timeout):
            if tls is None:
                reader, writer = await asyncio.open_connection(host, port)
            else:
                reader, writer = await asyncio.open_connection(host, port, ssl=tls.context,
                                                               server_hostname=tls.server_hostname or host)
        try:
            sock = writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            core = ConnectionCore(hello)
            writer.write(core.data_to_send())
            try:
                async with asyncio.timeout(max(0.001, timeout - (time.monotonic() - started))):
                    while core.phase is Phase.HANDSHAKE:
                        data = await reader.read(_READ_SIZE)
                        if not data:
                            core.connection_lost(_CONNECTION_LOST)
                            break
                        core.receive(data)
            except TimeoutError:
                raise DeadlineExceeded(StatusCode.DEADLINE_EXCEEDED, Reason.HANDSHAKE_TIMEOUT,
                                       f"no HelloAck from {host}:{port} within {timeout:g} s") from None
            if core.phase is Phase.CLOSED:
                raise error_from_status(core.close_status or _CONNECTION_LOST)
            pending = core.data_to_send()
            if pending:
                writer.write(pending)
        except BaseException:
            writer.close()
            raise
        connection = cls(reader, writer, core, f"{host}:{port}")
        core.on_change = connection._changed.set
        return connection

    # State.

    @property
    def usable(self) -> bool:
        return self._core.usable

    @property
    def server_info(self) -> ServerInfo | None:
        return self._core.server_info

    # Calls.

    async def start_call(self, method: str, request: bytes, timeout_ms: int, tenant: str, sink: AsyncQueueSink,
                         wait_until: float | None) -> int:
        """Opens a call, first waiting (until `wait_until`, monotonic) for a free stream if all are in use."""
        while self._core.usable and not self._core.has_capacity():
            remaining = None if wait_until is None else wait_until - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise DeadlineExceeded(StatusCode.DEADLINE_EXCEEDED, Reason.DEADLINE_EXCEEDED,
                                       f"{method}: no free stream on the connection before the deadline")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self._changed.wait()
        stream_id = self._core.start_call(method, request, timeout_ms, tenant, sink)
        self._write()
        try:
            with contextlib.suppress(ConnectionError):
                await self._writer.drain()
        except asyncio.CancelledError:
            # The caller never learns the stream id: without this a watch cancelled here would stay open on the wire.
            self.cancel(stream_id)
            raise
        return stream_id

    def cancel(self, stream_id: int) -> None:
        """Sends ``CancelCall`` for an open call (its sink hears ``CANCELLED``); nothing if it already ended."""
        self._core.cancel_call(stream_id)
        self._write()

    def close(self) -> None:
        """Closes the connection: calls still open end with ``UNAVAILABLE`` / ``CONNECTION_LOST``."""
        self._core.close(Status(StatusCode.UNAVAILABLE, Reason.CONNECTION_LOST, "the client closed the connection"))
        self._writer.close()
        self._task.cancel()

    # I/O.

    def _write(self) -> None:
        data = self._core.data_to_send()
        if data and not self._writer.is_closing():
            self._writer.write(data)

    async def _read_loop(self) -> None:
        try:
            while True:
                try:
                    data = await self._reader.read(_READ_SIZE)
                except OSError as failure:
                    self._core.connection_lost(Status(StatusCode.UNAVAILABLE, Reason.CONNECTION_LOST,
                                                      f"receive failed: {failure}"))
                    return
                if not data:
                    self._core.connection_lost(_CONNECTION_LOST)
                    return
                self._core.receive(data)
                if self._core.phase is Phase.CLOSED:
                    return
                self._write()
        finally:
            self._writer.close()
