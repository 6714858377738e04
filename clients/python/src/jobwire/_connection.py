"""One blocking TCP connection: a reader thread feeds the shared :class:`ConnectionCore`.

Threading: the core lives under ``self._lock`` (a Condition, notified on
every change so callers can wait for a free stream). Writes happen outside
that lock, one writer at a time under ``self._write_lock``; the reader thread
never blocks on a writer (it only tries the write lock, and a writer that
holds it sends what the reader queued before letting go), so a full socket
buffer can never stop the reader from reading.
"""
from __future__ import annotations

import queue
import socket
import threading
import time

from ._core import ConnectionCore, HelloOptions, Phase
from ._tls import TLSOptions, TLSSocket
from .errors import DeadlineExceeded, Reason, Status, StatusCode, error_from_status
from .models import ServerInfo

_READ_SIZE = 64 * 1024
_CONNECTION_LOST = Status(StatusCode.UNAVAILABLE, Reason.CONNECTION_LOST, "the server closed the connection")


class QueueSink:
    """A call's frames as ``("reply", bytes)`` and ``("end", Status)`` items in a thread-safe queue."""

    def __init__(self) -> None:
        self.items: queue.SimpleQueue[tuple[str, bytes | Status]] = queue.SimpleQueue()

    def on_reply(self, message: bytes) -> None:
        self.items.put(("reply", message))

    def on_end(self, status: Status) -> None:
        self.items.put(("end", status))


class Connection:
    """A connected, handshaken connection; use :meth:`open`."""

    def __init__(self, sock: socket.socket | TLSSocket, core: ConnectionCore, host: str, port: int) -> None:
        self._sock = sock
        self._core = core
        self._lock = threading.Condition()
        self._write_lock = threading.Lock()
        self.peer = f"{host}:{port}"
        self._reader = threading.Thread(target=self._read_loop, name=f"jobwire-reader-{self.peer}", daemon=True)
        self._reader.start()

    @classmethod
    def open(cls, host: str, port: int, hello: HelloOptions, timeout: float, tls: TLSOptions | None = None) -> Connection:
        """TCP connect and handshake within `timeout` seconds.

        Raises ``OSError`` when the server cannot be reached, the handshake's
        ``GoAway`` status as a :class:`JobWireError`, or ``DEADLINE_EXCEEDED`` /
        ``HANDSHAKE_TIMEOUT`` when no HelloAck arrives in time.
        """
        started = time.monotonic()
        plain = socket.create_connection((host, port), timeout=timeout)
        sock: socket.socket | TLSSocket = plain
        try:
            plain.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if tls is not None:
                sock = TLSSocket(plain, tls, host)
            core = ConnectionCore(hello)
            sock.sendall(core.data_to_send())
            while core.phase is Phase.HANDSHAKE:
                sock.settimeout(max(0.001, timeout - (time.monotonic() - started)))
                try:
                    data = sock.recv(_READ_SIZE)
                except socket.timeout:
                    raise DeadlineExceeded(StatusCode.DEADLINE_EXCEEDED, Reason.HANDSHAKE_TIMEOUT,
                                           f"no HelloAck from {host}:{port} within {timeout:g} s") from None
                if not data:
                    core.connection_lost(_CONNECTION_LOST)
                    break
                core.receive(data)
            if core.phase is Phase.CLOSED:
                raise error_from_status(core.close_status or _CONNECTION_LOST)
            sock.settimeout(None)
            pending = core.data_to_send()  # e.g. a Pong for a Ping that came right behind the HelloAck
            if pending:
                sock.sendall(pending)
        except BaseException:
            sock.close()
            raise
        return cls(sock, core, host, port)

    # State.

    @property
    def usable(self) -> bool:
        """True while new calls may be opened here."""
        with self._lock:
            return self._core.usable

    @property
    def server_info(self) -> ServerInfo | None:
        return self._core.server_info

    # Calls.

    def start_call(self, method: str, request: bytes, timeout_ms: int, tenant: str, sink: QueueSink,
                   wait_until: float | None) -> int:
        """Opens a call, first waiting (until `wait_until`, monotonic) for a free stream if all are in use."""
        with self._lock:
            while self._core.usable and not self._core.has_capacity():
                remaining = None if wait_until is None else wait_until - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise DeadlineExceeded(StatusCode.DEADLINE_EXCEEDED, Reason.DEADLINE_EXCEEDED,
                                           f"{method}: no free stream on the connection before the deadline")
                self._lock.wait(remaining)
            stream_id = self._core.start_call(method, request, timeout_ms, tenant, sink)
        self._flush(blocking=True)
        return stream_id

    def cancel(self, stream_id: int) -> None:
        """Sends ``CancelCall`` for an open call (its sink hears ``CANCELLED``); nothing if it already ended."""
        with self._lock:
            self._core.cancel_call(stream_id)
            self._lock.notify_all()
        self._flush(blocking=True)

    def close(self) -> None:
        """Closes the connection: calls still open end with ``UNAVAILABLE`` / ``CONNECTION_LOST``."""
        with self._lock:
            self._core.close(Status(StatusCode.UNAVAILABLE, Reason.CONNECTION_LOST, "the client closed the connection"))
            self._lock.notify_all()
        self._shutdown()

    # I/O.

    def _read_loop(self) -> None:
        try:
            while True:
                try:
                    data = self._sock.recv(_READ_SIZE)
                except OSError as failure:
                    self._lost(Status(StatusCode.UNAVAILABLE, Reason.CONNECTION_LOST, f"receive failed: {failure}"))
                    return
                if not data:
                    self._lost(_CONNECTION_LOST)
                    return
                with self._lock:
                    self._core.receive(data)
                    closed = self._core.phase is Phase.CLOSED
                    self._lock.notify_all()
                if closed:
                    self._shutdown()
                    return
                self._flush(blocking=False)
        finally:
            # Writers hold the write lock while they use the socket; after the shutdown they fail fast.
            acquired = self._write_lock.acquire(timeout=1.0)
            try:
                self._sock.close()
            finally:
                if acquired:
                    self._write_lock.release()

    def _flush(self, blocking: bool) -> None:
        """Writes what the core has queued. See the module docstring for why this never deadlocks."""
        while True:
            if not self._write_lock.acquire(blocking=blocking):
                return  # the writer that holds the lock sends our bytes before it lets go
            try:
                while True:
                    with self._lock:
                        data = self._core.data_to_send()
                    if not data:
                        break
                    try:
                        self._sock.sendall(data)
                    except OSError as failure:
                        self._lost(Status(StatusCode.UNAVAILABLE, Reason.CONNECTION_LOST, f"send failed: {failure}"))
                        self._shutdown()
                        return
            finally:
                self._write_lock.release()
            with self._lock:
                if not self._core.has_output():
                    return

    def _lost(self, status: Status) -> None:
        with self._lock:
            self._core.connection_lost(status)
            self._lock.notify_all()

    def _shutdown(self) -> None:
        # Wakes the reader thread, which closes the socket; safe to call more than once.
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
