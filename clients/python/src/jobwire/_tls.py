"""TLS for the binary protocol (docs/SECURITY.md, "TLS").

The sync client reads on one thread while others write, which an ``ssl.SSLSocket`` does not allow (one OpenSSL
object must not read and write at once). :class:`TLSSocket` runs TLS through an ``ssl.SSLObject`` over memory BIOs
under a lock of its own, and moves the encrypted bytes over the plain socket outside it, so a receive never waits
for a send. The asyncio client uses asyncio's own TLS.
"""
from __future__ import annotations

import socket
import ssl
import threading
from dataclasses import dataclass

_READ_SIZE = 64 * 1024


@dataclass(frozen=True)
class TLSOptions:
    """How to speak TLS to the server: `context` (with the CA to trust, and a client certificate for mutual TLS)
    and the name to check its certificate against (default: the host connected to)."""

    context: ssl.SSLContext
    server_hostname: str | None = None


def client_context(ca_file: str | None = None, certificate: str | None = None, key: str | None = None) -> ssl.SSLContext:
    """A context that verifies the server against `ca_file` (default: the system's CAs), TLS 1.2 at least, with an
    optional client certificate and key for mutual TLS."""
    context = ssl.create_default_context(cafile=ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if certificate is not None:
        context.load_cert_chain(certificate, key)
    return context


class TLSSocket:
    """A connected socket, after the TLS handshake, with the few socket methods the client uses."""

    def __init__(self, sock: socket.socket, options: TLSOptions, host: str) -> None:
        self._sock = sock
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = options.context.wrap_bio(self._incoming, self._outgoing, server_side=False,
                                             server_hostname=options.server_hostname or host)
        #: The SSLObject and its BIOs.
        self._lock = threading.Lock()
        #: Encrypted bytes go to the socket in the order the SSLObject made them: taken with the lock held inside it.
        self._send_lock = threading.Lock()
        self._handshake()

    def _handshake(self) -> None:
        while True:
            try:
                with self._lock:
                    self._tls.do_handshake()
                self._send_pending()
                return
            except ssl.SSLWantReadError:
                self._send_pending()
                data = self._sock.recv(_READ_SIZE)
                if not data:
                    raise ConnectionResetError("the server closed the connection during the TLS handshake") from None
                with self._lock:
                    self._incoming.write(data)

    def _send_pending(self) -> None:
        with self._send_lock:
            with self._lock:
                data = self._outgoing.read()
            if data:
                self._sock.sendall(data)

    def sendall(self, data: bytes) -> None:
        with self._send_lock:
            with self._lock:
                self._tls.write(data)
                encrypted = self._outgoing.read()
            self._sock.sendall(encrypted)

    def recv(self, size: int) -> bytes:
        while True:
            with self._lock:
                try:
                    return self._tls.read(size)
                except ssl.SSLWantReadError:
                    pass
                except ssl.SSLZeroReturnError:
                    return b""
                answer = self._outgoing.pending > 0
            if answer:
                self._send_pending()  # e.g. a key update's answer
            data = self._sock.recv(_READ_SIZE)
            if not data:
                return b""
            with self._lock:
                self._incoming.write(data)

    def version(self) -> str | None:
        return self._tls.version()

    def getpeercert(self) -> dict | None:  # type: ignore[type-arg]
        return self._tls.getpeercert()

    def settimeout(self, timeout: float | None) -> None:
        self._sock.settimeout(timeout)

    def setsockopt(self, level: int, option: int, value: int) -> None:
        self._sock.setsockopt(level, option, value)

    def shutdown(self, how: int) -> None:
        self._sock.shutdown(how)

    def close(self) -> None:
        self._sock.close()
