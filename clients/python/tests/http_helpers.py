"""The HTTP side of the test helpers: headers, the error body, and an event-stream reader on a raw socket."""
from __future__ import annotations

import json
import socket
import time
from typing import Any


def _header_dict(headers: list[tuple[str, str]]) -> dict[str, str]:
    """Headers by lower-case name; a repeated header's values joined with ", " (RFC 9110)."""
    joined: dict[str, str] = {}
    for name, value in headers:
        name = name.lower()
        joined[name] = f"{joined[name]}, {value}" if name in joined else value
    return joined


def error_of(body: Any) -> tuple[str, str]:
    """(code, reason) of the JSON error body every route answers, after checking its shape:
    ``{"error": {"code", "reason", "message"}}`` (and ``retry_after_ms`` when the server asks to wait)."""
    assert isinstance(body, dict) and list(body) == ["error"], body
    error = body["error"]
    assert isinstance(error, dict) and list(error)[:3] == ["code", "reason", "message"], error
    assert set(error) <= {"code", "reason", "message", "retry_after_ms"}, error
    assert all(isinstance(error[name], str) for name in ("code", "reason", "message")), error
    assert error["message"], "every error says what went wrong"
    return error["code"], error["reason"]


class EventStream:
    """One Server-Sent Events response read off a raw socket: its status and headers, then its events.

    Each event is a dict: ``id`` (None when the event had no ``id:`` line), ``event`` (``message`` when unnamed)
    and ``data`` parsed as JSON. Comments (``: heartbeat``) and ``retry:`` lines are skipped. :meth:`next` returns
    None once the response ended: the chunked body's last chunk, or the connection closing.
    """

    def __init__(self, sock: socket.socket, timeout: float) -> None:
        self.sock = sock
        self.timeout = timeout
        self.status = 0
        self.headers: dict[str, str] = {}
        #: Set when the body ended with the last chunk; `closed_by_server` when the connection closed instead.
        self.ended = False
        self.closed_by_server = False
        self.comments: list[str] = []
        self.retry_advice: list[int] = []
        self._raw = b""
        self._text = b""
        self._chunked = False
        self._remaining: int | None = None
        self._deadline = 0.0

    @classmethod
    def open(cls, port: int, path: str, headers: dict[str, str] | None, api_key: str | None,
             timeout: float) -> EventStream:
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        stream = cls(sock, timeout)
        sent = {"Host": f"127.0.0.1:{port}", "Accept": "text/event-stream", **(headers or {})}
        if api_key is not None:
            sent["Authorization"] = f"Bearer {api_key}"
        head = f"GET {path} HTTP/1.1\r\n" + "".join(f"{name}: {value}\r\n" for name, value in sent.items()) + "\r\n"
        sock.sendall(head.encode())
        stream._read_head()
        return stream

    def _receive(self) -> bytes:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no event within {self.timeout} s")
        self.sock.settimeout(remaining)
        try:
            return self.sock.recv(65536)
        except socket.timeout:
            raise AssertionError(f"no event within {self.timeout} s") from None
        except ConnectionResetError:
            return b""

    def _read_head(self) -> None:
        self._deadline = time.monotonic() + self.timeout
        while b"\r\n\r\n" not in self._raw:
            chunk = self._receive()
            if not chunk:
                raise AssertionError(f"the connection closed before a response head: {self._raw!r}")
            self._raw += chunk
        head, self._raw = self._raw.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split(" ")[1])
        self.headers = _header_dict([tuple(line.split(":", 1)) for line in lines[1:]])  # type: ignore[misc]
        self.headers = {name: value.strip() for name, value in self.headers.items()}
        self._chunked = "chunked" in self.headers.get("transfer-encoding", "").lower()
        if "content-length" in self.headers:
            self._remaining = int(self.headers["content-length"])
        elif self.status in (204, 304):
            self._remaining = 0

    def _more_body(self) -> bool:
        """Moves decoded body bytes into the event text; False once the body ended."""
        if self.ended or self.closed_by_server:
            return False
        while True:
            if self._chunked:
                if b"\r\n" in self._raw:
                    size_line, rest = self._raw.split(b"\r\n", 1)
                    size = int(size_line.split(b";")[0], 16)
                    if size == 0:
                        self.ended = True
                        return False
                    if len(rest) >= size + 2:
                        assert rest[size:size + 2] == b"\r\n", f"a chunk does not end with CRLF: {rest[:size + 8]!r}"
                        self._text += rest[:size]
                        self._raw = rest[size + 2:]
                        return True
            elif self._remaining is not None:
                if self._remaining == 0:
                    self.ended = True
                    return False
                if self._raw:
                    taken = self._raw[:self._remaining]
                    self._raw = self._raw[len(taken):]
                    self._remaining -= len(taken)
                    self._text += taken
                    return True
            elif self._raw:
                self._text += self._raw
                self._raw = b""
                return True
            chunk = self._receive()
            if not chunk:
                self.closed_by_server = True
                return False
            self._raw += chunk

    def next(self, timeout: float | None = None) -> dict[str, Any] | None:
        """The next event, or None once the response ended; fails after `timeout` (default: the stream's) s without
        one."""
        self._deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        fields: dict[str, Any] = {}
        data: list[str] = []
        while True:
            while b"\n" not in self._text:
                if not self._more_body():
                    if self._text:
                        raise AssertionError(f"the stream ended inside an event: {self._text!r}")
                    return None
            raw_line, self._text = self._text.split(b"\n", 1)
            line = raw_line.decode().rstrip("\r")
            if line == "":
                if data:
                    return {"id": fields.get("id"), "event": fields.get("event", "message"),
                            "data": json.loads("\n".join(data))}
                fields = {}
                continue
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data":
                data.append(value)
            elif name == "retry":
                self.retry_advice.append(int(value))
            elif name in ("id", "event"):
                fields[name] = value
            else:
                raise AssertionError(f"an unknown event stream field: {line!r}")

    def take(self, count: int, skip: tuple[str, ...] = ("bookmark",)) -> list[dict[str, Any]]:
        """The next `count` events other than those named in `skip`; fails if the stream ends first."""
        taken: list[dict[str, Any]] = []
        while len(taken) < count:
            event = self.next()
            assert event is not None, f"the stream ended after {taken}"
            if event["event"] not in skip:
                taken.append(event)
        return taken

    def until_end(self, skip: tuple[str, ...] = ("bookmark",)) -> list[dict[str, Any]]:
        """Every event up to the end of the response."""
        events: list[dict[str, Any]] = []
        while (event := self.next()) is not None:
            if event["event"] not in skip:
                events.append(event)
        return events

    def rest(self) -> bytes:
        """The body bytes left (for a response that is not an event stream), read until it ends."""
        self._deadline = time.monotonic() + self.timeout
        while self._more_body():
            pass
        text, self._text = self._text, b""
        return text

    def close(self) -> None:
        self.sock.close()
